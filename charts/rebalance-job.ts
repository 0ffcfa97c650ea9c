/**
 * The rebalance Job: the app's `rebalance` command (app/kafka/rebalance-command.ts) run in the cluster, where
 * MSK is reachable with the pod's IAM identity, after brokers grew. The staged runner creates it (with its
 * ServiceAccount, which EKS Pod Identity binds to the rebalancer role of cdk/workload-identity.ts), waits for
 * it, and reads the leaders per broker from its termination message.
 *
 * Its pods carry the schema Job's selector labels: the schema's NetworkPolicy (DNS, the Kafka ports of the data
 * plane, AWS APIs) is the egress they need, and the data plane's CIDRs are known only to the CDK app that
 * synthesized that policy. The image, the Kafka endpoints and the auth settings are the detector Deployment's,
 * read from the cluster, so the Job reaches the brokers exactly as the pipeline does.
 */
import { App, Chart } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import { serviceAccounts } from "../cdk/workload-names.ts";
import { components, objectLabels } from "./names.ts";
import { guaranteedResources, restrictedContainerSecurityContext, restrictedPodSecurityContext, scratchVolume } from "./pod-security.ts";

export const rebalanceJobSettings = {
  /** Retries of a failed pod (a broker restarting mid-reassignment); the command is idempotent. */
  backoffLimit: 2,
  ttlSecondsAfterFinished: 24 * 3600,
  cpu: "250m",
  memoryMiB: 256,
} as const;

export interface RebalanceJobProps {
  readonly namespace: string;
  /** Unique per run (the stage), as a finished Job cannot be run again. */
  readonly name: string;
  readonly image: string;
  readonly uid: number;
  /** The detector container's environment: Kafka endpoints and auth, region, log level. */
  readonly env: readonly { readonly name: string; readonly value?: string }[];
}

export interface K8sManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

/** The ServiceAccount (created if missing) and the Job, as the Kubernetes API takes them. */
export function rebalanceJobManifests(props: RebalanceJobProps): K8sManifest[] {
  const chart = new Chart(new App(), "rebalance");
  const labels = { ...objectLabels(components.schema, { "app.kubernetes.io/component": "partition-rebalancer" }) };
  new k8s.KubeServiceAccount(chart, "service-account", {
    metadata: { name: serviceAccounts.rebalancer, namespace: props.namespace, labels },
    automountServiceAccountToken: false,
  });
  new k8s.KubeJob(chart, "job", {
    metadata: { name: props.name, namespace: props.namespace, labels },
    spec: {
      backoffLimit: rebalanceJobSettings.backoffLimit,
      ttlSecondsAfterFinished: rebalanceJobSettings.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: serviceAccounts.rebalancer,
          // EKS Pod Identity hands the pod its AWS credentials through the token.
          automountServiceAccountToken: true,
          securityContext: restrictedPodSecurityContext(props.uid),
          restartPolicy: "Never",
          containers: [
            {
              name: "rebalance",
              image: props.image,
              args: ["rebalance"],
              env: props.env.map((e) => ({ ...e })),
              resources: guaranteedResources(rebalanceJobSettings.cpu, rebalanceJobSettings.memoryMiB),
              securityContext: restrictedContainerSecurityContext(),
              terminationMessagePolicy: "File",
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [scratchVolume("tmp", "16Mi")],
        },
      },
    },
  });
  return chart.toJson() as K8sManifest[];
}
