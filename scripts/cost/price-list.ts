/**
 * A dated, offline list of on-demand prices (USD), so the plan can cost a stage without AWS access.
 *
 * Source: AWS's public price pages (Amazon EC2 On-Demand pricing, Linux; Amazon MSK pricing, provisioned
 * Standard brokers; Amazon EKS pricing, standard support; Amazon VPC pricing, NAT gateway), region
 * us-east-1 (N. Virginia), as published; not re-verified from this machine (it has no AWS access).
 * The figures are the published ones as the author knew them in 2025 (the `asOf` below); AWS has kept these
 * rates unchanged for years, but prices do change — check them before relying on a total, and update `asOf`
 * together with the figures.
 *
 * A price that is not here is missing, never zero: the cost model marks a total that needs it as partial.
 */

export interface PriceList {
  readonly region: string;
  readonly asOf: string;
  readonly source: string;
  readonly currency: "USD";
  /** EC2 on-demand, Linux, shared tenancy, per instance-hour. */
  readonly ec2InstanceHour: Readonly<Record<string, number>>;
  /** Amazon MSK provisioned (Standard broker), per broker-hour. */
  readonly mskBrokerHour: Readonly<Record<string, number>>;
  /** Amazon MSK broker storage, per GB-month. */
  readonly mskStorageGbMonth: number | undefined;
  /** Amazon EKS cluster, standard Kubernetes version support, per cluster-hour. */
  readonly eksClusterHour: number | undefined;
  /** NAT gateway, per gateway-hour (data processed is billed per GB on top and is not in the plan). */
  readonly natGatewayHour: number | undefined;
}

/** AWS bills storage per GB-month; a month is taken as 730 hours, as AWS's own calculator does. */
export const hoursPerMonth = 730;

export const usEast1PriceList: PriceList = {
  region: "us-east-1",
  asOf: "2025",
  source:
    "AWS public price pages (EC2 On-Demand Linux, Amazon MSK, Amazon EKS, Amazon VPC NAT gateway), us-east-1; " +
    "as published; not re-verified from this machine",
  currency: "USD",
  ec2InstanceHour: {
    // Cassandra tier: storage-optimised i3 with NVMe instance store.
    "i3.large": 0.156,
    "i3.xlarge": 0.312,
    "i3.2xlarge": 0.624,
    "i3.4xlarge": 1.248,
    "i3.8xlarge": 2.496,
    "i3.16xlarge": 4.992,
    // EKS worker tier: compute-optimised.
    "c5.xlarge": 0.17,
    "c5.2xlarge": 0.34,
    "c5.4xlarge": 0.68,
    "c5.9xlarge": 1.53,
    "c5.12xlarge": 2.04,
    "c5.18xlarge": 3.06,
    "c6i.2xlarge": 0.34,
    "c6i.4xlarge": 0.68,
    "c7i.2xlarge": 0.357,
    "c7i.4xlarge": 0.714,
  },
  mskBrokerHour: {
    "kafka.m5.large": 0.21,
    "kafka.m5.xlarge": 0.42,
    "kafka.m5.2xlarge": 0.84,
    "kafka.m5.4xlarge": 1.68,
    "kafka.m7g.large": 0.204,
    "kafka.m7g.xlarge": 0.408,
    "kafka.m7g.2xlarge": 0.816,
    "kafka.m7g.4xlarge": 1.632,
  },
  mskStorageGbMonth: 0.1,
  eksClusterHour: 0.1,
  natGatewayHour: 0.045,
};

const priceLists: Readonly<Record<string, PriceList>> = { [usEast1PriceList.region]: usEast1PriceList };

/** The list for a region, or undefined: every price of another region is missing (never borrowed). */
export const priceListFor = (region: string): PriceList | undefined => priceLists[region];
