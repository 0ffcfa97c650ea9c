/** Shared inputs of the chart tests: every preset, synthesized with endpoints that exercise every option. */
import { presets, type PresetName } from "../../cdk/size/size-input.ts";
import { sizePlanFrom, type SizePlan } from "../../cdk/size/size-plan.ts";
import type { ChartOptions } from "../../charts/index.ts";
import { synthesizeManifests, type SynthesizedManifest } from "../../charts/synth.ts";

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
};

export const presetNames = Object.keys(presets) as PresetName[];

/** Endpoints as the CDK app would give them, with the optional scrape targets and CIDRs. */
export const fullOptions: ChartOptions = {
  endpoints: {
    kafkaBrokers: "b-1.kafka.example.internal:9098,b-2.kafka.example.internal:9098,b-3.kafka.example.internal:9098",
    cassandraContactPoints: "10.0.1.10:9042,10.0.2.10:9042,10.0.3.10:9042",
    cassandraLocalDataCenter: "us-east-1",
    kafkaAuth: "aws-iam",
    awsRegion: "us-east-1",
    cassandraUsername: "detector",
    cassandraPasswordSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:DetectorPassword-AbCdEf",
    kafkaMonitoringHosts: ["b-1.kafka.example.internal", "b-2.kafka.example.internal", "b-3.kafka.example.internal"],
    cassandraExporterHosts: ["10.0.1.10", "10.0.2.10", "10.0.3.10"],
    dataPlaneCidrs: ["10.0.0.0/16"],
  },
  app: { image: "registry.example/anomaly-kit:test", revision: "test" },
};

export interface PresetManifests {
  readonly preset: PresetName;
  readonly plan: SizePlan;
  readonly manifests: SynthesizedManifest[];
  readonly objects: K8sObject[];
}

const cache = new Map<string, PresetManifests>();

export function presetManifests(preset: PresetName, options: ChartOptions = fullOptions): PresetManifests {
  const key = `${preset}:${options === fullOptions ? "full" : JSON.stringify(options)}`;
  let entry = cache.get(key);
  if (entry === undefined) {
    const plan = sizePlanFrom({ preset });
    const manifests = synthesizeManifests(plan, options);
    entry = { preset, plan, manifests, objects: manifests.flatMap((m) => m.objects as K8sObject[]) };
    cache.set(key, entry);
  }
  return entry;
}

export const find = (objects: readonly K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};

/** The pod spec of a workload object (Deployment or Job), for the pod-level checks. */
export type PodSpec = {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  [key: string]: unknown;
};
export type Container = {
  name: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext?: Record<string, unknown>;
  ports?: { name?: string; containerPort: number }[];
  [key: string]: unknown;
};

export const podSpecOf = (deployment: K8sObject): PodSpec => (deployment.spec as { template: { spec: PodSpec } }).template.spec;

/** The container's literal env vars (those set from the pod's own fields at run time are left out). */
export const envOf = (container: Container): Record<string, string> =>
  Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

/** Env vars set from the pod's own fields (downward API): name → field path. */
export const envFromPodOf = (container: Container): Record<string, string> =>
  Object.fromEntries((container.env ?? []).flatMap((e) => (e.valueFrom?.fieldRef ? [[e.name, e.valueFrom.fieldRef.fieldPath]] : [])));
