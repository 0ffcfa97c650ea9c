/**
 * `npm run synth:k8s`: writes the charts as plain manifests for `kubectl apply` on any cluster, sized by the
 * same parameters as the CDK app (`--preset stage-12`, `--cassandraNodes 12`, ...; validated by the size model,
 * so the errors are the CDK's). Without size flags it writes every preset.
 *
 *   dist/k8s/<preset or size>/01-namespace.yaml ... 06-pipeline.yaml   (apply in file order)
 *
 * The Prometheus Operator CRDs are not included: install them first (charts/README.md).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Yaml } from "cdk8s";
import { Command } from "commander";
import { kafkaAuthKinds, type KafkaAuthKind } from "../app/config.ts";
import { presets, sizeInputKeys, type PresetName } from "../cdk/size/size-input.ts";
import { sizePlanFrom, type SizePlan } from "../cdk/size/size-plan.ts";
import { buildCharts, type ChartOptions, type KitCharts } from "./index.ts";
import { defaultAppImage, defaultTracingSampleRatio } from "./options.ts";

export interface SynthesizedManifest {
  readonly chart: keyof KitCharts;
  readonly file: string;
  readonly objects: readonly Record<string, unknown>[];
  readonly yaml: string;
}

/** The charts of one size, as the manifests `kubectl apply` takes, in apply order. */
export function synthesizeManifests(plan: SizePlan, options: ChartOptions): SynthesizedManifest[] {
  const charts = buildCharts(new App(), plan, options);
  return (Object.keys(charts) as (keyof KitCharts)[]).map((name, i) => {
    const objects = charts[name].toJson() as Record<string, unknown>[];
    return { chart: name, file: `${String(i + 1).padStart(2, "0")}-${charts[name].node.id}.yaml`, objects, yaml: Yaml.stringify(...objects) };
  });
}

/** Placeholders for a cluster whose Kafka and Cassandra the user names with flags. */
export const standaloneEndpoints = { kafkaBrokers: "kafka:9092", cassandraContactPoints: "cassandra:9042" } as const;

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(",").filter((s) => s !== ""));

export function main(argv: readonly string[]): void {
  const command = new Command("synth:k8s")
    .description("write the kit's Kubernetes manifests under dist/k8s/<preset or size>/")
    .option("--out <dir>", "output directory", "dist/k8s")
    // Not --kafka-brokers: that is the size parameter (the broker count).
    .option("--kafka-bootstrap <list>", "Kafka bootstrap servers, host:port,...", standaloneEndpoints.kafkaBrokers)
    .option("--cassandra-contact-points <list>", "Cassandra contact points, host:port,...", standaloneEndpoints.cassandraContactPoints)
    .option("--cassandra-local-dc <name>", "the Cassandra data centre of the detectors")
    .option("--kafka-auth <kind>", `Kafka authentication: ${kafkaAuthKinds.join(" or ")} (aws-iam: MSK IAM over TLS, needs --aws-region)`)
    .option("--aws-region <region>", "AWS region of the MSK IAM auth tokens")
    .option("--cassandra-username <name>", "Cassandra role of the detector (with --cassandra-password-secret-arn)")
    .option("--cassandra-password-secret-arn <arn>", "Secrets Manager secret holding that role's password")
    .option("--kafka-monitoring-hosts <list>", "MSK broker hosts to scrape (open monitoring ports)")
    .option("--cassandra-exporter-hosts <list>", "Cassandra hosts whose exporters to scrape")
    .option("--data-plane-cidrs <list>", "CIDRs of the Kafka and Cassandra subnets (limits the pods' egress)")
    .option("--no-aws-apis", "the cluster is not EKS: no egress to the Pod Identity agent and AWS APIs")
    .option("--image <image>", "the app's container image", defaultAppImage.image)
    .option("--tracing-sample-ratio <r>", "fraction of events traced", String(defaultTracingSampleRatio));
  for (const key of sizeInputKeys) command.option(`--${key} <value>`, `size parameter ${key} (as CDK context -c ${key}=...)`);
  command.parse([...argv], { from: "user" });
  const o = command.opts<Record<string, string | undefined>>();

  const options: ChartOptions = {
    endpoints: {
      kafkaBrokers: o.kafkaBootstrap!,
      cassandraContactPoints: o.cassandraContactPoints!,
      cassandraLocalDataCenter: o.cassandraLocalDc,
      kafkaAuth: o.kafkaAuth as KafkaAuthKind | undefined,
      awsRegion: o.awsRegion,
      cassandraUsername: o.cassandraUsername,
      cassandraPasswordSecretArn: o.cassandraPasswordSecretArn,
      kafkaMonitoringHosts: list(o.kafkaMonitoringHosts),
      cassandraExporterHosts: list(o.cassandraExporterHosts),
      dataPlaneCidrs: list(o.dataPlaneCidrs),
      awsApis: (o.awsApis as unknown) !== false,
    },
    app: { image: o.image! },
    tracingSampleRatio: Number(o.tracingSampleRatio),
  };
  const sizeRaw: Record<string, string> = {};
  for (const key of sizeInputKeys) if (o[key] !== undefined) sizeRaw[key] = o[key];
  const runs: { dir: string; raw: Record<string, unknown> }[] =
    Object.keys(sizeRaw).length === 0
      ? (Object.keys(presets) as PresetName[]).map((preset) => ({ dir: preset, raw: { preset } }))
      : [{ dir: "", raw: sizeRaw }];

  for (const run of runs) {
    let plan: SizePlan;
    try {
      plan = sizePlanFrom(run.raw);
    } catch (e) {
      console.error(`error: ${(e as Error).message}`);
      process.exitCode = 1;
      return;
    }
    let manifests: SynthesizedManifest[];
    try {
      manifests = synthesizeManifests(plan, options);
    } catch (e) {
      // A bad endpoint flag: the app's own configuration message names the setting and what is allowed.
      console.error(`error: ${(e as Error).message}`);
      process.exitCode = 1;
      return;
    }
    const onlyPreset = Object.keys(run.raw).length === 1 && typeof run.raw.preset === "string";
    const dirName =
      run.dir !== "" ? run.dir : onlyPreset ? String(run.raw.preset) : `cassandra-${plan.cassandra.nodes}-kafka-${plan.kafka.brokers}-workers-${plan.eks.workerNodes}`;
    const dir = resolve(o.out!, dirName);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const m of manifests) writeFileSync(join(dir, m.file), m.yaml);
    const count = manifests.reduce((n, m) => n + m.objects.length, 0);
    console.log(
      `${dir}: ${manifests.length} manifests, ${count} objects (detector ${plan.detector.pods} pods, load ${plan.load.ratePerSecond}/s)`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
