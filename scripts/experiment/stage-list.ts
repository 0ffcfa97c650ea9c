/** `--stages` for a target: AWS stages go through the size model (3..48); local ones are detector-process counts. */
import { InvalidArgumentError } from "commander";
import { SizeInputError } from "../../cdk/size/size-input.ts";
import { parseStages } from "../cost/stages.ts";
import { localClusterStageSize, LocalStageError, localMachine, localStageSize } from "./local-stage-size.ts";
import { clusterNodeCounts } from "../local/local-cluster.ts";
import type { Target } from "./stage-result.ts";

/**
 * The stage list for a target: AWS stages go through the size model (3..48); local ones are detector processes;
 * local-cluster ones are the cluster's brokers and nodes, in growing order (the cluster grows, never shrinks).
 */
export function parseStageList(spec: string, target: Target, id: string): number[] {
  if (target === "aws") {
    try {
      return parseStages(spec, { experimentId: id }).map((s) => s.plan.cassandra.nodes);
    } catch (err) {
      if (err instanceof SizeInputError) throw new InvalidArgumentError(`--stages ${JSON.stringify(spec)}: ${err.message}`);
      throw err;
    }
  }
  const items = spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const cluster = target === "local-cluster";
  const allowed = cluster
    ? `comma-separated, growing node counts from ${clusterNodeCounts.min} to ${clusterNodeCounts.max} for --target local-cluster (Kafka brokers and Cassandra nodes), e.g. 3,6`
    : `comma-separated detector-process counts from 1 to ${localMachine.maxDetectorProcesses} for --target local, e.g. 1,2`;
  if (items.length === 0) throw new InvalidArgumentError(`--stages ${JSON.stringify(spec)}: allowed: ${allowed}`);
  const stages = items.map((item) => {
    if (!/^\d+$/.test(item))
      throw new InvalidArgumentError(`--stages ${JSON.stringify(spec)}: ${JSON.stringify(item)} is not a number; allowed: ${allowed}`);
    try {
      return (cluster ? localClusterStageSize(Number(item)) : localStageSize(Number(item))).stage;
    } catch (err) {
      if (err instanceof LocalStageError) throw new InvalidArgumentError(`--stages ${JSON.stringify(spec)}: ${err.message}`);
      throw err;
    }
  });
  if (new Set(stages).size !== stages.length)
    throw new InvalidArgumentError(`--stages ${JSON.stringify(spec)}: a stage is given twice; allowed: each stage once`);
  if (cluster && stages.some((n, i) => i > 0 && n < stages[i - 1]!)) {
    throw new InvalidArgumentError(`--stages ${JSON.stringify(spec)}: the cluster cannot shrink between stages; allowed: ${allowed}`);
  }
  return stages;
}
