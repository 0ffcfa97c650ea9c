/**
 * The one function that turns validated size input into every derived number: instance counts,
 * Kafka partitions, detector pods and their pools, Cassandra connections, load rate. The CDK stacks,
 * the cdk8s charts, the app's config and the cost plan all read a SizePlan; none recompute these.
 */
import {
  cassandraInstanceTypes,
  kafkaInstanceTypes,
  workerInstanceTypes,
  type CassandraInstanceType,
  type KafkaInstanceType,
  type WorkerInstanceType,
} from "./instance-types.ts";
import { availabilityZoneCount, limits, parseSizeInput, SizeInputError, type SizeInput } from "./size-input.ts";

/**
 * Planning figures. Where they come from:
 * - checks per Cassandra node: the reference's 220,000 checks/s on 48 × i3.2xlarge (the system this kit
 *   replaces),
 *   scaled by the node's vCPUs relative to an i3.2xlarge;
 * - a detector pod's capacity: the detector's CPU seconds per 1,000 checks measured by `npm run bench` in the
 *   history mode the plan is given (see detectorCpuSecondsPer1000Checks), at half load;
 * - one Kafka broker (m5.2xlarge class) per 6 Cassandra nodes: the reference's 9 brokers for 48 nodes;
 * - a detector pod's memory: what one detector held outside V8's heap with the pod's planned rate offered at the
 *   plan's concurrency and connections, inside a memory limit (see detectorMemoryAtSaturation), with half again
 *   as headroom, plus an old space of detectorOldSpacePerHeapMiB × its peak heap; the heap gets what the limit
 *   leaves after the rest of the process (detectorMaxOldSpaceMiB).
 */
/**
 * One detector saturated (5,000 events/s offered to a 2-core machine that checks ~1,600/s, so every in-flight
 * slot and fetch buffer stays full: an upper bound for a pod at planning.detectorPod.checksPerSecond), at
 * concurrency 64, 1 connection per host, 3,200 keys, for 60 s, inside a 576 MiB cgroup with the old space at
 * 432 MiB: peak RSS and peak V8 heap (used and unused), MiB. Node's RSS outside a limit was about twice this:
 * V8 grows its heap lazily against a 4 GiB default, so a host run overstates a pod's need.
 * Source: results/bench/detector-memory-576.json (`npm run local -- --rate 5000 --duration 60 --concurrency 64
 * --cassandra-connections-per-host 1 --keys 3200 --detector-memory-mib 576 --output <file>`); the same run under
 * a limit sized from peak RSS alone: results/bench/detector-memory-320*.json.
 */
const detectorMemoryAtSaturation = { peakRssMiB: 192.7, peakHeapTotalMiB: 77.7 } as const;
/**
 * The detector's CPU seconds per 1,000 checks at saturation: the median over a run's four drain trials, from
 * `npm run bench` on a 2-core machine: of two runs back to back that agreed on drain rate and ratio to the
 * Cassandra ceiling (results/bench/run-c.json, results/bench/run-d.json), the plan takes the larger figure; runs
 * in other spells of the shared machine (run-a.json, run-b.json) spread both ways. It replaces an earlier budget
 * of 0.2, which the detector has not met here (a pod planned on it would have run at twice the load).
 */
const readDetectorCpuSecondsPer1000Checks = 0.401;
/**
 * The same with held history (the detector reads Cassandra only on a miss): the largest over the held drains of
 * the history pairs of `npm run bench` (results/bench/history-modes.json), where read drains ran interleaved with them.
 */
const heldDetectorCpuSecondsPer1000Checks = 0.193;
/** Per history mode (DETECTOR_HISTORY): what a pod's capacity is planned from. */
const detectorCpuSecondsPer1000Checks = { held: heldDetectorCpuSecondsPer1000Checks, read: readDetectorCpuSecondsPer1000Checks } as const;
/** A pod is planned at half its CPU's capacity: room for the tail, GC, rebalances and a slower host. */
const detectorPodLoad = 0.5;
const detectorPodCpu = 2;
/** CPUs ÷ CPU seconds per check × the pod's load, in whole hundreds. */
const podChecksPerSecond = (cpuSecondsPer1000Checks: number) =>
  Math.floor(((detectorPodCpu / cpuSecondsPer1000Checks) * 1000 * detectorPodLoad) / 100) * 100;
const memoryHeadroom = 1.5;
/**
 * What the detector holds outside V8's heap (code, Kafka and Cassandra buffers, the runtime) with the same
 * headroom: a limit must leave this much beside the old space.
 */
const detectorNonHeapMiB = (detectorMemoryAtSaturation.peakRssMiB - detectorMemoryAtSaturation.peakHeapTotalMiB) * memoryHeadroom;
/**
 * Old space per MiB of peak heap. V8 grows its heap by a smaller factor the smaller its limit, so a tight old
 * space fits but collects far more often: with the old space at 2.7× the peak heap (a 320 MiB limit, peak RSS
 * with headroom) GC took 37 % of the detector's CPU, at 5× (576 MiB) 15 %
 * (results/bench/detector-memory-320-gc.json, detector-memory-576-gc.json), and the pod's capacity
 * (detectorCpuSecondsPer1000Checks) was measured with a roomy heap.
 */
const detectorOldSpacePerHeapMiB = 5;
/** Kubernetes memory in whole 64 MiB steps. */
const roundUpMiB = (mib: number) => Math.ceil(mib / 64) * 64;

/** The smallest old space worth starting a detector with: its heap at saturation never reached this (MiB). */
const detectorMinOldSpaceMiB = 64;

/**
 * The detector's V8 old space (MiB) under a memory limit of `memoryMiB` (the pod's, or a local run's cgroup):
 * what the limit leaves after detectorNonHeapMiB. Set explicitly, not left to Node's own reading of the cgroup
 * (half the limit): then V8 collects before the kernel's OOM killer ends the process, whatever the limit.
 */
export function detectorMaxOldSpaceMiB(memoryMiB: number): number {
  const least = Math.ceil(detectorNonHeapMiB + detectorMinOldSpaceMiB);
  if (!Number.isInteger(memoryMiB) || memoryMiB < least) {
    throw new Error(
      `detector memoryMiB = ${memoryMiB}: allowed: an integer of at least ${least} (${Math.ceil(detectorNonHeapMiB)} MiB outside the heap and a ${detectorMinOldSpaceMiB} MiB old space)`,
    );
  }
  return Math.floor(memoryMiB - detectorNonHeapMiB);
}

export const planning = {
  checksPerSecondPerCassandraVcpu: 220_000 / 48 / 8,
  detectorPod: {
    cpu: detectorPodCpu,
    memoryMiB: roundUpMiB(detectorNonHeapMiB + detectorMemoryAtSaturation.peakHeapTotalMiB * detectorOldSpacePerHeapMiB),
    /** A pod's planned checks/s with the default history mode (held). */
    checksPerSecond: podChecksPerSecond(detectorCpuSecondsPer1000Checks.held),
    /** The same per history mode: the plan sizes the pods for the mode it is given. */
    checksPerSecondByHistory: {
      held: podChecksPerSecond(detectorCpuSecondsPer1000Checks.held),
      read: podChecksPerSecond(detectorCpuSecondsPer1000Checks.read),
    },
    /**
     * Held history's key budget per pod: this many times the keys a pod owns on average (room for partitions of
     * uneven size), about 1.2 KiB of heap each, which the old space above has room for many times over.
     */
    heldKeysPerOwnedKey: 2,
  },
  loadgenPod: { cpu: 1, memoryMiB: 256, eventsPerSecond: 25_000 },
  cassandraNodesPerKafkaBroker: 6,
  /** Per-pod in-flight checks: rate × latency with room for the tail (Little's law at ~10 ms). */
  detectorConcurrency: 64,
  consumersPerPod: 1,
  cassandraConnectionsPerHost: 1,
  /** cassandra-driver's default; one connection carries many concurrent requests. */
  requestsPerConnection: 2048,
  /**
   * Distinct keys per in-flight check. Checks of one key run one at a time (per-key order), so keys must
   * far outnumber the checks in flight; with uniform keys, 50 per slot keeps same-key waits near 1 %.
   */
  keysPerInFlightCheck: 50,
  /** vCPUs per worker node kept for kubelet, Prometheus, Grafana, Jaeger and the operator. */
  workerReservedVcpus: 2,
  workerTargetUtilisation: 0.75,
  kafka: {
    replicationFactor: 3,
    minInsyncReplicas: 2,
    /** Bytes on disk per checked event: the event record plus its verdict record, with batch overhead. */
    bytesPerCheckedEvent: 300,
    /** Broker storage holds this many hours of full-rate traffic (all replicas); MSK volumes only grow, once per cool-down. */
    hoursAtFullRate: 6,
    minStorageGiB: 100,
  },
  cassandra: { replicationFactor: 3 },
} as const;

export interface SizePlan {
  readonly input: SizeInput;
  readonly region: string;
  readonly availabilityZones: readonly string[];
  readonly experimentId: string;
  readonly cassandra: {
    readonly nodes: number;
    readonly instanceType: CassandraInstanceType;
    readonly vcpus: number;
    readonly replicationFactor: number;
  };
  readonly kafka: {
    readonly brokers: number;
    readonly instanceType: KafkaInstanceType;
    readonly vcpus: number;
    readonly partitions: number;
    readonly replicationFactor: number;
    readonly minInsyncReplicas: number;
    /** EBS volume per broker (MSK broker storage): one value for the whole experiment (experimentKafkaStorageGiB). */
    readonly storageGiBPerBroker: number;
  };
  readonly eks: { readonly workerNodes: number; readonly instanceType: WorkerInstanceType; readonly vcpus: number };
  readonly detector: {
    readonly pods: number;
    readonly cpu: number;
    readonly memoryMiB: number;
    /** The Node heap's old space under that limit (detectorMaxOldSpaceMiB), set on the container as NODE_OPTIONS. */
    readonly maxOldSpaceMiB: number;
    readonly consumersPerPod: number;
    readonly concurrency: number;
    readonly cassandraConnectionsPerHost: number;
    readonly requestsPerConnection: number;
    /** The spatial check's neighbour strategy, or off (the size input's spatialStrategy). */
    readonly spatialStrategy: SizeInput["spatialStrategy"];
    /** Fixed pods, or KEDA scaling them on lag (the size input's detectorAutoscaling). */
    readonly autoscaling: SizeInput["detectorAutoscaling"];
    /** Where a check's history comes from (the size input's detectorHistory): the pods are sized for it. */
    readonly history: SizeInput["detectorHistory"];
    /** Held history's key budget per pod (DETECTOR_HELD_KEYS). */
    readonly heldKeys: number;
  };
  readonly load: {
    readonly ratePerSecond: number;
    readonly pods: number;
    /** Each load generator pod's share of the rate (pods × this ≥ ratePerSecond). */
    readonly ratePerPod: number;
    /** Distinct keys (entity ids) the load generators spread events over. */
    readonly keys: number;
    readonly cpu: number;
    readonly memoryMiB: number;
    /** Located events around moving hot spots, or off (the size input's spatialWorkload). */
    readonly spatialWorkload: SizeInput["spatialWorkload"];
  };
  readonly totalVcpus: number;
}

const roundUpTo = (n: number, multiple: number) => Math.ceil(n / multiple) * multiple;

/** Checks per second the plan offers a ring of `cassandraNodes` nodes of the input's instance type. */
const planRate = (input: SizeInput, cassandraNodes: number): number =>
  Math.round(cassandraNodes * cassandraInstanceTypes[input.cassandraInstanceType].vcpus * planning.checksPerSecondPerCassandraVcpu);

/** Brokers for `cassandraNodes`: the input's count, or one per 6 Cassandra nodes in whole rows of the zones. */
const planBrokers = (input: SizeInput, cassandraNodes: number): number =>
  input.kafkaBrokers ??
  Math.min(
    limits.kafkaBrokers.max,
    roundUpTo(Math.max(limits.kafkaBrokers.min, cassandraNodes / planning.cassandraNodesPerKafkaBroker), availabilityZoneCount),
  );

/** EBS per broker that `cassandraNodes` need: hoursAtFullRate of full-rate traffic (all replicas), in 100 GiB steps. */
export function kafkaStorageNeedGiB(input: SizeInput, cassandraNodes: number): number {
  const bytes =
    planRate(input, cassandraNodes) *
    planning.kafka.bytesPerCheckedEvent *
    planning.kafka.replicationFactor *
    3600 *
    planning.kafka.hoursAtFullRate;
  return Math.max(planning.kafka.minStorageGiB, roundUpTo(bytes / planBrokers(input, cassandraNodes) / 2 ** 30, 100));
}

/**
 * MSK storage per broker for a whole experiment: the input's kafkaStorageGiB, or the most any stage the size
 * model accepts needs (per broker that is not always the largest stage: brokers grow in steps of the zones).
 * Never a function of this stage's size: MSK allows one storage increase per cool-down of 6 to 24 hours, so
 * a stage that grew it would make the next growth step fail and roll back.
 */
export function experimentKafkaStorageGiB(input: SizeInput): number {
  if (input.kafkaStorageGiB !== undefined) {
    const need = kafkaStorageNeedGiB(input, input.cassandraNodes);
    if (input.kafkaStorageGiB < need) {
      throw new SizeInputError(
        `kafkaStorageGiB = ${input.kafkaStorageGiB}: allowed: at least ${need} (GiB per broker that ${input.cassandraNodes} Cassandra nodes need for ` +
          `${planning.kafka.hoursAtFullRate} h of full-rate traffic on ${planBrokers(input, input.cassandraNodes)} brokers) and at most ${limits.kafkaStorageGiB.max}`,
      );
    }
    return input.kafkaStorageGiB;
  }
  let most = 0;
  for (let nodes = limits.cassandraNodes.min; nodes <= limits.cassandraNodes.max; nodes++)
    most = Math.max(most, kafkaStorageNeedGiB(input, nodes));
  return most;
}

export function deriveSizePlan(input: SizeInput): SizePlan {
  const cassandraType = cassandraInstanceTypes[input.cassandraInstanceType];
  const kafkaType = kafkaInstanceTypes[input.kafkaInstanceType];
  const workerType = workerInstanceTypes[input.workerInstanceType];

  const ratePerSecond = planRate(input, input.cassandraNodes);
  const brokers = planBrokers(input, input.cassandraNodes);
  const detectorPods = Math.max(2, Math.ceil(ratePerSecond / planning.detectorPod.checksPerSecondByHistory[input.detectorHistory]));
  const keys = detectorPods * planning.detectorConcurrency * planning.keysPerInFlightCheck;
  const loadPods = Math.max(1, Math.ceil(ratePerSecond / planning.loadgenPod.eventsPerSecond));
  // Every consumer needs a partition of its own; a multiple of the brokers spreads leaders evenly.
  const partitions = roundUpTo(detectorPods * planning.consumersPerPod, brokers);
  const storageGiBPerBroker = experimentKafkaStorageGiB(input);
  const podVcpus = detectorPods * planning.detectorPod.cpu + loadPods * planning.loadgenPod.cpu;
  const usableWorkerVcpus = (workerType.vcpus - planning.workerReservedVcpus) * planning.workerTargetUtilisation;
  const workerNodes =
    input.workerNodes ?? Math.min(limits.workerNodes.max, Math.max(limits.workerNodes.min, Math.ceil(podVcpus / usableWorkerVcpus)));

  return {
    input,
    region: input.region,
    availabilityZones: input.availabilityZones,
    experimentId: input.experimentId,
    cassandra: {
      nodes: input.cassandraNodes,
      instanceType: input.cassandraInstanceType,
      vcpus: cassandraType.vcpus,
      replicationFactor: planning.cassandra.replicationFactor,
    },
    kafka: {
      brokers,
      instanceType: input.kafkaInstanceType,
      vcpus: kafkaType.vcpus,
      partitions,
      replicationFactor: planning.kafka.replicationFactor,
      minInsyncReplicas: planning.kafka.minInsyncReplicas,
      storageGiBPerBroker,
    },
    eks: { workerNodes, instanceType: input.workerInstanceType, vcpus: workerType.vcpus },
    detector: {
      pods: detectorPods,
      cpu: planning.detectorPod.cpu,
      memoryMiB: planning.detectorPod.memoryMiB,
      maxOldSpaceMiB: detectorMaxOldSpaceMiB(planning.detectorPod.memoryMiB),
      consumersPerPod: planning.consumersPerPod,
      concurrency: planning.detectorConcurrency,
      cassandraConnectionsPerHost: planning.cassandraConnectionsPerHost,
      requestsPerConnection: planning.requestsPerConnection,
      spatialStrategy: input.spatialStrategy,
      autoscaling: input.detectorAutoscaling,
      history: input.detectorHistory,
      heldKeys: Math.ceil((keys / detectorPods) * planning.detectorPod.heldKeysPerOwnedKey),
    },
    load: {
      ratePerSecond,
      pods: loadPods,
      ratePerPod: Math.ceil(ratePerSecond / loadPods),
      keys,
      cpu: planning.loadgenPod.cpu,
      memoryMiB: planning.loadgenPod.memoryMiB,
      spatialWorkload: input.spatialWorkload,
    },
    totalVcpus: input.cassandraNodes * cassandraType.vcpus + brokers * kafkaType.vcpus + workerNodes * workerType.vcpus,
  };
}

/** Parse and derive in one step: what the CDK app, the charts and the scripts call. */
export const sizePlanFrom = (raw: Readonly<Record<string, unknown>>): SizePlan => deriveSizePlan(parseSizeInput(raw));
