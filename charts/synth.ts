/**
 * `npm run synth:k8s`: writes the charts as plain manifests for `kubectl apply` on any cluster, sized by the
 * same parameters as the CDK app (`--preset stage-12`, `--cassandraNodes 12`, ...; validated by the size model,
 * so the errors are the CDK's). Without size flags it writes every preset.
 *
 *   dist/k8s/<preset or size>/01-namespace.yaml ... 06-pipeline.yaml   (apply in file order)
 *
 * The Prometheus Operator CRDs are not included: install them first (charts/README.md).
 *
 * Before anything is written, each pod's environment is read back with the app's own configuration parser
 * (the checks the app runs at start, cross-field rules included), so no manifest the app would refuse is written.
 * Exit status 2 on bad input (an unknown flag, a malformed value, a bad combination), naming the flag given.
 */
import { accessSync, constants, existsSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Yaml } from "cdk8s";
import { Command } from "commander";
import { ConfigError, kafkaAuthKinds, parseDetectorConfig, parseLoadgenConfig, type KafkaAuthKind } from "../app/config.ts";
import { presets, sizeInputKeys, type PresetName } from "../cdk/size/size-input.ts";
import { sizePlanFrom, type SizePlan } from "../cdk/size/size-plan.ts";
import { buildCharts, type ChartOptions, type KitCharts } from "./index.ts";
import { components } from "./names.ts";
import { defaultAppImage, defaultTracingSampleRatio } from "./options.ts";
import { thirdPartyImageNames, type ImageDigests } from "./versions.ts";
import { usageErrorExitCode } from "../app/cli-exit.ts";

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
    return {
      chart: name,
      file: `${String(i + 1).padStart(2, "0")}-${charts[name].node.id}.yaml`,
      objects,
      yaml: Yaml.stringify(...objects),
    };
  });
}

/** Placeholders for a cluster whose Kafka and Cassandra the user names with flags. */
export const standaloneEndpoints = { kafkaBrokers: "kafka:9092", cassandraContactPoints: "cassandra:9042" } as const;

/** Exit status for bad input (flags, values, combinations); nothing is written then. */
export { usageErrorExitCode };

class UsageError extends Error {}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(",").filter((s) => s !== ""));

/** The app's settings that synth:k8s sets from its own flags (commander's keys), to name them in errors. */
const flagOfSetting: Readonly<Record<string, { flag: string; key: string }>> = {
  kafkaBrokers: { flag: "--kafka-bootstrap", key: "kafkaBootstrap" },
  cassandraContactPoints: { flag: "--cassandra-contact-points", key: "cassandraContactPoints" },
  cassandraLocalDataCenter: { flag: "--cassandra-local-dc", key: "cassandraLocalDc" },
  kafkaAuth: { flag: "--kafka-auth", key: "kafkaAuth" },
  awsRegion: { flag: "--aws-region", key: "awsRegion" },
  cassandraUsername: { flag: "--cassandra-username", key: "cassandraUsername" },
  cassandraPasswordSecretArn: { flag: "--cassandra-password-secret-arn", key: "cassandraPasswordSecretArn" },
  cassandraTlsCaSecretArn: { flag: "--cassandra-tls-ca-secret-arn", key: "cassandraTlsCaSecretArn" },
  tracingSampleRatio: { flag: "--tracing-sample-ratio", key: "tracingSampleRatio" },
};

/** "flags: --kafka-auth aws-iam given, --aws-region not given" for the settings an app message names. */
function flagsNamedIn(message: string, given: Readonly<Record<string, string | undefined>>): string {
  const settings = [...new Set([...message.matchAll(/setting (\w+)/g)].map((m) => m[1]!))];
  const parts = settings.flatMap((name) => {
    const f = flagOfSetting[name];
    if (f === undefined) return [];
    const value = given[f.key];
    return [value === undefined ? `${f.flag} not given` : `${f.flag} ${value} given`];
  });
  // The charts' own options, named by their field in ChartOptions.
  const optionFlags = [
    ["app.image", "--image", "image"],
    ["imageDigests", "--image-digests", "imageDigests"],
    ["autoscaling.roleArn", "--keda-role-arn", "kedaRoleArn"],
  ] as const;
  for (const [field, flag, key] of optionFlags) {
    if (message.startsWith(field)) parts.push(given[key] === undefined ? `${flag} not given` : `${flag} ${given[key]} given`);
  }
  return parts.length === 0 ? "" : ` (synth:k8s flags: ${parts.join(", ")})`;
}

/** A decimal number written plainly: no sign, hex, exponent or blanks ("0.001", "1", ".5"). */
function strictRatio(flag: string, raw: string): number {
  const value = /^(?:\d+(?:\.\d+)?|\.\d+)$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new UsageError(`${flag}: value ${JSON.stringify(raw)} is not allowed; allowed: a decimal number from 0 to 1, e.g. 0.001`);
  }
  return value;
}

/** Kernel file systems: writing manifests there fails or hangs (a /proc file may block), never a place for output. */
const kernelFileSystems = ["/proc", "/sys"];
const isUnder = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/**
 * Checks --out before anything is synthesized: its nearest existing folder must be a writable directory outside
 * /proc and /sys. Returns the resolved path; throws UsageError naming the flag and the path.
 */
export function checkOutDir(raw: string): string {
  const bad = (why: string) =>
    new UsageError(
      `--out ${JSON.stringify(raw)}: ${why}; allowed: a folder that exists or can be made, writable by you, outside ${kernelFileSystems.join(" and ")}`,
    );
  if (raw.trim() === "") throw bad("empty");
  const path = resolve(raw);
  let existing = path;
  while (!existsSync(existing)) existing = dirname(existing);
  const real = join(realpathSync(existing), path.slice(existing.length));
  const kernel = kernelFileSystems.find((root) => isUnder(real, root));
  if (kernel !== undefined) throw bad(`${real} is on the kernel's ${kernel} file system`);
  if (!statSync(existing).isDirectory()) throw bad(`${existing} is not a folder`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw bad(`${existing} is not writable`);
  }
  return path;
}

/** "grafana=sha256:...,jaeger=sha256:..." → { grafana: "sha256:...", ... } (the digests are checked by the charts). */
function imageDigestsOf(raw: string | undefined): ImageDigests | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of raw.split(",")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(pair);
    if (m === null) {
      throw new UsageError(
        `--image-digests: entry ${JSON.stringify(pair)} is not allowed; allowed: name=sha256:<64 hex digits>, names ${thirdPartyImageNames.join(", ")}`,
      );
    }
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** The app's settings parser for each of our pods that runs the app (the schema Job runs with the detector's). */
const appConfigParsers: Readonly<Record<string, { what: string; parse: (env: Record<string, string>) => unknown }>> = {
  [components.detector]: { what: "the detector", parse: (env) => parseDetectorConfig({ env }) },
  [components.schema]: { what: "the schema Job", parse: (env) => parseDetectorConfig({ env }) },
  [components.loadGenerator]: { what: "the load generator", parse: (env) => parseLoadgenConfig({ env }) },
};

/**
 * Reads each app pod's literal environment back with the app's own parser, as the app does at start: the
 * per-setting checks the charts already ran, plus the rules across settings (aws-iam needs a region; a Cassandra
 * user needs its secret). Values set per pod at run time (downward API) are the app's defaults here.
 */
export function checkAppConfigs(manifests: readonly SynthesizedManifest[]): void {
  for (const object of manifests.flatMap((m) => m.objects)) {
    const o = object as {
      kind: string;
      metadata: { labels?: Record<string, string> };
      spec?: { template?: { spec?: { containers?: PodContainer[] } } };
    };
    if (o.kind !== "Deployment" && o.kind !== "Job") continue;
    const parser = appConfigParsers[o.metadata.labels?.["app.kubernetes.io/name"] ?? ""];
    if (parser === undefined) continue;
    for (const c of o.spec?.template?.spec?.containers ?? []) {
      const env = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      try {
        parser.parse(env);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        throw new ConfigError(`${parser.what} would refuse these settings at start: ${e.message}`);
      }
    }
  }
}

type PodContainer = { env?: { name: string; value?: string }[] };

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
    .option(
      "--cassandra-tls-ca-secret-arn <arn>",
      "Secrets Manager secret holding the CA certificate of a Cassandra cluster that requires TLS",
    )
    .option("--kafka-monitoring-hosts <list>", "MSK broker hosts to scrape (open monitoring ports)")
    .option("--cassandra-exporter-hosts <list>", "Cassandra hosts whose exporters to scrape")
    .option("--data-plane-cidrs <list>", "CIDRs of the Kafka and Cassandra subnets (limits the pods' egress)")
    .option("--no-aws-apis", "the cluster is not EKS: no egress to the Pod Identity agent and AWS APIs")
    .option("--image <image>", "the app's container image (name:tag, name@sha256:..., or both)", defaultAppImage.image)
    .option("--image-digests <list>", `pin third-party images: name=sha256:...,... (names: ${thirdPartyImageNames.join(", ")})`)
    .option("--grafana-anonymous-viewers", "let anyone who reaches Grafana view without logging in (off by default)")
    .option("--tracing-sample-ratio <r>", "fraction of events traced", String(defaultTracingSampleRatio))
    .option(
      "--keda-role-arn <arn>",
      "the IAM role KEDA assumes to read the detector's lag (with --detectorAutoscaling keda and --kafka-auth aws-iam)",
    );
  for (const key of sizeInputKeys) command.option(`--${key} <value>`, `size parameter ${key} (as CDK context -c ${key}=...)`);
  // Unknown flags and missing values: commander's message (with "Did you mean ...?"), exit status 2, nothing written.
  command
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => console.error(text.trimEnd()) });
  try {
    command.parse([...argv], { from: "user" });
  } catch (e) {
    const code = (e as { code?: string }).code;
    process.exitCode = code === "commander.helpDisplayed" || code === "commander.version" ? 0 : usageErrorExitCode;
    return;
  }
  const o = command.opts<Record<string, string | undefined>>();
  const fail = (message: string) => {
    console.error(`error: ${message}`);
    process.exitCode = usageErrorExitCode;
  };

  let options: ChartOptions;
  let outDir: string;
  try {
    outDir = checkOutDir(o.out!);
    // A flag given empty is a mistake, not "unset": name the flag (the app would blame its environment variable).
    const empty = Object.entries(o).find(([key, v]) => v === "" && key !== "out");
    if (empty !== undefined) {
      const flag = command.options.find((opt) => opt.attributeName() === empty[0])?.long ?? empty[0];
      throw new UsageError(`${flag}: value "" is not allowed; allowed: a value, or leave the flag out`);
    }
    options = {
      endpoints: {
        kafkaBrokers: o.kafkaBootstrap!,
        cassandraContactPoints: o.cassandraContactPoints!,
        cassandraLocalDataCenter: o.cassandraLocalDc,
        kafkaAuth: o.kafkaAuth as KafkaAuthKind | undefined,
        awsRegion: o.awsRegion,
        cassandraUsername: o.cassandraUsername,
        cassandraPasswordSecretArn: o.cassandraPasswordSecretArn,
        cassandraTlsCaSecretArn: o.cassandraTlsCaSecretArn,
        kafkaMonitoringHosts: list(o.kafkaMonitoringHosts),
        cassandraExporterHosts: list(o.cassandraExporterHosts),
        dataPlaneCidrs: list(o.dataPlaneCidrs),
        awsApis: (o.awsApis as unknown) !== false,
      },
      app: { image: o.image! },
      imageDigests: imageDigestsOf(o.imageDigests),
      grafana: { anonymousViewers: (o.grafanaAnonymousViewers as unknown) === true },
      tracingSampleRatio: strictRatio("--tracing-sample-ratio", o.tracingSampleRatio!),
      ...(o.kedaRoleArn === undefined ? {} : { autoscaling: { roleArn: o.kedaRoleArn } }),
    };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return fail(e.message);
  }
  const sizeRaw: Record<string, string> = {};
  for (const key of sizeInputKeys) if (o[key] !== undefined) sizeRaw[key] = o[key];
  const runs: { dir: string; raw: Record<string, unknown> }[] =
    Object.keys(sizeRaw).length === 0
      ? (Object.keys(presets) as PresetName[]).map((preset) => ({ dir: preset, raw: { preset } }))
      : [{ dir: "", raw: sizeRaw }];

  // Every run is synthesized and checked before the first file is written: a bad flag leaves no partial output.
  const outputs: { dir: string; plan: SizePlan; manifests: SynthesizedManifest[] }[] = [];
  for (const run of runs) {
    let plan: SizePlan;
    try {
      plan = sizePlanFrom(run.raw);
    } catch (e) {
      return fail((e as Error).message);
    }
    let manifests: SynthesizedManifest[];
    try {
      manifests = synthesizeManifests(plan, options);
      checkAppConfigs(manifests);
    } catch (e) {
      // A bad endpoint flag or combination: the app's own message names the setting and what is allowed.
      const message = (e as Error).message;
      return fail(message + flagsNamedIn(message, o));
    }
    const onlyPreset = Object.keys(run.raw).length === 1 && typeof run.raw.preset === "string";
    const dirName =
      run.dir !== ""
        ? run.dir
        : onlyPreset
          ? String(run.raw.preset)
          : `cassandra-${plan.cassandra.nodes}-kafka-${plan.kafka.brokers}-workers-${plan.eks.workerNodes}`;
    outputs.push({ dir: resolve(outDir, dirName), plan, manifests });
  }
  for (const { dir, plan, manifests } of outputs) {
    try {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const m of manifests) writeFileSync(join(dir, m.file), m.yaml);
    } catch (e) {
      // Checked up front, but the disk can still fill or a folder change: one line, not a stack trace.
      const { code, message } = e as NodeJS.ErrnoException;
      return fail(
        `--out ${JSON.stringify(o.out)}: cannot write ${dir}: ${code ?? message}; allowed: a folder that exists or can be made, writable by you`,
      );
    }
    const count = manifests.reduce((n, m) => n + m.objects.length, 0);
    console.log(
      `${dir}: ${manifests.length} manifests, ${count} objects (detector ${plan.detector.pods} pods, load ${plan.load.ratePerSecond}/s)`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
