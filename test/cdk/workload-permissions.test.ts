/**
 * Each pod role's IAM actions are exactly what its code paths send: a statement added that no code path needs
 * (or one removed that a path needs) fails here. The map from the Kafka requests our code sends to MSK's IAM
 * actions (MSK names each Kafka ACL operation) is the one documented in cdk/workload-identity.ts:
 *   connect (SASL)                      → Connect on the cluster
 *   Metadata (any client, listTopics)   → DescribeTopic
 *   CreateTopics                        → CreateTopic
 *   CreatePartitions                    → AlterTopic
 *   AlterConfigs of a topic             → AlterTopicDynamicConfiguration + DescribeTopicDynamicConfiguration
 *                                         (MSK requires the Describe action with the Alter one)
 *   Produce                             → WriteData
 *   Fetch                               → ReadData (+ the group's actions below)
 *   FindCoordinator, OffsetFetch        → DescribeGroup; Join/Sync/Heartbeat/OffsetCommit → AlterGroup
 * Code paths per role:
 *   detector role = the schema Job (app/main.ts `schema` → ensureSchema → ensureTopics on the three topics
 *     with their topic configs: create, grow, re-configure) + the detector pod (waitForSchema: Metadata;
 *     consumer of `events` in the detector group; producer of `checks` and `dead-letter`) + the Cassandra
 *     password secret read once.
 *   load generator role = runLoadgen: ensureTopics on `events` without topic configs (create or grow when it
 *     starts before the schema Job) + producer of `events`. It consumes nothing.
 */
import { App, Stack } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { detectorGroupId, topics } from "../../app/topology.ts";
import { detectorStatements, loadgenStatements, mskArns, type MskArns } from "../../cdk/workload-identity.ts";

type Request = "connect" | "metadata" | "createTopics" | "createPartitions" | "alterConfigs" | "produce" | "fetch" | "group";

const actionsOf: Record<Request, readonly string[]> = {
  connect: ["kafka-cluster:Connect"],
  metadata: ["kafka-cluster:DescribeTopic"],
  createTopics: ["kafka-cluster:CreateTopic"],
  createPartitions: ["kafka-cluster:AlterTopic"],
  alterConfigs: ["kafka-cluster:AlterTopicDynamicConfiguration", "kafka-cluster:DescribeTopicDynamicConfiguration"],
  produce: ["kafka-cluster:WriteData"],
  fetch: ["kafka-cluster:ReadData"],
  group: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
};

/** One code path's needs: requests on a resource (the cluster, a topic, a group, a secret). */
interface Need {
  readonly path: string;
  readonly resource: string;
  readonly requests?: readonly Request[];
  readonly actions?: readonly string[];
}

const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cassandra-detector-AbCdEf";
const arns: MskArns = mskArns(new Stack(new App(), "Permissions", { env: { account: "123456789012", region: "us-east-1" } }), "kit-msk");
const pipelineTopics = [topics.events, topics.checks, topics.deadLetter];

const needs: Record<"detector" | "loadgen", readonly Need[]> = {
  detector: [
    { path: "every client", resource: arns.cluster, requests: ["connect"] },
    ...pipelineTopics.map((t) => ({
      path: "schema Job: ensureTopics with topic configs",
      resource: arns.topic(t),
      requests: ["metadata", "createTopics", "createPartitions", "alterConfigs"] as const,
    })),
    { path: "detector: consumer of events", resource: arns.topic(topics.events), requests: ["metadata", "fetch"] },
    { path: "detector: consumer group", resource: arns.group(detectorGroupId), requests: ["group"] },
    { path: "detector: verdicts", resource: arns.topic(topics.checks), requests: ["metadata", "produce"] },
    { path: "detector: dead letters", resource: arns.topic(topics.deadLetter), requests: ["metadata", "produce"] },
    { path: "detector and schema Job: Cassandra password", resource: secretArn, actions: ["secretsmanager:GetSecretValue"] },
  ],
  loadgen: [
    { path: "every client", resource: arns.cluster, requests: ["connect"] },
    {
      path: "loadgen: ensureTopics on events, no topic configs",
      resource: arns.topic(topics.events),
      requests: ["metadata", "createTopics", "createPartitions"],
    },
    { path: "loadgen: producer of events", resource: arns.topic(topics.events), requests: ["metadata", "produce"] },
  ],
};

/** `action on resource` pairs a role needs, sorted. */
const needed = (list: readonly Need[]): string[] =>
  [
    ...new Set(
      list.flatMap((n) => [...(n.actions ?? []), ...(n.requests ?? []).flatMap((r) => actionsOf[r])].map((a) => `${a} on ${n.resource}`)),
    ),
  ].sort();

/** `action on resource` pairs the statements grant (Allow only; every statement here allows). */
const granted = (statements: ReturnType<typeof loadgenStatements>): string[] =>
  [
    ...new Set(
      statements.flatMap((st) => {
        const json = st.toStatementJson() as { Effect: string; Action: string | string[]; Resource: string | string[] };
        expect(json.Effect).toBe("Allow");
        return [json.Action].flat().flatMap((a) => [json.Resource].flat().map((r) => `${a} on ${r}`));
      }),
    ),
  ].sort();

describe("pod roles grant exactly what their code paths send", () => {
  it("detector role (detector pods and the schema Job)", () => {
    expect(granted(detectorStatements(arns, secretArn))).toEqual(needed(needs.detector));
  });

  it("load generator role", () => {
    expect(granted(loadgenStatements(arns))).toEqual(needed(needs.loadgen));
  });

  it("no role can describe the cluster or name topics or groups by a wildcard (only the cluster's UUID is one)", () => {
    const all = [...granted(detectorStatements(arns, secretArn)), ...granted(loadgenStatements(arns))];
    expect(all.filter((g) => g.includes("DescribeCluster"))).toEqual([]);
    expect(all.filter((g) => !g.endsWith(` on ${arns.cluster}`) && g.endsWith("*"))).toEqual([]);
  });
});
