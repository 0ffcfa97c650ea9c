/**
 * The schema Job: runs the app's `schema` command once per deployment (topics, keyspace, table; idempotent),
 * so 44 detector pods do not race each other with DDL. The detectors start alongside it and wait, not ready,
 * until the table exists (`DETECTOR_CREATE_SCHEMA=false`).
 *
 * A Job's pod template cannot be changed in place, so the name carries a hash of the template and the image
 * revision (job-name.ts): a new image or new settings make a new Job; the old one is pruned by the CDK's apply
 * or removed by its TTL.
 */
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { contentNamed, type TokenResolver } from "./job-name.ts";
import { components, objectLabels } from "./names.ts";
import { guaranteedResources, restrictedContainerSecurityContext, restrictedPodSecurityContext, scratchVolume } from "./pod-security.ts";

export const schemaJobSettings = {
  /** Pod retries before the Job fails (Kubernetes backs off 10 s, 20 s, 40 s, ... between them). */
  backoffLimit: 4,
  /** A finished Job (and its pod's log) stays this long for `kubectl logs`, then is deleted. */
  ttlSecondsAfterFinished: 24 * 3600,
  cpu: "500m",
  memoryMiB: 256,
  /** The app's exit code for a configuration error: no retry would fix it. */
  configErrorExitCode: 2,
} as const;

export interface SchemaJobProps {
  readonly namespace: string;
  readonly image: string;
  readonly args: readonly string[];
  readonly uid: number;
  /** Changes with the image's content (see AppImage.revision); part of the name. */
  readonly revision: string;
  /** The ServiceAccount whose AWS role may create the topics and read the Cassandra password (the detector's). */
  readonly serviceAccountName: string;
  readonly mountServiceAccountToken: boolean;
  readonly env: Readonly<Record<string, string>>;
  /** Reads the deploy-time values in the template for the name's hash (ChartOptions.resolveTokens). */
  readonly resolveTokens?: TokenResolver;
}

export function schemaJob(scope: Construct, props: SchemaJobProps): k8s.KubeJob {
  const component = components.schema;
  const labels = { ...objectLabels(component) };
  const template: k8s.PodTemplateSpec = {
    metadata: { labels: { ...labels } },
    spec: {
      serviceAccountName: props.serviceAccountName,
      automountServiceAccountToken: props.mountServiceAccountToken,
      securityContext: restrictedPodSecurityContext(props.uid),
      restartPolicy: "Never",
      containers: [
        {
          name: component,
          image: props.image,
          args: [...props.args],
          env: Object.entries(props.env).map(([name, value]) => ({ name, value })),
          resources: guaranteedResources(schemaJobSettings.cpu, schemaJobSettings.memoryMiB),
          securityContext: restrictedContainerSecurityContext(),
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [scratchVolume("tmp", "16Mi")],
    },
  };
  const name = contentNamed(component, { template, revision: props.revision }, props.resolveTokens);
  return new k8s.KubeJob(scope, `${component}-job`, {
    metadata: { name, namespace: props.namespace, labels },
    spec: {
      backoffLimit: schemaJobSettings.backoffLimit,
      ttlSecondsAfterFinished: schemaJobSettings.ttlSecondsAfterFinished,
      // A bad setting exits 2 (app/main.ts): fail at once instead of retrying what cannot succeed.
      podFailurePolicy: {
        rules: [
          {
            action: "FailJob",
            onExitCodes: { containerName: component, operator: "In", values: [schemaJobSettings.configErrorExitCode] },
          },
        ],
      },
      template,
    },
  });
}
