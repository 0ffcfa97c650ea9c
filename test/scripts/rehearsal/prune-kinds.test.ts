/**
 * Growing or shrinking between stages applies a stage's charts over another's. The EKS stack's apply prunes
 * what a chart no longer holds only for kubectl's default prune kinds (Jobs, Deployments, ConfigMaps, ...), so
 * an object whose presence or name depends on the stage must be of one of those kinds, or it stays behind
 * (the rehearsal itself prunes every kind and reports any object the EKS apply would leave).
 */
import { describe, expect, it } from "vitest";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import { synthesizeManifests } from "../../../charts/synth.ts";
import { kubectlDefaultPruneKinds } from "../../../scripts/rehearsal/apply.ts";
import { rehearsalOptions } from "../../../scripts/rehearsal/manifests.ts";
import { fullOptions, presetNames } from "../../charts/fixtures.ts";

const cache = new Map<string, Map<string, string>>();
const keysOf = (preset: (typeof presetNames)[number]): Map<string, string> => {
  const hit = cache.get(preset);
  if (hit) return hit;
  const keys = new Map(
    synthesizeManifests(sizePlanFrom({ preset }), fullOptions)
      .flatMap((m) => m.objects)
      .map((o) => {
        const meta = o.metadata as { name: string; namespace?: string };
        return [`${String(o.kind)}/${meta.namespace ?? ""}/${meta.name}`, String(o.kind)] as const;
      }),
  );
  cache.set(preset, keys);
  return keys;
};

describe("objects that differ between stages", () => {
  it("are all of kinds the EKS stack's prune removes", () => {
    const stageOnly: string[] = [];
    for (const a of presetNames) {
      for (const b of presetNames) {
        const [ka, kb] = [keysOf(a), keysOf(b)];
        for (const [key, kind] of ka)
          if (!kb.has(key) && !(kubectlDefaultPruneKinds as readonly string[]).includes(kind)) stageOnly.push(`${a} not ${b}: ${key}`);
      }
    }
    expect(stageOnly).toEqual([]);
  });

  it("include the schema Job (its name carries the stage's settings), which the prune does remove", () => {
    const a = [...keysOf("stage-24").keys()].filter((k) => k.startsWith("Job/") && k.includes("/schema-"));
    const b = [...keysOf("stage-48").keys()].filter((k) => k.startsWith("Job/") && k.includes("/schema-"));
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]).not.toBe(b[0]);
  });

  it("with the rehearsal's stand-in endpoints as with the CDK's", () => {
    const plan = sizePlanFrom({ preset: "stage-3" });
    const kinds = new Set(synthesizeManifests(plan, rehearsalOptions(plan)).flatMap((m) => m.objects.map((o) => String(o.kind))));
    expect(kinds.has("ScrapeConfig")).toBe(true);
  });
});
