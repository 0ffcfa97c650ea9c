/**
 * What a stage means on this machine (`--target local`). Stage k = k detector processes, each sized like one
 * detector pod of the size plan's smallest cloud stage (consumers, concurrency, connections, partitions per pod),
 * fed at the plan's per-pod rate scaled down so the largest local stage fits the machine's measured budget.
 * Nothing here restates a size-plan number: every figure is read from `deriveSizePlan` and scaled.
 *
 *   partitions(k) = k × ceil(plan.kafka.partitions / plan.detector.pods)
 *   rate(k)       = k × (plan.load.ratePerSecond / plan.detector.pods) × scale,
 *   scale         = machine.checksPerSecond / (machine.maxDetectorProcesses × plan per-pod rate)
 *
 * so rate(maxDetectorProcesses) = machine.checksPerSecond: the local rate grows linearly with k like the cloud's
 * grows with Cassandra nodes, and stays within what this machine sustains with everything co-located.
 */
import { availableParallelism } from "node:os";
import { limits, parseSizeInput } from "../../cdk/size/size-input.ts";
import { deriveSizePlan, type SizePlan } from "../../cdk/size/size-plan.ts";
import { clusterNodeCounts, clusterReplication } from "../local/local-cluster.ts";

export interface LocalMachine {
  /** Cores the whole local pipeline shares (Kafka, Cassandra, detectors, load generator, Prometheus). */
  readonly cores: number;
  /**
   * Checks/s the largest local stage is fed. This 2-core machine sustains roughly 1,000–2,000 checks/s with
   * everything co-located (`npm run local` measurements); we stay at the low end, as other work shares it.
   */
  readonly checksPerSecond: number;
  /** The largest local stage: more detector processes than this only fight over the same two cores. */
  readonly maxDetectorProcesses: number;
}

export const localMachine: LocalMachine = {
  cores: availableParallelism(),
  checksPerSecond: 1_000,
  maxDetectorProcesses: 4,
};

export interface LocalStageSize {
  /** The stage number the user typed: the number of detector processes. */
  readonly stage: number;
  readonly detectorProcesses: number;
  readonly partitions: number;
  readonly ratePerSecond: number;
  /** Distinct entity ids: ten events per id per second, so each id fills its 50-event window within the run. */
  readonly keys: number;
  readonly consumersPerProcess: number;
  readonly concurrency: number;
  readonly cassandraConnectionsPerHost: number;
  readonly requestsPerConnection: number;
  /** The cloud plan the per-process figures come from (the size model's smallest stage). */
  readonly reference: { readonly cassandraNodes: number; readonly detectorPods: number; readonly ratePerPod: number };
}

export class LocalStageError extends Error {
  override name = "LocalStageError";
}

/** The plan every local stage is scaled from: the smallest stage the cloud allows. */
export const referencePlan = (): SizePlan => deriveSizePlan(parseSizeInput({ cassandraNodes: limits.cassandraNodes.min }));

export function localStageSize(stage: number, machine: LocalMachine = localMachine, plan: SizePlan = referencePlan()): LocalStageSize {
  if (!Number.isInteger(stage) || stage < 1 || stage > machine.maxDetectorProcesses) {
    throw new LocalStageError(
      `stage ${stage}: allowed for --target local: an integer from 1 to ${machine.maxDetectorProcesses} (the number of detector processes on this ${machine.cores}-core machine)`,
    );
  }
  const ratePerPod = plan.load.ratePerSecond / plan.detector.pods;
  const scale = machine.checksPerSecond / (machine.maxDetectorProcesses * ratePerPod);
  const ratePerSecond = Math.max(1, Math.round(stage * ratePerPod * scale));
  return {
    stage,
    detectorProcesses: stage,
    partitions: stage * Math.max(plan.detector.consumersPerPod, Math.ceil(plan.kafka.partitions / plan.detector.pods)),
    ratePerSecond,
    keys: Math.max(1, Math.round(ratePerSecond / 10)),
    consumersPerProcess: plan.detector.consumersPerPod,
    concurrency: plan.detector.concurrency,
    cassandraConnectionsPerHost: plan.detector.cassandraConnectionsPerHost,
    requestsPerConnection: plan.detector.requestsPerConnection,
    reference: { cassandraNodes: plan.cassandra.nodes, detectorPods: plan.detector.pods, ratePerPod },
  };
}

/**
 * `--target local-cluster`: stage n = n Kafka brokers and n Cassandra nodes (the cluster of local-cluster.ts),
 * as a cloud stage counts its Cassandra nodes, so growing from stage 3 to 6 adds brokers and nodes to a running
 * cluster as the cloud does. One detector process per replication factor's worth of nodes, each sized like a
 * local stage's; the rate grows linearly with n up to `checksPerSecond` at the largest cluster.
 */
export interface LocalClusterMachine {
  readonly cores: number;
  /**
   * Checks/s the largest cluster is fed. Up to twelve server JVMs, Prometheus, the detectors and the load
   * generator share this machine's two cores, and every write goes to three replicas. At 150 the six-node
   * stage fell behind (about 100 checks/s: results/experiments/local-cluster-growth), so 100, which puts the
   * three-node stage at the fault campaign's 50 events/s.
   */
  readonly checksPerSecond: number;
}

export const localClusterMachine: LocalClusterMachine = { cores: availableParallelism(), checksPerSecond: 100 };

export interface LocalClusterStageSize extends LocalStageSize {
  /** Kafka brokers, and Cassandra nodes: the stage number. */
  readonly nodes: number;
}

export function localClusterStageSize(
  nodes: number,
  machine: LocalClusterMachine = localClusterMachine,
  plan: SizePlan = referencePlan(),
): LocalClusterStageSize {
  if (!Number.isInteger(nodes) || nodes < clusterNodeCounts.min || nodes > clusterNodeCounts.max) {
    throw new LocalStageError(
      `stage ${nodes}: allowed: an integer from ${clusterNodeCounts.min} to ${clusterNodeCounts.max} for --target local-cluster (Kafka brokers and Cassandra nodes of the local cluster)`,
    );
  }
  const detectorProcesses = Math.max(1, Math.round(nodes / clusterReplication.factor));
  const perProcess = localStageSize(detectorProcesses, localMachine, plan);
  const ratePerSecond = Math.max(1, Math.round((nodes / clusterNodeCounts.max) * machine.checksPerSecond));
  return { ...perProcess, stage: nodes, nodes, ratePerSecond, keys: Math.max(1, Math.round(ratePerSecond / 10)) };
}
