/**
 * The simulated worker nodes of a stage: as many as the size plan's EKS node group, over its zones in turn
 * (an Auto Scaling group balances a node group across its subnets), each with the labels and the allocatable
 * resources an EKS node of that instance type reports.
 */
import { workerRootVolumeGiB } from "../../cdk/eks-stack.ts";
import type { WorkerInstanceType } from "../../cdk/size/instance-types.ts";
import { workerInstanceTypes } from "../../cdk/size/instance-types.ts";
import type { SizePlan } from "../../cdk/size/size-plan.ts";
import { kwokNodeAnnotation } from "./cluster.ts";
import { kubernetesRelease } from "../../cdk/versions.ts";

/** Network interfaces and IPv4 addresses per interface of each worker type (EC2's published limits). */
export const eniLimits: Readonly<Record<WorkerInstanceType, { enis: number; ipv4PerEni: number }>> = {
  "c5.xlarge": { enis: 4, ipv4PerEni: 15 },
  "c5.2xlarge": { enis: 4, ipv4PerEni: 15 },
  "c5.4xlarge": { enis: 8, ipv4PerEni: 30 },
  "c5.9xlarge": { enis: 8, ipv4PerEni: 30 },
  "c5.12xlarge": { enis: 8, ipv4PerEni: 30 },
  "c5.18xlarge": { enis: 15, ipv4PerEni: 50 },
  "c6i.2xlarge": { enis: 4, ipv4PerEni: 15 },
  "c6i.4xlarge": { enis: 8, ipv4PerEni: 30 },
  "c7i.2xlarge": { enis: 4, ipv4PerEni: 15 },
  "c7i.4xlarge": { enis: 8, ipv4PerEni: 30 },
};

/** The VPC CNI's pod limit without prefix delegation: one address per ENI is the node's, plus 2 host-network pods. */
export const maxPodsOf = (t: WorkerInstanceType): number => eniLimits[t].enis * (eniLimits[t].ipv4PerEni - 1) + 2;

/** EKS AMIs' kube-reserved CPU: 6 % of the first core, 1 % of the second, 0.5 % of the next two, 0.25 % of the rest. */
export function kubeReservedMillicores(vcpus: number): number {
  const steps: [cores: number, share: number][] = [
    [1, 0.06],
    [1, 0.01],
    [2, 0.005],
    [Infinity, 0.0025],
  ];
  let left = vcpus;
  let reserved = 0;
  for (const [cores, share] of steps) {
    const n = Math.min(left, cores);
    reserved += n * 1000 * share;
    left -= n;
    if (left <= 0) break;
  }
  return Math.round(reserved);
}

/** EKS AMIs' kube-reserved memory: 255 MiB plus 11 MiB per pod the node may run. */
export const kubeReservedMemoryMiB = (maxPods: number): number => 255 + 11 * maxPods;

/** The kubelet's default hard eviction threshold for memory.available on EKS AMIs. */
export const evictionHardMemoryMiB = 100;
export const kubeReservedEphemeralGiB = 1;

export interface NodeResources {
  readonly capacity: { cpu: string; memory: string; pods: string; "ephemeral-storage": string };
  readonly allocatable: { cpu: string; memory: string; pods: string; "ephemeral-storage": string };
}

/** Capacity and allocatable of an EKS worker of this type (memory from the type's nominal GiB). */
export function eksNodeResources(t: WorkerInstanceType): NodeResources {
  const type = workerInstanceTypes[t];
  const maxPods = maxPodsOf(t);
  const memoryMiB = type.memoryGiB * 1024;
  const rootGi = workerRootVolumeGiB;
  return {
    capacity: { cpu: String(type.vcpus), memory: `${memoryMiB}Mi`, pods: String(maxPods), "ephemeral-storage": `${rootGi}Gi` },
    allocatable: {
      cpu: `${type.vcpus * 1000 - kubeReservedMillicores(type.vcpus)}m`,
      memory: `${memoryMiB - kubeReservedMemoryMiB(maxPods) - evictionHardMemoryMiB}Mi`,
      pods: String(maxPods),
      // nodefs.available < 10 % evicts; the kubelet subtracts it from allocatable too.
      "ephemeral-storage": `${Math.floor((rootGi * 0.9 - kubeReservedEphemeralGiB) * 1024)}Mi`,
    },
  };
}

export interface PlannedNode {
  readonly name: string;
  readonly zone: string;
  readonly manifest: Record<string, unknown>;
}

/** The node group's nodes: `worker-<zone>-<n>`, zones taken in turn. */
export function plannedNodes(plan: SizePlan, count = plan.eks.workerNodes): PlannedNode[] {
  const resources = eksNodeResources(plan.eks.instanceType);
  return Array.from({ length: count }, (_, i) => {
    const zone = plan.availabilityZones[i % plan.availabilityZones.length]!;
    const name = `worker-${zone}-${Math.floor(i / plan.availabilityZones.length) + 1}`;
    return {
      name,
      zone,
      manifest: {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value, "node.alpha.kubernetes.io/ttl": "0" },
          labels: {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/region": plan.region,
            "topology.kubernetes.io/zone": zone,
            "node.kubernetes.io/instance-type": plan.eks.instanceType,
            "eks.amazonaws.com/capacityType": "ON_DEMAND",
          },
        },
        spec: {},
        status: {
          ...resources,
          nodeInfo: { kubeletVersion: `v${kubernetesRelease}`, operatingSystem: "linux", architecture: "amd64" },
        },
      },
    };
  });
}
