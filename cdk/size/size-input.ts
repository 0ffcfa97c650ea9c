/**
 * The size parameters a user gives (CDK context `-c key=value`, a preset, or both), validated once.
 * Every error names the key, the value given and what is allowed, so `cdk synth` can stop with one line.
 */
import { z } from "zod";
import { detectorSettings, loadgenSettings } from "../../app/config.ts";
import { closestName } from "../../app/closest-name.ts";
import { awsRegionAllowed, awsRegionPattern, partitionOfRegion, type AwsPartition } from "../../app/aws-regions.ts";
import { cassandraInstanceTypes, kafkaInstanceTypes, workerInstanceTypes } from "./instance-types.ts";

/** The VPC spans exactly this many availability zones; Cassandra racks and MSK brokers follow it. */
export const availabilityZoneCount = 3;

export const limits = {
  cassandraNodes: { min: 3, max: 48 },
  kafkaBrokers: { min: 3, max: 30 },
  workerNodes: { min: 2, max: 100 },
  /** EBS storage per MSK broker, GiB: the range Amazon MSK accepts for a broker's volume. */
  kafkaStorageGiB: { min: 1, max: 16384 },
} as const;

/** Named stages of the 3 → 48 experiment; explicit keys override what a preset sets. */
export const presets = {
  "stage-3": { cassandraNodes: 3 },
  "stage-6": { cassandraNodes: 6 },
  "stage-12": { cassandraNodes: 12 },
  "stage-24": { cassandraNodes: 24 },
  "stage-48": { cassandraNodes: 48 },
} as const satisfies Record<string, { cassandraNodes: number }>;
export type PresetName = keyof typeof presets;

/**
 * How the number of detector pods is set. Fixed stages (the experiment runner passes `off`) keep the plan's
 * count, so a stage measures one size; `keda` lets KEDA scale the pods on the detector group's consumer lag,
 * from 1 to the events topic's partitions (charts/keda-scaled-object.ts), and installs KEDA in the cluster.
 */
export const detectorAutoscalingModes = {
  off: "the plan's fixed number of detector pods",
  keda: "KEDA scales detector pods on consumer lag, 1 to the topic's partitions",
} as const;
export type DetectorAutoscalingMode = keyof typeof detectorAutoscalingModes;

export class SizeInputError extends Error {
  override name = "SizeInputError";
}

const names = (o: object) => Object.keys(o).join(", ");

/**
 * Decimal digits only: `z.coerce.number` (JavaScript's Number()) also reads `0x10` as 16, `1e1` as 10 and
 * ` 16 ` as 16, so a typo would silently size a cluster. Leading zeros are refused too (`016`: octal or 16?).
 */
const decimalInteger = /^(0|[1-9][0-9]*)$/;
const strictInteger = (value: unknown): unknown => (typeof value === "string" && decimalInteger.test(value) ? Number(value) : value);

const integerIn = (key: keyof typeof limits) => {
  const { min, max } = limits[key];
  const allowed = `an integer from ${min} to ${max}`;
  return z.preprocess(
    strictInteger,
    z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed }),
  );
};
const oneOf = <T extends Record<string, unknown>>(table: T) =>
  z.enum(Object.keys(table) as [keyof T & string, ...(keyof T & string)[]], { error: `one of ${names(table)}` });

/**
 * An app setting as a size parameter: its schema, default and wording come from the app's settings table
 * (app/config.ts), so the size input, the charts' env and the app agree on one definition.
 */
const appSetting = <T>(s: { readonly schema: z.ZodType<T, string>; readonly allowed: string; readonly default: string }) =>
  z
    .string({ error: s.allowed })
    .default(s.default)
    .transform((raw, ctx): T => {
      const parsed = s.schema.safeParse(raw);
      if (parsed.success) return parsed.data;
      ctx.addIssue({ code: "custom", message: s.allowed });
      return z.NEVER;
    });

const sizeInputSchema = z.object({
  preset: oneOf(presets).optional(),
  cassandraNodes: integerIn("cassandraNodes"),
  kafkaBrokers: integerIn("kafkaBrokers").optional(),
  workerNodes: integerIn("workerNodes").optional(),
  /**
   * MSK storage per broker for the whole experiment; default: the most any stage needs (size-plan.ts). MSK
   * refuses a second storage increase within hours of the first, so it is set once, never per stage.
   */
  kafkaStorageGiB: integerIn("kafkaStorageGiB").optional(),
  cassandraInstanceType: oneOf(cassandraInstanceTypes).default("i3.2xlarge"),
  kafkaInstanceType: oneOf(kafkaInstanceTypes).default("kafka.m5.2xlarge"),
  workerInstanceType: oneOf(workerInstanceTypes).default("c5.4xlarge"),
  region: z.string().regex(awsRegionPattern, { error: "an AWS region name such as us-east-1" }).default("us-east-1"),
  /**
   * Regions to accept besides the kit's known list (app/aws-regions.ts), for a region AWS opened after it:
   * `-c extraRegions=xx-newplace-1`. The app's pods get the same list (EXTRA_AWS_REGIONS).
   */
  extraRegions: z
    .string()
    .regex(new RegExp(`^$|^${awsRegionPattern.source.slice(1, -1)}(,${awsRegionPattern.source.slice(1, -1)})*$`), {
      error: "comma-separated AWS region names such as xx-newplace-1",
    })
    .default(""),
  availabilityZones: z
    .string()
    .regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, { error: "a comma-separated list of availability zone names" })
    .optional(),
  experimentId: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,23}$/, { error: "1-24 lower-case letters, digits or '-', starting with a letter" })
    .default("anomaly"),
  /** The detector's spatial check: DETECTOR_SPATIAL_STRATEGY; off by default. */
  spatialStrategy: appSetting(detectorSettings.spatialStrategy),
  /** The load generator's spatial workload: LOADGEN_SPATIAL_WORKLOAD; off by default. */
  spatialWorkload: appSetting(loadgenSettings.spatialWorkload),
  detectorAutoscaling: oneOf(detectorAutoscalingModes).default("off"),
  /** Where a check's history comes from: DETECTOR_HISTORY (held by default); the detector pods are sized for it. */
  detectorHistory: appSetting(detectorSettings.detectorHistory),
});
export type SizeInput = Omit<z.output<typeof sizeInputSchema>, "availabilityZones" | "extraRegions"> & {
  readonly availabilityZones: readonly string[];
  readonly extraRegions: readonly string[];
  /** The region's partition (aws, aws-cn, aws-us-gov, ...), which every ARN of the deployment must share. */
  readonly partition: AwsPartition;
};

export const sizeInputKeys = Object.keys(sizeInputSchema.shape) as (keyof typeof sizeInputSchema.shape)[];

/**
 * Context keys that belong to the CDK itself, not to the kit: the CLI's own settings (`aws:cdk:*`, the older
 * `aws-cdk:*`), feature flags (`@aws-cdk/*`, `@aws-cdk-containers/*`, as in cdk.json), `cdk-*` settings, `cdk acknowledge`'s list, and
 * the cached results of context lookups in cdk.context.json (`provider:key=value:...`).
 */
const cdkOwnKey = /^(aws:cdk:|aws-cdk:|@aws-cdk\/|@aws-cdk-containers\/|cdk-|acknowledged-issue-numbers$|[a-z][a-z0-9-]*:[^=]*=)/;
export const isCdkOwnContextKey = (key: string): boolean => cdkOwnKey.test(key);

/**
 * Refuses the first key that is neither `known` nor the CDK's own (a typo of a size key would otherwise
 * synthesize the default size), naming it with its value and the closest known key.
 */
export function refuseUnknownKeys(raw: Readonly<Record<string, unknown>>, known: readonly string[]): void {
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || known.includes(key) || isCdkOwnContextKey(key)) continue;
    const suggestion = closestName(key, known);
    throw new SizeInputError(
      `${key} = ${JSON.stringify(value)}: unknown key; ` +
        (suggestion === undefined ? `known keys: ${known.join(", ")}` : `did you mean ${suggestion}? (known keys: ${known.join(", ")})`),
    );
  }
}

/** A zone name of `region`: the region and one letter (`us-east-1a`); no zone ids, Local or Wavelength Zones. */
const isZoneOf = (zone: string, region: string) => zone.length === region.length + 1 && zone.startsWith(region) && /[a-z]$/.test(zone);

/**
 * Parses raw values (context strings or numbers). A preset fills `cassandraNodes`; explicit keys win.
 * Throws SizeInputError naming the first bad key.
 */
export function parseSizeInput(raw: Readonly<Record<string, unknown>>): SizeInput {
  refuseUnknownKeys(raw, sizeInputKeys);
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ""));
  const presetName = given.preset;
  if (presetName !== undefined && !(typeof presetName === "string" && presetName in presets)) {
    throw new SizeInputError(`preset = ${JSON.stringify(presetName)}: allowed: one of ${names(presets)}`);
  }
  const fromPreset = presetName === undefined ? {} : presets[presetName as PresetName];
  const merged: Record<string, unknown> = { ...fromPreset, ...given };
  if (merged.cassandraNodes === undefined) {
    throw new SizeInputError(
      `cassandraNodes is missing: give -c cassandraNodes=N (${limits.cassandraNodes.min}..${limits.cassandraNodes.max}) or -c preset=<${names(presets)}>`,
    );
  }
  const parsed = sizeInputSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    throw new SizeInputError(`${key} = ${JSON.stringify(merged[key])}: allowed: ${issue.message}`);
  }
  const input = parsed.data;
  const extraRegions = input.extraRegions === "" ? [] : input.extraRegions.split(",");
  const partition = partitionOfRegion(input.region, extraRegions);
  if (partition === undefined) {
    throw new SizeInputError(`region = ${JSON.stringify(input.region)}: allowed: ${awsRegionAllowed("-c extraRegions=<region>")}`);
  }
  const zones = input.availabilityZones?.split(",") ?? ["a", "b", "c"].map((s) => `${input.region}${s}`);
  if (zones.length !== availabilityZoneCount || new Set(zones).size !== zones.length) {
    throw new SizeInputError(
      `availabilityZones = ${JSON.stringify(input.availabilityZones)}: allowed: exactly ${availabilityZoneCount} distinct zones`,
    );
  }
  const badZone = zones.find((z) => !isZoneOf(z, input.region));
  if (badZone !== undefined) {
    throw new SizeInputError(
      `availabilityZones = ${JSON.stringify(badZone)}: allowed: a zone name of region ${input.region}: ${input.region} and one letter, such as ${input.region}a`,
    );
  }
  if (input.kafkaBrokers !== undefined && input.kafkaBrokers % availabilityZoneCount !== 0) {
    throw new SizeInputError(
      `kafkaBrokers = ${input.kafkaBrokers}: allowed: a multiple of the ${availabilityZoneCount} availability zones (${limits.kafkaBrokers.min}..${limits.kafkaBrokers.max})`,
    );
  }
  return { ...input, availabilityZones: zones, extraRegions, partition };
}
