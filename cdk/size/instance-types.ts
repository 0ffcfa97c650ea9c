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

/** AWS size names: large has 2 vCPUs, xlarge 4, Nxlarge 4N. */
const vcpusOfSize = (size: string): number => (size === "large" ? 2 : 4 * (Number(size.replace("xlarge", "")) || 1));

/** EBS-only types of one family, whose memory is a fixed number of GiB per vCPU. */
const ebsFamily = <F extends string, S extends string>(family: F, gibPerVcpu: number, sizes: readonly S[]) =>
  Object.fromEntries(sizes.map((size) => [`${family}.${size}`, ebsOnly(vcpusOfSize(size), vcpusOfSize(size) * gibPerVcpu)])) as Record<
    `${F}.${S}`,
    InstanceType
  >;

const mskSizes = ["large", "xlarge", "2xlarge", "4xlarge"] as const;
export const kafkaInstanceTypes = { ...ebsFamily("kafka.m5", 4, mskSizes), ...ebsFamily("kafka.m7g", 4, mskSizes) };

export const workerInstanceTypes = {
  ...ebsFamily("c5", 2, ["xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge"] as const),
  ...ebsFamily("c6i", 2, ["2xlarge", "4xlarge"] as const),
  ...ebsFamily("c7i", 2, ["2xlarge", "4xlarge"] as const),
};

export type CassandraInstanceType = keyof typeof cassandraInstanceTypes;
export type KafkaInstanceType = keyof typeof kafkaInstanceTypes;
export type WorkerInstanceType = keyof typeof workerInstanceTypes;
