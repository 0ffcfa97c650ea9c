/**
 * The detector's KEDA ScaledObject: target, bounds from the plan, and auth matching the detector pods'. Its objects are
 * validated against KEDA's CRD schemas, for every preset, in schema.test.ts.
 */
import { App, Chart } from "cdk8s";
import { describe, expect, it } from "vitest";
import { detectorGroupId, topics } from "../../app/topology.ts";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import {
  detectorAutoscaling,
  detectorScaling,
  type ScaledObjectSpec,
  type TriggerAuthenticationSpec,
} from "../../charts/keda-scaled-object.ts";
import { components } from "../../charts/names.ts";
import { fullOptions, presetNames } from "./fixtures.ts";

const roleArn = "arn:aws:iam::123456789012:role/detector";

function build(plan = sizePlanFrom({ preset: "stage-12" }), endpoints = fullOptions.endpoints) {
  const chart = new Chart(new App(), "pipeline");
  detectorAutoscaling(chart, { namespace: "ns", plan, endpoints, autoscaling: { roleArn } });
  return chart.toJson() as KedaObject[];
}

/**
 * A synthesised KEDA object (its spec is one of the two kinds', typed from KEDA's CRDs; the detector's always has
 * both replica bounds); a Deployment's replicas, for the last test.
 */
type KedaObject = {
  kind: string;
  metadata: { name: string };
  spec: ScaledObjectSpec & { minReplicaCount: number; maxReplicaCount: number } & TriggerAuthenticationSpec & { replicas?: number };
};
const triggerOf = (so: KedaObject) => so.spec.triggers[0]!;

describe("detector autoscaling (KEDA)", () => {
  it("targets the detector Deployment by name", () => {
    const so = build().find((o) => o.kind === "ScaledObject")!;
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: components.detector });
  });

  it.each([...presetNames, "cassandraNodes=4", "cassandraNodes=7", "cassandraNodes=13"])(
    "never exceeds the partition count (%s)",
    (name) => {
      const plan = name.startsWith("cassandraNodes=")
        ? sizePlanFrom({ cassandraNodes: Number(name.split("=")[1]) })
        : sizePlanFrom({ preset: name });
      const so = build(plan).find((o) => o.kind === "ScaledObject")!;
      expect(so.spec.maxReplicaCount).toBeLessThanOrEqual(plan.kafka.partitions);
      expect(so.spec.maxReplicaCount * plan.detector.consumersPerPod).toBeLessThanOrEqual(plan.kafka.partitions);
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so.spec.minReplicaCount).toBeLessThanOrEqual(so.spec.maxReplicaCount);
      expect(Number(triggerOf(so).metadata.lagThreshold)).toBe(detectorScaling(plan).lagThreshold);
    },
  );

  it("reads the lag with the pods' auth: same group, topic, bootstrap, SASL mechanism, TLS, region and role", () => {
    const objects = build();
    const so = objects.find((o) => o.kind === "ScaledObject")!;
    const ta = objects.find((o) => o.kind === "TriggerAuthentication")!;
    const m = triggerOf(so).metadata;
    expect(m).toMatchObject({
      bootstrapServers: fullOptions.endpoints.kafkaBrokers,
      consumerGroup: detectorGroupId,
      topic: topics.events,
      sasl: "oauthbearer",
      saslTokenProvider: "aws_msk_iam",
      tls: "enable",
      awsRegion: fullOptions.endpoints.awsRegion,
    });
    expect(triggerOf(so).authenticationRef).toEqual({ name: ta.metadata.name });
    expect(ta.spec).toEqual({ podIdentity: { provider: "aws", roleArn } });
  });

  it("refuses MSK IAM auth without the role to assume", () => {
    const chart = new Chart(new App(), "p");
    expect(() =>
      detectorAutoscaling(chart, {
        namespace: "ns",
        plan: sizePlanFrom({ preset: "stage-3" }),
        endpoints: fullOptions.endpoints,
        autoscaling: {},
      }),
    ).toThrow(/roleArn/);
  });

  it("has no TriggerAuthentication and no SASL without Kafka auth", () => {
    const objects = build(undefined, { kafkaBrokers: "kafka:9092", cassandraContactPoints: "c:9042" });
    expect(objects.map((o) => o.kind)).toEqual(["ScaledObject"]);
    expect(triggerOf(objects[0]!).metadata.sasl).toBeUndefined();
  });
});

describe("autoscaling as the plan says (size input detectorAutoscaling)", () => {
  it("is absent when off (the default, even with KEDA's settings given) and present, without fixed replicas, when keda", async () => {
    const { synthesizeManifests } = await import("../../charts/synth.ts");
    const off = synthesizeManifests(sizePlanFrom({ preset: "stage-6" }), { ...fullOptions, autoscaling: { roleArn } }).flatMap(
      (m) => m.objects as KedaObject[],
    );
    expect(off.filter((o) => o.kind === "ScaledObject" || o.kind === "TriggerAuthentication")).toEqual([]);
    const plan = sizePlanFrom({ preset: "stage-6", detectorAutoscaling: "keda" });
    expect(() => synthesizeManifests(plan, fullOptions)).toThrow(/autoscaling\.roleArn: required with kafkaAuth aws-iam/);
    const on = synthesizeManifests(plan, { ...fullOptions, autoscaling: { roleArn } }).flatMap((m) => m.objects as KedaObject[]);
    expect(on.filter((o) => o.kind === "ScaledObject").map((o) => o.spec.scaleTargetRef.name)).toEqual([components.detector]);
    const deployment = on.find((o) => o.kind === "Deployment" && o.metadata.name === components.detector)!;
    expect(deployment.spec.replicas).toBeUndefined();
  });
});
