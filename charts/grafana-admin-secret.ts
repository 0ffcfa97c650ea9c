/**
 * Grafana's admin password: a random value generated inside the cluster, in a Kubernetes Secret that neither git,
 * the synthesized manifests nor the CloudFormation template ever hold. A Job creates it once per namespace; the
 * Grafana pod mounts it (and waits, not started, until it exists). The user reads it with
 *
 *   kubectl -n <namespace> get secret grafana-admin -o jsonpath='{.data.password}' | base64 -d
 *
 * Why a Job in the cluster rather than a Secret the user creates first, or one from the CDK app: the CDK app
 * could only pass a value through the template (or the kubectl Lambda's logs), and a user step before the first
 * apply would leave Grafana down after every `cdk deploy` until someone runs it. The Job runs the kit's own image
 * (Node, no extra image to pin) with a short script; an existing Secret is kept (HTTP 409), so re-applying or a
 * new Job never changes a password the user already has.
 */
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { contentNamed, type TokenResolver } from "./job-name.ts";
import { allowOnly, clusterDns, kubernetesApi } from "./network-policy.ts";
import { components, objectLabels } from "./names.ts";
import { guaranteedResources, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./pod-security.ts";

export const grafanaAdmin = {
  /** Grafana's admin login. */
  user: "admin",
  /** The Secret and its key holding the password. */
  secretName: "grafana-admin",
  secretKey: "password",
  /** Random bytes of the password (base64url: 32 characters). */
  passwordBytes: 24,
} as const;

/** Where the pod's ServiceAccount token and the cluster CA are mounted (Kubernetes' fixed paths). */
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The script the Job runs with `node -e` (CommonJS, Node's global fetch). It POSTs the Secret and treats
 * 201 Created and 409 AlreadyExists as success; anything else exits 1 with the API's reason and message.
 * The password is made here, in the pod, and never printed. KUBERNETES_API_URL and SERVICE_ACCOUNT_TOKEN_FILE
 * exist for the test, which points them at a recorded API; the pod uses the defaults.
 */
export const adminSecretScript = `
const { randomBytes } = require("node:crypto");
const { readFileSync } = require("node:fs");
const env = process.env;
const api = env.KUBERNETES_API_URL || "https://kubernetes.default.svc";
const tokenFile = env.SERVICE_ACCOUNT_TOKEN_FILE || "${serviceAccountDir}/token";
const namespace = env.SECRET_NAMESPACE, name = env.SECRET_NAME, key = env.SECRET_KEY;
const password = randomBytes(Number(env.PASSWORD_BYTES)).toString("base64url");
const secret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace, labels: JSON.parse(env.SECRET_LABELS) },
  type: "Opaque",
  data: { [key]: Buffer.from(password).toString("base64") },
};
const where = "secret " + namespace + "/" + name;
fetch(api + "/api/v1/namespaces/" + encodeURIComponent(namespace) + "/secrets", {
  method: "POST",
  headers: { authorization: "Bearer " + readFileSync(tokenFile, "utf8").trim(), "content-type": "application/json" },
  body: JSON.stringify(secret),
}).then(async (res) => {
  if (res.status === 201) return console.log("created " + where);
  const status = await res.json().catch(() => ({}));
  if (res.status === 409 && status.reason === "AlreadyExists") return console.log(where + " exists; kept as it is");
  console.error("creating " + where + ": HTTP " + res.status + " " + (status.reason || "") + ": " + (status.message || ""));
  process.exitCode = 1;
}, (e) => {
  console.error("creating " + where + ": " + e.message + (e.cause ? " (" + e.cause.message + ")" : ""));
  process.exitCode = 1;
});
`.trim();

export const adminSecretJobSettings = {
  /** Retries (10 s, 20 s, 40 s, ... apart) while the API server or the network policy agent is not there yet. */
  backoffLimit: 6,
  ttlSecondsAfterFinished: 24 * 3600,
  cpu: "100m",
  memoryMiB: 128,
} as const;

export interface AdminSecretJobProps {
  readonly namespace: string;
  /** The kit's app image: it has `node` on its PATH (Dockerfile: node:24-slim). */
  readonly image: string;
  readonly uid: number;
  /** Changes with the image's content; part of the Job's name, as a Job's template cannot change in place. */
  readonly revision: string;
  /** Reads the deploy-time values in the template for the name's hash (ChartOptions.resolveTokens). */
  readonly resolveTokens?: TokenResolver;
}

/**
 * The Job with its own ServiceAccount, a Role that may only create Secrets in the namespace (RBAC cannot limit
 * `create` to one name), and a NetworkPolicy: DNS and the API server out, nothing in.
 */
export function grafanaAdminSecretJob(scope: Construct, props: AdminSecretJobProps): k8s.KubeJob {
  const { namespace } = props;
  const component = components.grafanaAdminSecret;
  const labels = { ...objectLabels(component) };

  new k8s.KubeServiceAccount(scope, `${component}-service-account`, {
    metadata: { name: component, namespace, labels },
    automountServiceAccountToken: false,
  });
  new k8s.KubeRole(scope, `${component}-role`, {
    metadata: { name: component, namespace, labels },
    rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["create"] }],
  });
  new k8s.KubeRoleBinding(scope, `${component}-role-binding`, {
    metadata: { name: component, namespace, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: component },
    subjects: [{ kind: "ServiceAccount", name: component, namespace }],
  });

  const env: Record<string, string> = {
    SECRET_NAMESPACE: namespace,
    SECRET_NAME: grafanaAdmin.secretName,
    SECRET_KEY: grafanaAdmin.secretKey,
    SECRET_LABELS: JSON.stringify(objectLabels(components.grafana)),
    PASSWORD_BYTES: String(grafanaAdmin.passwordBytes),
    // The API server's certificate is signed by the cluster CA, which Node does not know otherwise.
    NODE_EXTRA_CA_CERTS: `${serviceAccountDir}/ca.crt`,
  };
  const template: k8s.PodTemplateSpec = {
    metadata: { labels: { ...labels } },
    spec: {
      serviceAccountName: component,
      automountServiceAccountToken: true,
      securityContext: restrictedPodSecurityContext(props.uid),
      restartPolicy: "Never",
      containers: [
        {
          name: component,
          image: props.image,
          command: ["node", "-e", adminSecretScript],
          env: Object.entries(env).map(([name, value]) => ({ name, value })),
          resources: guaranteedResources(adminSecretJobSettings.cpu, adminSecretJobSettings.memoryMiB),
          securityContext: restrictedContainerSecurityContext(),
        },
      ],
    },
  };
  const job = new k8s.KubeJob(scope, `${component}-job`, {
    metadata: { name: contentNamed(component, { template, revision: props.revision }, props.resolveTokens), namespace, labels },
    spec: {
      backoffLimit: adminSecretJobSettings.backoffLimit,
      ttlSecondsAfterFinished: adminSecretJobSettings.ttlSecondsAfterFinished,
      template,
    },
  });
  allowOnly(scope, namespace, component, { ingress: [], egress: [clusterDns, kubernetesApi] });
  return job;
}
