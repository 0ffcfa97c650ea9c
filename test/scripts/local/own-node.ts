/**
 * What the tests that run a Cassandra node of their own share: the node's life (a fresh one before the file,
 * stopped and removed after) and a connect probe that reports why a login fails.
 */
import { rmSync } from "node:fs";
import cassandra from "cassandra-driver";
import { afterAll, beforeAll, expect } from "vitest";
import { startLocalCassandra, stopLocalCassandra, type LocalCassandra } from "../../../scripts/local/stack-control.ts";

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
