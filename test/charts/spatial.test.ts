/**
 * The spatial mode as a size parameter: -c spatialStrategy / -c spatialWorkload (or synth:k8s's
 * --spatialStrategy) reach the detector's, the schema Job's and the load generator's env as the app's own
 * settings (app/config.ts), read back the way the app reads them; off (the default) adds nothing.
 */
import { describe, expect, it } from "vitest";
import { detectorEnvNames, loadgenEnvNames, parseDetectorConfig, parseLoadgenConfig } from "../../app/config.ts";
import { spatialStrategyNames } from "../../app/spatial/neighbours.ts";
import { kitInputFromContext } from "../../cdk/kit-input.ts";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { components } from "../../charts/names.ts";
import { synthesizeManifests } from "../../charts/synth.ts";
import { envOf, find, fullOptions, podSpecOf, presetManifests, type K8sObject } from "./fixtures.ts";

const schemaJobOf = (objects: readonly K8sObject[]) =>
  objects.find((o) => o.kind === "Job" && o.metadata.labels?.["app.kubernetes.io/name"] === components.schema)!;
const envOfWorkload = (o: K8sObject) => envOf(podSpecOf(o).containers[0]!);

describe.each(spatialStrategyNames)("spatialStrategy %s", (strategy) => {
  const plan = sizePlanFrom({ preset: "stage-3", spatialStrategy: strategy, spatialWorkload: "hotspots" });
  const objects = synthesizeManifests(plan, fullOptions).flatMap((m) => m.objects as K8sObject[]);

  it("is the size plan's, from the size input", () => {
    expect(plan.detector.spatialStrategy).toBe(strategy);
    expect(plan.load.spatialWorkload).toBe("hotspots");
  });

  it("the detector Deployment's env carries DETECTOR_SPATIAL_STRATEGY, as the app reads it", () => {
    const env = envOfWorkload(find(objects, "Deployment", components.detector));
    expect(env[detectorEnvNames.spatialStrategy]).toBe(strategy);
    expect(parseDetectorConfig({ env }).spatialStrategy).toBe(strategy);
  });

  it("the schema Job gets the same strategy, so its ensureSchema makes the strategy's tables and indexes", () => {
    const job = schemaJobOf(objects);
    expect(podSpecOf(job).containers[0]!.args).toEqual(["schema"]);
    const env = envOfWorkload(job);
    expect(parseDetectorConfig({ env }).spatialStrategy).toBe(strategy);
    // The detectors wait for the schema Job's tables (createSchema false), so both must name the same strategy.
    expect(parseDetectorConfig({ env: envOfWorkload(find(objects, "Deployment", components.detector)) }).createSchema).toBe(false);
  });

  it("the load generators send the spatial workload", () => {
    const env = envOfWorkload(find(objects, "Deployment", components.loadGenerator));
    expect(parseLoadgenConfig({ env }).spatialWorkload).toBe("hotspots");
  });

  it("the schema Job's name changes with the strategy (a new Job makes the new tables)", () => {
    const offJob = schemaJobOf(presetManifests("stage-3").objects);
    expect(schemaJobOf(objects).metadata.name).not.toBe(offJob.metadata.name);
  });
});

describe("spatial off (the default)", () => {
  const { plan, objects } = presetManifests("stage-3");

  it("plans off and adds no spatial env anywhere (default manifests unchanged)", () => {
    expect(plan.detector.spatialStrategy).toBe("off");
    expect(plan.load.spatialWorkload).toBe("off");
    for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "Job")) {
      const env = envOfWorkload(o);
      expect(env[detectorEnvNames.spatialStrategy], o.metadata.name).toBeUndefined();
      expect(env[loadgenEnvNames.spatialWorkload], o.metadata.name).toBeUndefined();
    }
  });

  it("the whole CDK context takes the keys too", () => {
    const { plan: cdkPlan } = kitInputFromContext({
      preset: "stage-3",
      clusterAdminArn: "arn:aws:iam::123456789012:role/KitAdmin",
      spatialStrategy: "sai",
    });
    expect(cdkPlan.detector.spatialStrategy).toBe("sai");
    expect(cdkPlan.load.spatialWorkload).toBe("off");
  });
});
