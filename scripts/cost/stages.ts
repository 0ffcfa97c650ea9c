/**
 * The stages of an experiment from what a user types: a preset (`stage-48`), node counts (`3,6,12,24,48`)
 * or a mix (`stage-3,12,stage-48`), each turned into a SizePlan by the size model with the same overrides.
 * plan, preflight and the experiment runner all read stages through here.
 */
import { sizePlanFrom, type SizePlan } from "../../cdk/size/size-plan.ts";
import { presets, SizeInputError, type PresetName } from "../../cdk/size/size-input.ts";

/** Size keys that apply to every stage (the CLI's flags); undefined ones are left to the size model. */
export interface StageOverrides {
  readonly kafkaBrokers?: string | number | undefined;
  readonly workerNodes?: string | number | undefined;
  readonly kafkaStorageGiB?: string | number | undefined;
  readonly cassandraInstanceType?: string | undefined;
  readonly kafkaInstanceType?: string | undefined;
  readonly workerInstanceType?: string | undefined;
  readonly region?: string | undefined;
  readonly availabilityZones?: string | undefined;
  readonly experimentId?: string | undefined;
}

export interface Stage {
  /** `stage-<cassandra nodes>`, the name results and resumption use. */
  readonly name: string;
  readonly plan: SizePlan;
}

const isPreset = (s: string): s is PresetName => s in presets;

/** Parses a stage list; throws SizeInputError (naming the bad item) on anything the size model rejects. */
export function parseStages(spec: string, overrides: StageOverrides = {}): Stage[] {
  const items = spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0)
    throw new SizeInputError(
      `stages = ${JSON.stringify(spec)}: allowed: a preset (${Object.keys(presets).join(", ")}) or Cassandra node counts such as 3,6,12,24,48`,
    );
  const stages = items.map((item) => {
    let raw: Record<string, unknown>;
    if (isPreset(item)) raw = { preset: item };
    else if (/^\d+$/.test(item)) raw = { cassandraNodes: Number(item) };
    else
      throw new SizeInputError(
        `stage ${JSON.stringify(item)}: allowed: a preset (${Object.keys(presets).join(", ")}) or a Cassandra node count`,
      );
    const plan = sizePlanFrom({ ...overrides, ...raw });
    return { name: `stage-${plan.cassandra.nodes}`, plan };
  });
  const seen = new Set<string>();
  for (const s of stages) {
    if (seen.has(s.name)) throw new SizeInputError(`stages = ${JSON.stringify(spec)}: ${s.name} is given twice`);
    seen.add(s.name);
  }
  return stages;
}
