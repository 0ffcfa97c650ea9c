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

/** ListNodes returns at most this many nodes per call (its MaxResults range is 1..100). */
const listNodesPageSize = 100;

export class MskBrokerEndpoints extends Construct {
  /** `host:9098,…` for SASL/IAM over TLS (a deploy-time token). */
  readonly bootstrapBrokers: string;
  /** Every broker's hostname, one token per planned broker (open monitoring is scraped on each). */
  readonly brokerHosts: readonly string[];

  constructor(scope: Construct, id: string, props: MskBrokerEndpointsProps) {
    super(scope, id);
    if (props.brokers > listNodesPageSize) throw new Error(`ListNodes pages hold ${listNodesPageSize} brokers; the plan has ${props.brokers}`);
    // One log group for the stack's AwsCustomResource handler (a singleton function shared by both calls).
    const logGroup = ownedLogGroup(this, "HandlerLogs");
    const policy = cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [props.clusterArn] });

    const getBootstrapBrokers: cr.AwsSdkCall = {
      service: "Kafka",
      action: "getBootstrapBrokers",
      parameters: { ClusterArn: props.clusterArn },
      physicalResourceId: cr.PhysicalResourceId.of(`${props.clusterName}-bootstrap-${props.brokers}`),
      outputPaths: ["BootstrapBrokerStringSaslIam"],
    };
    const bootstrap = new cr.AwsCustomResource(this, "BootstrapBrokers", {
      onCreate: getBootstrapBrokers,
      onUpdate: getBootstrapBrokers,
      policy,
      installLatestAwsSdk: false,
      logGroup,
    });
    this.bootstrapBrokers = bootstrap.getResponseField("BootstrapBrokerStringSaslIam");

    const hostPath = (i: number) => `NodeInfoList.${i}.BrokerNodeInfo.Endpoints.0`;
    const listNodes: cr.AwsSdkCall = {
      service: "Kafka",
      action: "listNodes",
      parameters: { ClusterArn: props.clusterArn, MaxResults: listNodesPageSize },
      physicalResourceId: cr.PhysicalResourceId.of(`${props.clusterName}-nodes-${props.brokers}`),
      // Only the hostnames: a custom resource's response is limited to 4 KB.
      outputPaths: Array.from({ length: props.brokers }, (_, i) => hostPath(i)),
    };
    const nodes = new cr.AwsCustomResource(this, "BrokerNodes", {
      onCreate: listNodes,
      onUpdate: listNodes,
      policy,
      installLatestAwsSdk: false,
      logGroup,
    });
    this.brokerHosts = Array.from({ length: props.brokers }, (_, i) => nodes.getResponseField(hostPath(i)));
  }
}
