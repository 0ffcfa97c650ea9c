/**
 * The roles that run ensureTopics in the cloud may do what it does on MSK with IAM access control: the schema
 * Job (the detector's role) creates, grows (CreatePartitions → kafka-cluster:AlterTopic) and re-configures
 * (AlterConfigs → kafka-cluster:AlterTopicDynamicConfiguration) the three topics; the load generator creates
 * and grows the events topic. Without these, a stack grown in place keeps the first stage's partitions.
 */
import { App, Stack } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { topics } from "../../app/topology.ts";
import { detectorStatements, loadgenStatements, mskArns } from "../../cdk/workload-identity.ts";

const stack = new Stack(new App(), "Perms", { env: { account: "123456789012", region: "us-east-1" } });
const arns = mskArns(stack, "exp-a-kafka");

/** The MSK IAM actions each Kafka request of ensureTopics needs (MSK: semantics of IAM authorization policy actions). */
const ensureTopicsActions = {
  metadata: ["kafka-cluster:Connect", "kafka-cluster:DescribeTopic"],
  // ListOffsets to each new partition's leader (waitForServingLeaders), before the first send.
  servingLeaders: ["kafka-cluster:DescribeTopic"],
  create: ["kafka-cluster:CreateTopic"],
  grow: ["kafka-cluster:AlterTopic"],
  configure: ["kafka-cluster:AlterTopicDynamicConfiguration", "kafka-cluster:DescribeTopicDynamicConfiguration"],
};

type Statement = { Action: string | string[]; Resource: string | string[] };
/** Actions allowed on the topic's ARN or on the cluster's (Connect), comparing resolved ARNs (tokens resolved). */
const allowed = (statements: ReturnType<typeof detectorStatements>, resource: string): Set<string> => {
  const wanted = [resource, arns.cluster].map((r) => JSON.stringify(stack.resolve(r)));
  return new Set(
    statements
      .map((s) => stack.resolve(s.toStatementJson()) as Statement)
      .filter((s) => [s.Resource].flat().some((r) => wanted.includes(JSON.stringify(r))))
      .flatMap((s) => [s.Action].flat()),
  );
};

describe("IAM for growing topics in place", () => {
  it("the schema Job's role (the detector's) may create, grow and re-configure every topic", () => {
    const statements = detectorStatements(arns, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x");
    for (const t of [topics.events, topics.checks, topics.deadLetter]) {
      const actions = allowed(statements, arns.topic(t));
      for (const a of Object.values(ensureTopicsActions).flat()) expect(actions.has(a), `${a} on ${t}`).toBe(true);
    }
  });

  it("the load generator's role may create and grow the events topic", () => {
    const actions = allowed(loadgenStatements(arns), arns.topic(topics.events));
    const { metadata, servingLeaders, create, grow } = ensureTopicsActions;
    for (const a of [...metadata, ...servingLeaders, ...create, ...grow]) expect(actions.has(a), a).toBe(true);
  });
});
