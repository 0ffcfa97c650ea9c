/**
 * The instance types each tier may use, with the facts the size model and the cost plan need.
 * Cassandra is limited to i3 (NVMe instance store, what the reference ran on); Kafka to the MSK
 * broker types; EKS workers to compute-optimised families.
 */
export interface InstanceType {
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** Instance-store NVMe disks (count × GB); 0 for EBS-only types. */
  readonly nvmeDisks: number;
  readonly nvmeDiskGB: number;
}

const i3 = (vcpus: number, memoryGiB: number, nvmeDisks: number, nvmeDiskGB: number): InstanceType => ({
  vcpus,
  memoryGiB,
  nvmeDisks,
  nvmeDiskGB,
});
const ebsOnly = (vcpus: number, memoryGiB: number): InstanceType => ({ vcpus, memoryGiB, nvmeDisks: 0, nvmeDiskGB: 0 });

export const cassandraInstanceTypes = {
  "i3.large": i3(2, 15.25, 1, 475),
  "i3.xlarge": i3(4, 30.5, 1, 950),
  "i3.2xlarge": i3(8, 61, 1, 1900),
  "i3.4xlarge": i3(16, 122, 2, 1900),
  "i3.8xlarge": i3(32, 244, 4, 1900),
  "i3.16xlarge": i3(64, 488, 8, 1900),
} as const satisfies Record<string, InstanceType>;

export const kafkaInstanceTypes = {
  "kafka.m5.large": ebsOnly(2, 8),
  "kafka.m5.xlarge": ebsOnly(4, 16),
  "kafka.m5.2xlarge": ebsOnly(8, 32),
  "kafka.m5.4xlarge": ebsOnly(16, 64),
  "kafka.m7g.large": ebsOnly(2, 8),
  "kafka.m7g.xlarge": ebsOnly(4, 16),
  "kafka.m7g.2xlarge": ebsOnly(8, 32),
  "kafka.m7g.4xlarge": ebsOnly(16, 64),
} as const satisfies Record<string, InstanceType>;

export const workerInstanceTypes = {
  "c5.xlarge": ebsOnly(4, 8),
  "c5.2xlarge": ebsOnly(8, 16),
  "c5.4xlarge": ebsOnly(16, 32),
  "c5.9xlarge": ebsOnly(36, 72),
  "c5.12xlarge": ebsOnly(48, 96),
  "c5.18xlarge": ebsOnly(72, 144),
  "c6i.2xlarge": ebsOnly(8, 16),
  "c6i.4xlarge": ebsOnly(16, 32),
  "c7i.2xlarge": ebsOnly(8, 16),
  "c7i.4xlarge": ebsOnly(16, 32),
} as const satisfies Record<string, InstanceType>;

export type CassandraInstanceType = keyof typeof cassandraInstanceTypes;
export type KafkaInstanceType = keyof typeof kafkaInstanceTypes;
export type WorkerInstanceType = keyof typeof workerInstanceTypes;
