/** The size flags plan, preflight and the experiment runner share, mapped onto the size model's keys. */
import type { Command } from "commander";
import { parseStages, type Stage } from "./stages.ts";

export interface StageOptions {
  region?: string;
  availabilityZones?: string;
  experimentId?: string;
  cassandraInstanceType?: string;
  kafkaInstanceType?: string;
  workerInstanceType?: string;
  kafkaBrokers?: string;
  workerNodes?: string;
  /** MSK storage per broker for every stage (the size model's kafkaStorageGiB). */
  kafkaStorageGiB?: string | number;
}

export const addStageOptions = (command: Command): Command =>
  command
    .option("--region <region>", "AWS region (size model default: us-east-1)")
    .option("--availability-zones <zones>", "three comma-separated zone names (default: <region>a,b,c)")
    .option("--experiment-id <id>", "experiment id, the value of every resource's anomaly-kit:experiment tag")
    .option("--cassandra-instance-type <type>", "Cassandra instance type (i3.*)")
    .option("--kafka-instance-type <type>", "MSK broker type (kafka.*)")
    .option("--worker-instance-type <type>", "EKS worker instance type")
    .option("--kafka-brokers <n>", "MSK brokers for every stage (default: derived per stage)")
    .option("--worker-nodes <n>", "EKS worker nodes for every stage (default: derived per stage)");

export const stagesFromOptions = (spec: string, o: StageOptions): Stage[] =>
  parseStages(spec, {
    region: o.region,
    availabilityZones: o.availabilityZones,
    experimentId: o.experimentId,
    cassandraInstanceType: o.cassandraInstanceType,
    kafkaInstanceType: o.kafkaInstanceType,
    workerInstanceType: o.workerInstanceType,
    kafkaBrokers: o.kafkaBrokers,
    workerNodes: o.workerNodes,
    kafkaStorageGiB: o.kafkaStorageGiB,
  });
