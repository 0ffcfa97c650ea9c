/**
 * The pipeline: the schema Job, the detector and the load generator, sized by the size plan. Every knob reaches
 * the pods as the environment variable the app reads (app/config.ts), through the app's own `detectorEnv` /
 * `loadgenEnv`, which validate the values the way the app will at start.
 */
import { Chart, JsonPatch, type ChartProps } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import {
  detectorEnv,
  detectorEnvNames,
  loadgenEnv,
  loadgenEnvNames,
  parseDetectorConfig,
  type DetectorConfig,
  type LoadgenConfig,
} from "../app/config.ts";
import { cassandraPorts, kafkaPorts } from "../cdk/servers/ports.ts";
import { nodeHeapEnv } from "../cdk/size/node-heap.ts";
import type { SizePlan } from "../cdk/size/size-plan.ts";
import type { WorkloadEndpoints } from "../cdk/workload-endpoints.ts";
import { appWorkload, type AppWorkload } from "./app-workload.ts";
import type { TokenResolver } from "./job-name.ts";
import { detectorAutoscaling, type DetectorAutoscaling } from "./keda-scaled-object.ts";
import { schemaJob } from "./schema-job.ts";
import { allowOnly, awsApis, cidr, clusterDns, podIdentityAgent, podsOf, type Peer, type Rule } from "./network-policy.ts";
import { components, jaegerOtlpHttpUrl, objectLabels, ports, selectorLabels } from "./names.ts";
import { isUnresolved, type AppImage } from "./options.ts";

/** Kafka client ports: plaintext (local and MSK), TLS, SASL/SCRAM, IAM. */
export const kafkaClientPorts = [kafkaPorts.localClient, kafkaPorts.mskTls, kafkaPorts.mskScram, kafkaPorts.mskIam];

/** Seconds the load generator gets to flush its producer after SIGTERM (it has no drain setting of its own). */
export const loadGeneratorDrainSeconds = 10;

export interface PipelineChartProps extends ChartProps {
  readonly namespace: string;
  readonly plan: SizePlan;
  readonly endpoints: WorkloadEndpoints;
  readonly app: AppImage;
  readonly tracingSampleRatio: number;
  /** For the schema Job's name (ChartOptions.resolveTokens). */
  readonly resolveTokens?: TokenResolver;
  /** KEDA's settings (ChartOptions.autoscaling), used when the plan scales the detector on lag. */
  readonly autoscaling?: DetectorAutoscaling;
}

/**
 * Endpoint values as env vars: checked through the app's schema when known at synth time; a CDK token
 * (resolved at deploy time) is passed as is.
 */
function endpointEnv(
  names: Readonly<Record<string, string>>,
  values: Readonly<Record<string, string | undefined>>,
  check: (concrete: Record<string, string[] | string>) => Record<string, string>,
): Record<string, string> {
  const unresolved: Record<string, string> = {};
  const concrete: Record<string, string[] | string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (isUnresolved(value)) unresolved[names[key]!] = value;
    else concrete[key] = key === "kafkaBrokers" || key === "cassandraContactPoints" ? value.split(",") : value;
  }
  return { ...check(concrete), ...unresolved };
}

export class PipelineChart extends Chart {
  readonly detector: AppWorkload;
  readonly loadGenerator: AppWorkload;
  readonly detectorDisruptionBudget: k8s.KubePodDisruptionBudget;
  readonly schemaJob: k8s.KubeJob;

  constructor(scope: Construct, id: string, props: PipelineChartProps) {
    super(scope, id, props);
    const { namespace, plan, endpoints, app } = props;
    const tracing = { tracingSampleRatio: props.tracingSampleRatio, otlpEndpoint: jaegerOtlpHttpUrl(namespace) };
    // A region newer than the kit's list, allowed by the size input's extraRegions, is allowed by the app too.
    const regions = plan.input.extraRegions.length === 0 ? {} : { extraAwsRegions: [...plan.input.extraRegions] };
    const topicsAsPlanned = { partitions: plan.kafka.partitions, topicReplicationFactor: plan.kafka.replicationFactor, ...regions };
    const drainSeconds = parseDetectorConfig({ env: {} }).shutdownTimeoutSeconds;
    const useAws = endpoints.awsApis ?? true;

    // What the detector and the schema Job share: where the servers are, how to log in, the schema's shape.
    const kafkaAccess = {
      kafkaBrokers: endpoints.kafkaBrokers,
      kafkaAuth: endpoints.kafkaAuth,
      awsRegion: endpoints.awsRegion,
    };
    // The spatial check, only when chosen (the default manifests stay as they were): the schema Job
    // then makes its tables and indexes (ensureSchema), and the detectors wait for them.
    const spatial: Partial<DetectorConfig> =
      plan.detector.spatialStrategy === "off" ? {} : { spatialStrategy: plan.detector.spatialStrategy };
    const storeValues: Partial<DetectorConfig> = {
      ...topicsAsPlanned,
      replicationFactor: plan.cassandra.replicationFactor,
      ...spatial,
    };
    const storeEnv = {
      ...detectorEnv(storeValues),
      ...endpointEnv(
        detectorEnvNames,
        {
          ...kafkaAccess,
          cassandraContactPoints: endpoints.cassandraContactPoints,
          cassandraLocalDataCenter: endpoints.cassandraLocalDataCenter,
          cassandraUsername: endpoints.cassandraUsername,
          cassandraPasswordSecretArn: endpoints.cassandraPasswordSecretArn,
          cassandraTlsCaSecretArn: endpoints.cassandraTlsCaSecretArn,
        },
        (concrete) => detectorEnv(concrete),
      ),
    };

    this.schemaJob = schemaJob(this, {
      namespace,
      image: app.image,
      args: app.schemaArgs,
      uid: app.uid,
      revision: app.revision ?? "",
      // The detector's AWS role: it may create the topics and read the Cassandra password.
      serviceAccountName: components.detector,
      mountServiceAccountToken: useAws,
      env: storeEnv,
      resolveTokens: props.resolveTokens,
    });

    const detectorValues: Partial<DetectorConfig> = {
      ...tracing,
      metricsPort: ports.app,
      consumersPerProcess: plan.detector.consumersPerPod,
      detectorConcurrency: plan.detector.concurrency,
      detectorHistory: plan.detector.history,
      heldKeys: plan.detector.heldKeys,
      cassandraConnectionsPerHost: plan.detector.cassandraConnectionsPerHost,
      requestsPerConnection: plan.detector.requestsPerConnection,
      shutdownTimeoutSeconds: drainSeconds,
      // The schema Job makes the schema once; the detectors wait for it (not ready meanwhile).
      createSchema: false,
    };
    this.detector = appWorkload(this, {
      namespace,
      component: components.detector,
      replicas: plan.detector.pods,
      image: app.image,
      args: app.detectorArgs,
      uid: app.uid,
      cpu: plan.detector.cpu,
      memoryMiB: plan.detector.memoryMiB,
      drainSeconds,
      mountServiceAccountToken: useAws,
      // Node's heap from the pod's memory limit (the size plan's derivation), so V8 collects before the OOM killer.
      env: { ...storeEnv, ...detectorEnv(detectorValues), ...nodeHeapEnv(plan.detector.maxOldSpaceMiB) },
    });

    if (plan.detector.autoscaling === "keda") {
      detectorAutoscaling(this, { namespace, plan, endpoints, autoscaling: props.autoscaling ?? {} });
      // The HPA KEDA makes owns the replica count: a re-apply must not reset it.
      this.detector.deployment.addJsonPatch(JsonPatch.remove("/spec/replicas"));
    }

    const loadValues: Partial<LoadgenConfig> = {
      ...topicsAsPlanned,
      ...tracing,
      metricsPort: ports.app,
      rate: plan.load.ratePerPod,
      keys: plan.load.keys,
      // A Deployment's pods run until they are stopped.
      duration: 0,
      ...(plan.load.spatialWorkload === "off" ? {} : { spatialWorkload: plan.load.spatialWorkload }),
    };
    this.loadGenerator = appWorkload(this, {
      namespace,
      component: components.loadGenerator,
      replicas: plan.load.pods,
      image: app.image,
      args: app.loadGeneratorArgs,
      uid: app.uid,
      cpu: plan.load.cpu,
      memoryMiB: plan.load.memoryMiB,
      drainSeconds: loadGeneratorDrainSeconds,
      mountServiceAccountToken: useAws,
      env: {
        ...loadgenEnv(loadValues),
        ...endpointEnv(loadgenEnvNames, kafkaAccess, (concrete) => loadgenEnv(concrete)),
      },
      // Each pod's keys are its own (prefix = pod name): a key's values then come from one generator's model,
      // never from two pods' different levels mixed into one history (which the detector would flag).
      envFromPod: { [loadgenEnvNames.keyPrefix]: "metadata.name" },
    });

    // One detector down at a time: each disruption is a consumer-group rebalance.
    this.detectorDisruptionBudget = new k8s.KubePodDisruptionBudget(this, "detector-pdb", {
      metadata: { name: components.detector, namespace, labels: { ...objectLabels(components.detector) } },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...selectorLabels(components.detector) } } },
    });

    const dataPlane: Peer[] = (endpoints.dataPlaneCidrs ?? []).map(cidr);
    const fromPrometheus = { peers: [podsOf(components.prometheus)], tcp: [ports.app] };
    const toJaeger = { peers: [podsOf(components.jaeger)], tcp: [ports.jaegerOtlpHttp, ports.jaegerOtlpGrpc] };
    const toKafka = { peers: dataPlane, tcp: kafkaClientPorts };
    // MSK IAM auth signs with the pod's credentials; the detector and the schema Job also read the Cassandra
    // password from AWS.
    const aws: Rule[] = useAws ? [podIdentityAgent, awsApis] : [];
    allowOnly(this, namespace, components.detector, {
      ingress: [fromPrometheus],
      egress: [clusterDns, toKafka, { peers: dataPlane, tcp: [cassandraPorts.cql] }, toJaeger, ...aws],
    });
    allowOnly(this, namespace, components.loadGenerator, {
      ingress: [fromPrometheus],
      egress: [clusterDns, toKafka, toJaeger, ...aws],
    });
    allowOnly(this, namespace, components.schema, {
      ingress: [],
      egress: [clusterDns, toKafka, { peers: dataPlane, tcp: [cassandraPorts.cql] }, ...aws],
    });
  }
}
