/**
 * The hourly cost of one stage (a SizePlan), line by line, from the offline price list.
 * A line whose price or quantity is unknown has no cost and makes the total partial: a partial total is
 * a lower bound, never a figure with a silent zero in it. The experiment runner records these lines
 * with each stage's results.
 */
import type { SizePlan } from "../../cdk/size/size-plan.ts";
import { hoursPerMonth, priceListFor, type PriceList } from "./price-list.ts";

/** Figures the cost needs that the size plan does not (yet) carry; each one defaults to "unknown". */
export interface CostAssumptions {
  /** EBS storage per MSK broker, GiB; default: the size plan's kafka.storageGiBPerBroker. */
  readonly mskStorageGiBPerBroker?: number | undefined;
  /** NAT gateways of the VPC; default 1, what cdk/network-stack.ts builds (`natGateways: 1`). */
  readonly natGateways?: number | undefined;
}

/** cdk/network-stack.ts builds one NAT gateway (it exports no constant for it yet). */
export const defaultNatGateways = 1;

export type CostTier = "cassandra" | "kafka" | "eks" | "network";

export interface CostLine {
  readonly tier: CostTier;
  readonly item: string;
  readonly quantity: number | undefined;
  readonly unit: string;
  /** USD per unit-hour; undefined when the price list has no price for it. */
  readonly unitPricePerHour: number | undefined;
  /** USD per hour; undefined when the price or the quantity is unknown. */
  readonly perHour: number | undefined;
  /** Why perHour is undefined. */
  readonly missing?: string;
}

export interface HourlyCost {
  readonly region: string;
  readonly priceListAsOf: string | undefined;
  readonly lines: readonly CostLine[];
  /** Sum of the known lines, USD per hour. */
  readonly perHour: number;
  /** True when any line is missing: perHour is then a lower bound. */
  readonly partial: boolean;
  readonly missing: readonly string[];
}

const line = (
  tier: CostTier,
  item: string,
  quantity: number | undefined,
  unit: string,
  unitPricePerHour: number | undefined,
  missingPrice: string,
  missingQuantity = "",
): CostLine => {
  if (unitPricePerHour === undefined) return { tier, item, quantity, unit, unitPricePerHour, perHour: undefined, missing: missingPrice };
  if (quantity === undefined) return { tier, item, quantity, unit, unitPricePerHour, perHour: undefined, missing: missingQuantity };
  return { tier, item, quantity, unit, unitPricePerHour, perHour: quantity * unitPricePerHour };
};

export function hourlyCost(plan: SizePlan, assumptions: CostAssumptions = {}, prices = priceListFor(plan.region)): HourlyCost {
  const where =
    prices === undefined ? `no price list for region ${plan.region}` : `not in the price list of ${prices.region} (${prices.asOf})`;
  const p: Partial<PriceList> = prices ?? {};
  const ec2 = (type: string) => p.ec2InstanceHour?.[type];
  const storageGiB = assumptions.mskStorageGiBPerBroker ?? plan.kafka.storageGiBPerBroker;
  const storagePerGiBHour = p.mskStorageGbMonth === undefined ? undefined : p.mskStorageGbMonth / hoursPerMonth;
  const natGateways = assumptions.natGateways ?? defaultNatGateways;

  const lines: CostLine[] = [
    line(
      "cassandra",
      `EC2 ${plan.cassandra.instanceType}`,
      plan.cassandra.nodes,
      "instance",
      ec2(plan.cassandra.instanceType),
      `EC2 ${plan.cassandra.instanceType}: ${where}`,
    ),
    line(
      "kafka",
      `MSK broker ${plan.kafka.instanceType}`,
      plan.kafka.brokers,
      "broker",
      p.mskBrokerHour?.[plan.kafka.instanceType],
      `MSK broker ${plan.kafka.instanceType}: ${where}`,
    ),
    line(
      "kafka",
      "MSK broker storage",
      storageGiB === undefined ? undefined : storageGiB * plan.kafka.brokers,
      "GiB",
      storagePerGiBHour,
      `MSK storage: ${where}`,
      "MSK storage: GiB per broker not known",
    ),
    line("eks", "EKS control plane", 1, "cluster", p.eksClusterHour, `EKS cluster-hour: ${where}`),
    line(
      "eks",
      `EC2 ${plan.eks.instanceType} (workers)`,
      plan.eks.workerNodes,
      "instance",
      ec2(plan.eks.instanceType),
      `EC2 ${plan.eks.instanceType}: ${where}`,
    ),
    line("network", "NAT gateway", natGateways, "gateway", p.natGatewayHour, `NAT gateway-hour: ${where}`),
  ];
  const known = lines.filter((l) => l.perHour !== undefined);
  const missing = lines.flatMap((l) => (l.missing === undefined ? [] : [l.missing]));
  return {
    region: plan.region,
    priceListAsOf: prices?.asOf,
    lines,
    perHour: known.reduce((sum, l) => sum + (l.perHour ?? 0), 0),
    partial: missing.length > 0,
    missing,
  };
}

/** What the hourly cost leaves out, for every printed total. */
export const costExclusions = [
  "EBS root volumes",
  "data transfer (cross-AZ, NAT processing)",
  "load balancers",
  "CloudWatch logs and metrics",
  "KMS keys",
  "deploy/teardown time unless given as overhead",
] as const;
