/**
 * Who the pods are and what they may do in AWS. The charts create the Kubernetes ServiceAccounts with these
 * names; the EKS stack binds each to an IAM role with EKS Pod Identity (no node-role credentials for pods:
 * the nodes' IMDS hop limit is 1). Permissions are the detector's and load generator's needs on MSK (IAM
 * auth) and the detector's Cassandra password, nothing more.
 */
import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { detectorGroupId, topics } from "../app/topology.ts";
import { namespaceOf } from "../charts/index.ts";
import { components } from "../charts/names.ts";

/** The charts' namespace (the experiment id) and ServiceAccount names (their component names). */
export const workloadNamespace = namespaceOf;
export const serviceAccounts = { detector: components.detector, loadgen: components.loadGenerator } as const;
/** Consumer groups of the load generator (it may read verdicts to measure end-to-end latency). */
export const loadgenGroupPrefix = "loadgen";

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

export function detectorStatements(arns: MskArns, cassandraSecretArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"], resources: [arns.cluster] }),
    new iam.PolicyStatement({
      // The schema Job (this role) grows the topics of a stack grown in place (CreatePartitions: AlterTopic)
      // and re-applies their topic configs (AlterConfigs), as app/kafka/kafka-client.ts ensureTopics does.
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
    new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [cassandraSecretArn] }),
  ];
}

export function loadgenStatements(arns: MskArns): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ actions: ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"], resources: [arns.cluster] }),
    new iam.PolicyStatement({
      // The load generator's ensureTopics grows the events topic too when it runs before the schema Job.
      actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:CreateTopic", "kafka-cluster:AlterTopic"],
      resources: [topics.events, topics.checks].map(arns.topic),
    }),
    new iam.PolicyStatement({ actions: ["kafka-cluster:WriteData"], resources: [arns.topic(topics.events)] }),
    new iam.PolicyStatement({ actions: ["kafka-cluster:ReadData"], resources: [arns.topic(topics.checks)] }),
    new iam.PolicyStatement({
      actions: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
      resources: [arns.group(`${loadgenGroupPrefix}*`)],
    }),
  ];
}
