/**
 * What the pods may do in AWS. The charts create the Kubernetes ServiceAccounts (named in cdk/workload-names.ts);
 * the EKS stack binds each to an IAM role with EKS Pod Identity (no node-role credentials for pods:
 * the nodes' IMDS hop limit is 1). Permissions are the detector's and load generator's needs on MSK (IAM
 * auth) and the detector's Cassandra password, nothing more.
 */
import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { consumerOffsetsTopic, detectorGroupId, topics } from "../app/topology.ts";

export interface MskArns {
  cluster: string;
  topic: (name: string) => string;
  group: (name: string) => string;
}

/**
 * ARNs under an MSK cluster; the cluster's UUID is assigned at creation, hence the `*` in its place.
 * `account` defaults to the stack's; cdk-nag names findings with `<AWS::AccountId>` in its place.
 */
export function mskArns(stack: Stack, clusterName: string, account: string = stack.account): MskArns {
  const base = (kind: string) => `arn:${stack.partition}:kafka:${stack.region}:${account}:${kind}/${clusterName}/*`;
  return {
    cluster: base("cluster"),
    topic: (name) => `${base("topic")}/${name}`,
    group: (name) => `${base("group")}/${name}`,
  };
}

/*
 * What each role's code really sends (the test in test/cdk/workload-permissions.test.ts holds the same map and
 * fails when a statement grants more or less). Kafka request → MSK action, as MSK names Kafka's ACL operations:
 *   connect (SASL) → Connect; Metadata (listTopics, fetchTopicMetadata, every client) → DescribeTopic;
 *   CreateTopics → CreateTopic; CreatePartitions → AlterTopic; AlterConfigs on a topic →
 *   AlterTopicDynamicConfiguration (MSK requires DescribeTopicDynamicConfiguration with it); Produce →
 *   WriteData; Fetch → ReadData; FindCoordinator/OffsetFetch → DescribeGroup, Join/Sync/Heartbeat/OffsetCommit
 *   → AlterGroup. Nothing sends a request Kafka authorizes as DESCRIBE CLUSTER (DescribeCluster, ListGroups,
 *   DescribeConfigs of brokers), so no role has kafka-cluster:DescribeCluster.
 */

/**
 * The detector pods and the schema Job (app/main.ts `schema`, which runs with this role): the Job creates the
 * three topics, grows them (CreatePartitions) and re-applies their topic configs (AlterConfigs), as
 * app/detector/schema.ts ensureSchema does; the detector waits for them (Metadata), consumes events in its
 * group, publishes verdicts and dead letters, and reads the Cassandra password once and the cluster's CA
 * certificate (public; the one secret of the CA it may read — never the CA's key) to verify TLS.
 */
export function detectorStatements(arns: MskArns, cassandraSecretArn: string, caCertificateSecretArn?: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ actions: ["kafka-cluster:Connect"], resources: [arns.cluster] }),
    new iam.PolicyStatement({
      actions: [
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:CreateTopic",
        "kafka-cluster:AlterTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
        "kafka-cluster:AlterTopicDynamicConfiguration",
      ],
      resources: [topics.events, topics.checks, topics.deadLetter].map(arns.topic),
    }),
    new iam.PolicyStatement({ actions: ["kafka-cluster:ReadData"], resources: [arns.topic(topics.events)] }),
    new iam.PolicyStatement({
      actions: ["kafka-cluster:WriteData"],
      resources: [arns.topic(topics.checks), arns.topic(topics.deadLetter)],
    }),
    new iam.PolicyStatement({
      actions: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
      resources: [arns.group(detectorGroupId)],
    }),
    new iam.PolicyStatement({
      actions: ["secretsmanager:GetSecretValue"],
      resources: caCertificateSecretArn === undefined ? [cassandraSecretArn] : [cassandraSecretArn, caCertificateSecretArn],
    }),
  ];
}

/**
 * The load generator (app/loadgen/loadgen.ts) only produces to the events topic. It calls ensureTopics on that
 * one topic before sending (no topic configs: no AlterConfigs); in the cloud the schema Job has normally made
 * and grown it already, but the load generator's Deployment does not wait for the Job, so a load generator that
 * starts first creates or grows it (CreateTopic, AlterTopic) rather than fail. It reads no topic and joins no
 * group: it has no ReadData and no group statement.
 */
export function loadgenStatements(arns: MskArns): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ actions: ["kafka-cluster:Connect"], resources: [arns.cluster] }),
    new iam.PolicyStatement({
      actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:AlterTopic", "kafka-cluster:WriteData"],
      resources: [arns.topic(topics.events)],
    }),
  ];
}

/**
 * The rebalance Job (app/main.ts `rebalance`, started by the staged runner after brokers grow): Metadata of the
 * pipeline topics and __consumer_offsets (DescribeTopic), ListPartitionReassignments (DESCRIBE CLUSTER →
 * DescribeCluster), AlterPartitionReassignments and ElectLeaders (ALTER CLUSTER → AlterCluster). It reads and
 * writes no records and joins no group.
 */
export function rebalancerStatements(arns: MskArns): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:AlterCluster"],
      resources: [arns.cluster],
    }),
    new iam.PolicyStatement({
      actions: ["kafka-cluster:DescribeTopic"],
      resources: [topics.events, topics.checks, topics.deadLetter, consumerOffsetsTopic].map(arns.topic),
    }),
  ];
}
