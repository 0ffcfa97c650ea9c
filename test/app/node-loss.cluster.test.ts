/**
 * Nothing is lost when a Cassandra node and a Kafka broker crash under load: the cluster shaped like the
 * cloud's (scripts/local/local-cluster.ts: 3 brokers, 3 nodes, replication 3, min.insync.replicas 2,
 * LOCAL_QUORUM) runs a short load through the real detector; one node and the broker leading the most event
 * partitions are killed with SIGKILL, the load goes on without them, then both come back. Verified from what the
 * servers hold: every event produced has exactly one row in Cassandra (read at ALL) and a verdict on the checks
 * topic.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { crashMember } from "../../scripts/chaos/cluster-faults.ts";
import { clusterStatus, clusterTarget, startCluster, stopClusterStack } from "../../scripts/local/local-cluster.ts";
import { localRunDefaults, runLocalPipeline, type RunControl } from "../../scripts/local/pipeline-run.ts";

const nodes = 3;
const target = clusterTarget(nodes);
/** A short load, at a rate six server JVMs and the detector keep up with on two busy cores. */
const load = { rate: 50, duration: 40 } as const;
/** Verdicts before the crash: the pipeline is flowing. */
const verdictsBeforeCrash = 200;
/** Verdicts the pipeline must add while the two members are down. */
const verdictsDuringLoss = 300;
/** A wait ends when the verdict count has not moved for this long. */
const stallSeconds = 60;
const cassandraNode = 2;

/** Waits until `count` verdicts, failing once the count has not grown for stallSeconds. */
async function untilVerdicts(control: RunControl, count: number): Promise<number> {
  let seen = control.latest()?.checked ?? 0;
  let movedAt = Date.now();
  while (seen < count) {
    if (Date.now() - movedAt > stallSeconds * 1000) throw new Error(`verdicts stalled at ${seen} (waiting for ${count})`);
    await sleep(250);
    const now = control.latest()?.checked ?? 0;
    if (now > seen) movedAt = Date.now();
    seen = now;
  }
  return seen;
}

let startedHere = false;

describe(`a ${nodes}-node cluster under load`, () => {
  beforeAll(async () => {
    startedHere = clusterStatus(nodes).some((m) => m.pid === null);
    await startCluster(nodes);
  }, 900_000);

  afterAll(async () => {
    if (startedHere) await stopClusterStack();
  }, 300_000);

  test("a Cassandra node and the busiest broker crash and come back: every event stored once and checked", async () => {
    const seen: { downDuringLoss: string[]; member: string; atCrash: number; atRestore: number } = {
      downDuringLoss: [],
      member: "",
      atCrash: 0,
      atRestore: 0,
    };
    const summary = await runLocalPipeline({
      ...localRunDefaults,
      ...load,
      target,
      settleSeconds: stallSeconds,
      during: async (control) => {
        seen.atCrash = await untilVerdicts(control, verdictsBeforeCrash);
        const where = { kafka: control.kafka, ...control.names, nodes, cassandraNode };
        const broker = await crashMember("kill-busiest-broker", where);
        const node = await crashMember("kill-cassandra-node", where);
        seen.member = `${broker.member}, ${node.member}`;
        seen.downDuringLoss = clusterStatus(nodes).flatMap((m) => (m.pid === null ? [`${m.kind} ${m.node}`] : []));
        seen.atRestore = await untilVerdicts(control, seen.atCrash + verdictsDuringLoss);
        await Promise.all([broker.restore(), node.restore()]);
      },
    });
    process.stderr.write(
      `crashed ${seen.member}; verdicts ${seen.atCrash} at the crash, ${seen.atRestore} at the restart; ` +
        `produced ${summary.produced}, stored ${summary.stored}, checked ${summary.checked}\n`,
    );
    expect(seen.downDuringLoss).toHaveLength(2);
    expect(summary.loadgen.failed).toBe(0);
    expect(summary.produced).toBe(load.rate * load.duration);
    expect({ lost: summary.lost, duplicateRows: summary.duplicateRows, stored: summary.stored, checked: summary.checked }).toEqual({
      lost: 0,
      duplicateRows: 0,
      stored: summary.produced,
      checked: summary.produced,
    });
  }, 900_000);
});
