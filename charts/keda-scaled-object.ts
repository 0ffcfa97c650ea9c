/**
 * Lag-based autoscaling of the detector Deployment with KEDA (installed by cdk/eks/keda.ts): a
 * `ScaledObject` with a Kafka trigger on the detector's consumer group and the events topic, and, for MSK IAM
 * auth, a `TriggerAuthentication` whose AWS identity is the detector's own role.
 *
 * The objects are the typed constructs generated from KEDA's own CRDs (charts/imports/keda-*.ts, written by
 * charts/crds/import-crds.ts from the KEDA release `kedaVersion` of cdk/versions.ts), and the tests validate
 * every one against the same CRDs' schemas (charts/crds/schemas/keda-*.json). The Kafka trigger's metadata is a
 * map of strings in the CRD; its keys follow KEDA's Kafka scaler (keda-docs content/docs/2.20/scalers/apache-kafka.md,
 * pkg/scalers/kafka_scaler.go): `sasl: oauthbearer` + `saslTokenProvider: aws_msk_iam` + `tls: enable` +
 * `awsRegion` is the same mechanism the pods use (kafkajs OAUTHBEARER with AWS's MSK IAM signer over TLS,
 * app/kafka/kafka-client.ts).
 *
 * Identity: KEDA's `identityOwner: workload` reads the IRSA annotation `eks.amazonaws.com/role-arn` of the
 * workload's ServiceAccount and fails without it (kedacore/keda#6418); the detector uses EKS Pod Identity (no
 * annotation), so the TriggerAuthentication names the detector's role with `podIdentity.roleArn` instead
 * (`provider: aws`): the operator, with its own Pod Identity credentials, assumes that role.
 */
import type { Construct } from "constructs";
import { detectorGroupId, topics } from "../app/topology.ts";
import type { SizePlan } from "../cdk/size/size-plan.ts";
import type { WorkloadEndpoints } from "../cdk/workload-endpoints.ts";
import { ScaledObject, type ScaledObjectProps } from "./imports/keda-scaledobjects.ts";
import {
  TriggerAuthentication,
  TriggerAuthenticationSpecPodIdentityProvider,
  type TriggerAuthenticationProps,
} from "./imports/keda-triggerauthentications.ts";
import { components, objectLabels } from "./names.ts";

/**
 * Seconds of a pod's planned rate that may wait in Kafka, on average per pod, before KEDA adds a pod. The
 * detector commits offsets once a second (app/detector/pipeline.ts), so a pod that keeps up already shows up
 * to about one second of its rate as lag; a second more is a backlog.
 */
export const lagSecondsPerPod = 2;

export interface DetectorAutoscaling {
  /** The IAM role KEDA assumes to read the lag: the detector's (required with kafkaAuth aws-iam). */
  readonly roleArn?: string;
}

/** The Kafka trigger's metadata: string values only (the CRD's `metadata` is a map of strings). */
export type KafkaTriggerMetadata = {
  readonly bootstrapServers: string;
  readonly consumerGroup: string;
  readonly topic: string;
  readonly lagThreshold: string;
  readonly offsetResetPolicy: "earliest" | "latest";
  readonly allowIdleConsumers: "false";
  readonly sasl?: "oauthbearer";
  readonly saslTokenProvider?: "aws_msk_iam";
  readonly tls?: "enable";
  readonly awsRegion?: string;
};

/** The specs as the generated constructs type them (from KEDA's CRDs). */
export type ScaledObjectSpec = ScaledObjectProps["spec"];
export type TriggerAuthenticationSpec = NonNullable<TriggerAuthenticationProps["spec"]>;

const meta = (name: string, namespace: string) => ({ name, namespace, labels: { ...objectLabels(components.detector) } });

/** The replica bounds and lag target from the plan: never more consumers than the events topic has partitions. */
export function detectorScaling(plan: SizePlan): { min: number; max: number; lagThreshold: number } {
  const max = Math.max(1, Math.floor(plan.kafka.partitions / plan.detector.consumersPerPod));
  const ratePerPod = plan.load.ratePerSecond / plan.detector.pods;
  return { min: 1, max, lagThreshold: Math.ceil(ratePerPod * lagSecondsPerPod) };
}

/** Adds the ScaledObject (and TriggerAuthentication with MSK IAM) for the detector Deployment. */
export function detectorAutoscaling(
  scope: Construct,
  props: { namespace: string; plan: SizePlan; endpoints: WorkloadEndpoints; autoscaling: DetectorAutoscaling },
): { scaledObject: ScaledObject; triggerAuthentication?: TriggerAuthentication } {
  const { namespace, plan, endpoints } = props;
  const { min, max, lagThreshold } = detectorScaling(plan);
  const iam = endpoints.kafkaAuth === "aws-iam";
  let triggerAuthentication: TriggerAuthentication | undefined;
  if (iam) {
    const roleArn = props.autoscaling.roleArn;
    if (roleArn === undefined || roleArn === "")
      throw new Error("autoscaling.roleArn: required with kafkaAuth aws-iam (the detector's IAM role, which KEDA assumes)");
    if (endpoints.awsRegion === undefined || endpoints.awsRegion === "")
      throw new Error("endpoints.awsRegion: required with kafkaAuth aws-iam");
    triggerAuthentication = new TriggerAuthentication(scope, "detector-trigger-auth", {
      metadata: meta(components.detector, namespace),
      spec: { podIdentity: { provider: TriggerAuthenticationSpecPodIdentityProvider.AWS, roleArn } },
    });
  }
  const metadata: KafkaTriggerMetadata = {
    bootstrapServers: endpoints.kafkaBrokers,
    consumerGroup: detectorGroupId,
    topic: topics.events,
    lagThreshold: String(lagThreshold),
    // The detector subscribes from the beginning for a new group.
    offsetResetPolicy: "earliest",
    allowIdleConsumers: "false",
    ...(iam ? { sasl: "oauthbearer", saslTokenProvider: "aws_msk_iam", tls: "enable", awsRegion: endpoints.awsRegion! } : {}),
  };
  const scaledObject = new ScaledObject(scope, "detector-scaled-object", {
    metadata: meta(components.detector, namespace),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: components.detector },
      minReplicaCount: min,
      maxReplicaCount: max,
      triggers: [
        { type: "kafka", metadata, ...(triggerAuthentication === undefined ? {} : { authenticationRef: { name: components.detector } }) },
      ],
    },
  });
  return triggerAuthentication === undefined ? { scaledObject } : { scaledObject, triggerAuthentication };
}
