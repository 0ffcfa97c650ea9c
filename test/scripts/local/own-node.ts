/**
 * What the tests that run a Cassandra node of their own share: the node's life (a fresh one before the file,
 * stopped and removed after) and a connect probe that reports why a login fails.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import cassandra from "cassandra-driver";
import { afterAll, beforeAll, expect } from "vitest";
import type { DetectorConfig } from "../../../app/config.ts";
import type { CassandraCredentials } from "../../../app/detector/cassandra-auth.ts";
import { CassandraStore, createSchema } from "../../../app/detector/cassandra-store.ts";
import type { LocalCassandra } from "../../../scripts/local/cassandra-node.ts";
import { cassandraPasswordFiles } from "../../../scripts/local/cassandra-security.ts";
import { startLocalCassandra, stopLocalCassandra } from "../../../scripts/local/cassandra-server.ts";
import { projectRoot } from "../../../scripts/local/locations.ts";

/**
 * A node of a test's own: state dir `.local/test-cassandra-<name>` and ports `offset` above the shared node's
 * (9042, 7000, 7199). Both are fixed, so that a run killed half-way leaves a node (PID file) the next run finds
 * and stops.
 */
export const ownNode = (
  name: string,
  offset: number,
  o: Pick<LocalCassandra, "authentication" | "tls" | "exporterPort">,
): LocalCassandra => ({
  dir: join(projectRoot, ".local", `test-cassandra-${name}`),
  clusterName: `${name}-${Date.now().toString(36)}`,
  ports: { cql: offset + 9042, storage: offset + 7000, jmx: offset + 7199 },
  ...o,
});

/** The password the set-up script gave a role of an authenticated node (first line of its 0600 file). */
export const rolePassword = (node: LocalCassandra, role: keyof ReturnType<typeof cassandraPasswordFiles>): string =>
  readFileSync(cassandraPasswordFiles(node)[role], "utf8").split("\n")[0]!;

/** Before the file: stop and wipe what an interrupted run left of this node (only this one), then start it. */
export function withOwnNode(node: LocalCassandra): void {
  beforeAll(async () => {
    await stopLocalCassandra(node);
    rmSync(node.dir, { recursive: true, force: true });
    // Starts the node, and (auth, TLS) runs the cloud's set-up on it before it answers.
    expect(await startLocalCassandra(node)).toBe(true);
  }, 420_000);
  afterAll(async () => {
    await stopLocalCassandra(node);
    rmSync(node.dir, { recursive: true, force: true });
  }, 120_000);
}

/** Why connecting with these options fails, or null when it succeeds; the client is shut down either way. */
export async function connectError(options: cassandra.ClientOptions): Promise<unknown> {
  const client = new cassandra.Client(options);
  try {
    await client.connect();
    return null;
  } catch (err) {
    return err;
  } finally {
    await client.shutdown();
  }
}

/** An event of key k1 at `seq`. */
export const sampleEvent = (seq: number, value: number) => ({
  id: "k1",
  time: 1_700_000_000_000 + seq,
  producer: "p",
  seq,
  value,
  label: "none" as const,
});

/** The detector's store on a node, its schema made and events 1 (1.5) and 2 (2.5) of k1 written; the caller shuts it down. */
export async function storeWithTwoEvents(config: DetectorConfig, credentials: CassandraCredentials | null): Promise<CassandraStore> {
  await createSchema(config, credentials);
  const store = new CassandraStore(config, credentials);
  await store.connect();
  try {
    await store.write(sampleEvent(1, 1.5));
    await store.write(sampleEvent(2, 2.5));
    return store;
  } catch (err) {
    await store.shutdown();
    throw err;
  }
}
