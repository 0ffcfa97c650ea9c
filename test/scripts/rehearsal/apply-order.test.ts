/**
 * The order the charts' objects reach the API server: `kubectl apply` (the EKS stack's kubectl handler, and
 * synth:k8s users) creates them in manifest order, so a pod's ServiceAccount must come before the workload whose
 * pods use it. The rehearsal found the schema Job emitted before the detector's ServiceAccount: its first pod
 * was refused ("serviceaccount not found") and retried. This walks every preset in apply order.
 */
import { describe, expect, it } from "vitest";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import { synthesizeManifests } from "../../../charts/synth.ts";
import { stageManifests } from "../../../scripts/rehearsal/manifests.ts";
import { fullOptions, presetNames } from "../../charts/fixtures.ts";

type PodSpec = { serviceAccountName?: string };
type Obj = {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: PodSpec & { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } };
};

const podSpecOf = (o: Obj): PodSpec | undefined =>
  o.kind === "Pod" ? o.spec : (o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec);

/** Workloads whose pods name a ServiceAccount that is not yet created when kubectl reaches them. */
export function serviceAccountsAfterUse(objects: readonly Obj[]): string[] {
  const seen = new Set<string>();
  const late: string[] = [];
  for (const o of objects) {
    if (o.kind === "ServiceAccount") seen.add(`${o.metadata.namespace}/${o.metadata.name}`);
    const sa = podSpecOf(o)?.serviceAccountName;
    if (sa !== undefined && sa !== "default" && !seen.has(`${o.metadata.namespace}/${sa}`))
      late.push(`${o.kind}/${o.metadata.name} uses ${sa}`);
  }
  return late;
}

describe("apply order", () => {
  it.each(presetNames)("%s: every ServiceAccount is created before the pods that use it", (preset) => {
    const objects = synthesizeManifests(sizePlanFrom({ preset }), fullOptions).flatMap((m) => m.objects) as Obj[];
    expect(objects.some((o) => o.kind === "Job" && o.metadata.name.startsWith("schema-"))).toBe(true);
    expect(serviceAccountsAfterUse(objects)).toEqual([]);
  });

  it("the check itself finds a Job placed before its ServiceAccount", () => {
    const job = {
      kind: "Job",
      metadata: { name: "schema-x", namespace: "n" },
      spec: { template: { spec: { serviceAccountName: "detector" } } },
    };
    const sa = { kind: "ServiceAccount", metadata: { name: "detector", namespace: "n" } };
    expect(serviceAccountsAfterUse([job, sa])).toEqual(["Job/schema-x uses detector"]);
    expect(serviceAccountsAfterUse([sa, job])).toEqual([]);
  });

  it("the rehearsal applies the charts in the order synth:k8s writes them (each after its dependencies)", () => {
    const plan = sizePlanFrom({ preset: "stage-12" });
    const rehearsal = stageManifests(plan).map((m) => m.chart);
    expect(rehearsal).toEqual(synthesizeManifests(plan, fullOptions).map((m) => m.chart));
    for (const [i, m] of stageManifests(plan).entries()) {
      for (const d of m.dependsOn) expect(rehearsal.indexOf(d)).toBeLessThan(i);
    }
    expect(rehearsal[0]).toBe("namespace");
  });
});
