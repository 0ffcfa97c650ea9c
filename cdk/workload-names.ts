/**
 * The Kubernetes names that AWS resources must match: the namespace and the ServiceAccounts that EKS Pod
 * Identity binds to IAM roles. The charts create those objects and take these names from here, so an
 * association can never name a namespace or account the charts do not make. No CDK import: charts/ reads it.
 */
import type { SizePlan } from "./size/size-plan.ts";

/** The namespace of an experiment: its id, so two experiments can share a cluster. */
export const workloadNamespace = (plan: SizePlan): string => plan.experimentId;

/** The ServiceAccounts with an AWS identity, by the role they get; the charts name these workloads after them. */
export const serviceAccounts = {
  detector: "detector",
  loadgen: "load-generator",
  /** The rebalance Job the staged runner starts after brokers grow (charts/rebalance-job.ts). */
  rebalancer: "partition-rebalancer",
} as const;
