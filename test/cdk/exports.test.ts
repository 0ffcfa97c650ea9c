/**
 * No value that changes with size crosses stacks. The runner grows a deployment in place
 * (stage-12 → 24 → 48, one experiment id); CloudFormation refuses to update an export that another stack
 * imports, so every export must be the same at every stage — not only its text in the template, but what it
 * evaluates to at deploy time:
 * - the Output's expression is identical across the stages, and
 * - every resource the expression reads either has identical properties across the stages, or is a native
 *   AWS resource read for its identity only (Ref or an ARN/id attribute), which an in-place update keeps.
 *   A custom resource's attributes are data it returned: new properties re-run it and may return new data.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { kitCharts } from "../../cdk/kit-charts.ts";
import type { PresetName } from "../../cdk/size/size-input.ts";
import { synthKit, testAccess, type CfnTemplate, type Synthesized } from "./kit-synth.ts";

const stages: PresetName[] = ["stage-12", "stage-24", "stage-48"];
const experimentId = "grow";
const kits = new Map<PresetName, Synthesized>();

beforeAll(() => {
  for (const preset of stages) kits.set(preset, synthKit({ preset, experimentId, ...testAccess }, { charts: kitCharts, nag: false }));
});

interface Export {
  readonly stack: string;
  readonly output: string;
  readonly value: unknown;
}

function exportsOf(kit: Synthesized): Export[] {
  return Object.entries(kit.templates).flatMap(([stack, template]) =>
    Object.entries((template.Outputs ?? {}) as Record<string, { Value: unknown; Export?: unknown }>)
      .filter(([, o]) => o.Export !== undefined)
      .map(([output, o]) => ({ stack, output, value: o.Value })),
  );
}

/** Every `Ref` and `Fn::GetAtt` inside an expression, as [logical id, attribute or "Ref"]. */
function readsOf(value: unknown): [string, string][] {
  if (Array.isArray(value)) return value.flatMap(readsOf);
  if (typeof value !== "object" || value === null) return [];
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === "string") return o.Ref.startsWith("AWS::") ? [] : [[o.Ref, "Ref"]];
  const getAtt = o["Fn::GetAtt"];
  if (Array.isArray(getAtt)) return [[String(getAtt[0]), String(getAtt[1])]];
  return Object.values(o).flatMap(readsOf);
}

const identityAttribute = /^(Ref|Arn|.*Id)$/;
const isCustom = (type: string) => type.startsWith("Custom::") || type === "AWS::CloudFormation::CustomResource";

describe("cross-stack exports while a deployment grows (stage-12 → stage-24 → stage-48)", () => {
  it("has exports at all (the stacks do share values)", () => {
    for (const kit of kits.values()) expect(exportsOf(kit).length).toBeGreaterThan(0);
  });

  it("exports the same outputs with the same expressions at every stage", () => {
    const [first, ...rest] = stages.map((s) => exportsOf(kits.get(s)!));
    for (const other of rest) expect(other).toEqual(first);
  });

  it("exports only values that stay the same when the stack is updated to another size", () => {
    const problems: string[] = [];
    for (const { stack, output, value } of exportsOf(kits.get(stages[0]!)!)) {
      for (const [id, attribute] of readsOf(value)) {
        const resources = stages.map((s) => (kits.get(s)!.templates[stack] as CfnTemplate).Resources[id]);
        const [first] = resources;
        const where = `${stack} ${output} reads ${id}.${attribute} (${first?.Type})`;
        if (first === undefined) {
          problems.push(`${where}: no such resource`);
          continue;
        }
        const same = resources.every((r) => JSON.stringify(r?.Properties) === JSON.stringify(first.Properties));
        if (same) continue;
        if (isCustom(first.Type)) problems.push(`${where}: a custom resource whose properties change with size`);
        else if (!identityAttribute.test(attribute)) problems.push(`${where}: a data attribute of a resource that changes with size`);
      }
    }
    expect(problems).toEqual([]);
  });
});
