/**
 * The size parameters a user gives (CDK context `-c key=value`, a preset, or both), validated once.
 * Every error names the key, the value given and what is allowed, so `cdk synth` can stop with one line.
 */
import { z } from "zod";
import { cassandraInstanceTypes, kafkaInstanceTypes, workerInstanceTypes } from "./instance-types.ts";

/** The VPC spans exactly this many availability zones; Cassandra racks and MSK brokers follow it. */
export const availabilityZoneCount = 3;

export const limits = {
  cassandraNodes: { min: 3, max: 48 },
  kafkaBrokers: { min: 3, max: 30 },
  workerNodes: { min: 2, max: 100 },
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

export class SizeInputError extends Error {
  override name = "SizeInputError";
}

const names = (o: object) => Object.keys(o).join(", ");

const integerIn = (key: keyof typeof limits) => {
  const { min, max } = limits[key];
  return z.coerce
    .number({ error: `an integer from ${min} to ${max}` })
    .int({ error: `an integer from ${min} to ${max}` })
    .min(min, { error: `an integer from ${min} to ${max}` })
    .max(max, { error: `an integer from ${min} to ${max}` });
};
const oneOf = <T extends Record<string, unknown>>(table: T) =>
  z.enum(Object.keys(table) as [keyof T & string, ...(keyof T & string)[]], { error: `one of ${names(table)}` });

const sizeInputSchema = z.object({
  preset: oneOf(presets).optional(),
  cassandraNodes: integerIn("cassandraNodes"),
  kafkaBrokers: integerIn("kafkaBrokers").optional(),
  workerNodes: integerIn("workerNodes").optional(),
  cassandraInstanceType: oneOf(cassandraInstanceTypes).default("i3.2xlarge"),
  kafkaInstanceType: oneOf(kafkaInstanceTypes).default("kafka.m5.2xlarge"),
  workerInstanceType: oneOf(workerInstanceTypes).default("c5.4xlarge"),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "an AWS region name such as us-east-1" })
    .default("us-east-1"),
  availabilityZones: z
    .string()
    .regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, { error: "a comma-separated list of availability zone names" })
    .optional(),
  experimentId: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,23}$/, { error: "1-24 lower-case letters, digits or '-', starting with a letter" })
    .default("anomaly"),
});
export type SizeInput = Omit<z.output<typeof sizeInputSchema>, "availabilityZones"> & {
  readonly availabilityZones: readonly string[];
};

export const sizeInputKeys = Object.keys(sizeInputSchema.shape) as (keyof typeof sizeInputSchema.shape)[];

/**
 * Parses raw values (context strings or numbers). A preset fills `cassandraNodes`; explicit keys win.
 * Throws SizeInputError naming the first bad key.
 */
export function parseSizeInput(raw: Readonly<Record<string, unknown>>): SizeInput {
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
  const zones = input.availabilityZones?.split(",") ?? ["a", "b", "c"].map((s) => `${input.region}${s}`);
  if (zones.length !== availabilityZoneCount || new Set(zones).size !== zones.length) {
    throw new SizeInputError(
      `availabilityZones = ${JSON.stringify(input.availabilityZones)}: allowed: exactly ${availabilityZoneCount} distinct zones`,
    );
  }
  const badZone = zones.find((z) => !z.startsWith(input.region));
  if (badZone !== undefined) {
    throw new SizeInputError(`availabilityZones = ${JSON.stringify(badZone)}: allowed: zones of region ${input.region}`);
  }
  if (input.kafkaBrokers !== undefined && input.kafkaBrokers % availabilityZoneCount !== 0) {
    throw new SizeInputError(
      `kafkaBrokers = ${input.kafkaBrokers}: allowed: a multiple of the ${availabilityZoneCount} availability zones (${limits.kafkaBrokers.min}..${limits.kafkaBrokers.max})`,
    );
  }
  return { ...input, availabilityZones: zones };
}
