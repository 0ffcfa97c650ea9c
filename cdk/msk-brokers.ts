/**
 * The MSK brokers' addresses, read where they are used: in the EKS stack, from the cluster's ARN.
 *
 * Neither the bootstrap string nor the broker hostnames are CloudFormation attributes of AWS::MSK::Cluster, so
 * custom resources call `kafka:GetBootstrapBrokers` and `kafka:ListNodes`. They used to live in the Kafka stack,
 * whose export of the bootstrap string then changed whenever the broker count did — and CloudFormation refuses
 * to update an export another stack imports, so growing the brokers failed the Kafka stack's update. Here only
 * the cluster ARN crosses stacks (constant for the cluster's life); both calls run again when the planned broker
 * count changes (it is part of their physical ids), after the Kafka stack has finished growing the cluster.
 */
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { ownedLogGroup } from "./owned-log-group.ts";

export interface MskBrokerEndpointsProps {
  readonly clusterArn: string;
  readonly clusterName: string;
  /** The planned broker count: ListNodes returns one node per broker; one output is read for each. */
  readonly brokers: number;
}

/**
 * Brokers read per ListNodes call. A custom resource's response to CloudFormation is limited to 4,096 bytes;
 * each hostname costs ~125 bytes with its output path as key (`NodeInfoList.9.BrokerNodeInfo.Endpoints.0`:
 * `b-10.<experiment>-kafka.<id>.c2.kafka.<region>.amazonaws.com`), so 30 brokers in one response would come within
 * a few hundred bytes of the limit. Pages of 10 stay under ~1.8 KB; each page after the first continues from
 * the previous page's NextToken, so the pages are disjoint and together list every broker once.
 */
export const brokersPerListNodesCall = 10;

export class MskBrokerEndpoints extends Construct {
  /** `host:9098,…` for SASL/IAM over TLS (a deploy-time token). */
  readonly bootstrapBrokers: string;
  /** Every broker's hostname, one token per planned broker (open monitoring is scraped on each). */
  readonly brokerHosts: readonly string[];

  constructor(scope: Construct, id: string, props: MskBrokerEndpointsProps) {
    super(scope, id);
    // One log group for the stack's AwsCustomResource handler (a singleton function shared by every call).
    const logGroup = ownedLogGroup(this, "HandlerLogs");
    const policy = cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [props.clusterArn] });
    const call = (name: string, sdkCall: cr.AwsSdkCall) =>
      new cr.AwsCustomResource(this, name, { onCreate: sdkCall, onUpdate: sdkCall, policy, installLatestAwsSdk: false, logGroup });

    this.bootstrapBrokers = call("BootstrapBrokers", {
      service: "Kafka",
      action: "getBootstrapBrokers",
      parameters: { ClusterArn: props.clusterArn },
      physicalResourceId: cr.PhysicalResourceId.of(`${props.clusterName}-bootstrap-${props.brokers}`),
      outputPaths: ["BootstrapBrokerStringSaslIam"],
    }).getResponseField("BootstrapBrokerStringSaslIam");

    const hostPath = (i: number) => `NodeInfoList.${i}.BrokerNodeInfo.Endpoints.0`;
    const hosts: string[] = [];
    let nextToken: string | undefined;
    const pages = Math.ceil(props.brokers / brokersPerListNodesCall);
    for (let page = 0; page < pages; page++) {
      const count = Math.min(brokersPerListNodesCall, props.brokers - page * brokersPerListNodesCall);
      const last = page === pages - 1;
      const nodes = call(page === 0 ? "BrokerNodes" : `BrokerNodes${page + 1}`, {
        service: "Kafka",
        action: "listNodes",
        parameters: {
          ClusterArn: props.clusterArn,
          MaxResults: brokersPerListNodesCall,
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${props.clusterName}-nodes-${props.brokers}-${page + 1}`),
        // Only the hostnames (and where the next page starts): the response limit above.
        outputPaths: [...Array.from({ length: count }, (_, i) => hostPath(i)), ...(last ? [] : ["NextToken"])],
      });
      for (let i = 0; i < count; i++) hosts.push(nodes.getResponseField(hostPath(i)));
      nextToken = last ? undefined : nodes.getResponseField("NextToken");
    }
    this.brokerHosts = hosts;
  }
}
