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
