/** The local stack against its real servers: Kafka round trip, Cassandra round trip, restart, bad environments. */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import cassandra from "cassandra-driver";
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { cassandraPorts, kafkaPorts } from "../../../cdk/servers/ports.ts";
import { waitFor } from "../../../app/retry.ts";
import { stallBoundedTestTimeoutMs } from "../../stall-bounded.ts";
import { endpointsAnswer, stackStatus, startStack, stopStack } from "../../../scripts/local/stack-control.ts";
import { localEndpoints, projectRoot, stateRoot } from "../../../scripts/local/locations.ts";
import { startLockFile } from "../../../scripts/local/supervision.ts";

const runId = `t${Date.now().toString(36)}`;

describe("Kafka on the local stack", () => {
  it("delivers every produced message to a consumer, in order per key", async () => {
    const kafka = new Kafka({ clientId: runId, brokers: [localEndpoints.kafkaBrokers], logLevel: logLevel.ERROR });
    const topic = `stack-test-${runId}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) }));
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `g-${runId}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; value: number }[] = [];
    await new Promise<void>((done, fail) => {
      consumer
        .run({
          eachMessage: ({ message }) => {
            received.push({ key: message.key!.toString(), value: Number(message.value!.toString()) });
            if (received.length === sent.length) done();
            return Promise.resolve();
          },
        })
        .catch(fail);
    });
    await consumer.disconnect();

    expect(received).toHaveLength(sent.length);
    for (const key of new Set(sent.map((m) => m.key))) {
      const values = received.filter((m) => m.key === key).map((m) => m.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  });
});

describe("Cassandra on the local stack", () => {
  it("writes and reads rows back newest first", async () => {
    const client = new cassandra.Client({
      contactPoints: [localEndpoints.cassandraContactPoints],
      localDataCenter: localEndpoints.cassandraLocalDataCenter,
    });
    await client.connect();
    const ks = `stack_${runId}`;
    try {
      await client.execute(`CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
      await client.execute(
        `CREATE TABLE ${ks}.series (id text, t bigint, v double, PRIMARY KEY (id, t)) WITH CLUSTERING ORDER BY (t DESC)`,
      );
      for (let t = 0; t < 60; t++) {
        await client.execute(`INSERT INTO ${ks}.series (id, t, v) VALUES (?, ?, ?)`, ["a", t, t * 1.5], { prepare: true });
      }
      const rs = await client.execute(`SELECT t, v FROM ${ks}.series WHERE id = ? LIMIT 50`, ["a"], { prepare: true });
      expect(rs.rows.map((r) => Number(r.get("t")))).toEqual(Array.from({ length: 50 }, (_, i) => 59 - i));
      expect(rs.rows[0]!.get("v")).toBe(59 * 1.5);
    } finally {
      await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`);
      await client.shutdown();
    }
  });
});

/** Alive and not a zombie (the process that launched a server may not have reaped it yet). */
const isLive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

const portOpen = (port: number) =>
  new Promise<boolean>((done) => {
    const s = createConnection({ port, host: "127.0.0.1" });
    s.once("connect", () => (s.destroy(), done(true)));
    s.once("error", () => done(false));
  });

describe("a bad environment gives one line that says what to do", () => {
  const nodeBin = dirname(process.execPath);
  const tsx = join(projectRoot, "node_modules", ".bin", "tsx");
  const startWith = (path: string, stateDir = mkdtempSync(join(tmpdir(), "stack-"))) =>
    spawnSync(tsx, [join(projectRoot, "scripts", "stack.ts"), "start"], {
      encoding: "utf8",
      env: { ...process.env, PATH: path, LOCAL_STACK_DIR: stateDir },
    });
  const binWith = (links: Record<string, string>, scripts: Record<string, string> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), "bin-"));
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
    for (const [name, body] of Object.entries(scripts)) {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    }
    return dir;
  };
  const which = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
  const errorLine = (r: ReturnType<typeof startWith>) =>
    r.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("error:"));

  it("no java", () => {
    const r = startWith(binWith({ node: process.execPath }));
    expect(r.status).toBe(1);
    expect(errorLine(r)).toEqual([expect.stringMatching(/^error: java not found: install a JDK 17 or newer/)]);
  });

  it("java 11", () => {
    const r = startWith(binWith({ node: process.execPath }, { java: `echo 'openjdk version "11.0.22" 2024-01-16' >&2` }));
    expect(r.status).toBe(1);
    expect(errorLine(r)).toEqual([expect.stringMatching(/^error: java 11 is too old: .* need Java 17\+/)]);
  });

  it("no maven", () => {
    const r = startWith(binWith({ node: process.execPath, java: which("java") }));
    expect(r.status).toBe(1);
    expect(errorLine(r)).toEqual([expect.stringMatching(/^error: mvn not found: install Apache Maven/)]);
  });

  it("port taken by a process that is not ours", async () => {
    expect(await endpointsAnswer()).toBe(true);
    // A fresh state dir has no PID files, so the running servers on our ports are strangers to it.
    const r = startWith(`${nodeBin}:${process.env.PATH ?? ""}`);
    expect(r.status).toBe(1);
    expect(errorLine(r)).toEqual([expect.stringMatching(new RegExp(`^error: port ${kafkaPorts.localClient} on 127.0.0.1 is taken`))]);
  });
});

/** `npm run stack -- start` as a child process, watched while it runs: its output so far, and its exit. */
function startCli(): { output: () => string; exited: Promise<number | null> } {
  const child = spawn(join(projectRoot, "node_modules", ".bin", "tsx"), [join(projectRoot, "scripts", "stack.ts"), "start"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  return { output: () => out, exited: new Promise((resolve) => child.on("close", (code) => resolve(code))) };
}

/**
 * Resolves once `start` printed that it waits for `holder`'s lock; rejects if it exited first. No deadline: a
 * slow start is slow, and the holder holds until the test releases it, so the start cannot miss the lock.
 */
async function waitsForLock(start: ReturnType<typeof startCli>, holder: number): Promise<void> {
  const waiting = new RegExp(`another start of the local stack \\(pid ${holder}\\) is in progress; waiting for it`);
  let exited: number | null | undefined;
  void start.exited.then((code) => (exited = code));
  await waitFor(
    () => {
      if (waiting.test(start.output())) return true;
      if (exited !== undefined) throw new Error(`stack start exited (${exited}) without waiting for the lock:\n${start.output()}`);
      return false;
    },
    { what: "stack start to wait for the lock", timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 100 },
  );
}

describe("starting and stopping", () => {
  // These stop and start the stack through the PID files of this state dir. A stack another checkout started
  // (the same ports, its own state dir) cannot be stopped or restarted from here: the test says so and fails,
  // rather than pass having tested nothing.
  const requireOurStack = async () => {
    const strangers = (await stackStatus()).filter((s) => s.pid === null).map((s) => s.label);
    if (strangers.length > 0) {
      throw new Error(
        `${strangers.join(" and ")} on our ports has no PID file in ${stateRoot}: it was started from another state dir. ` +
          "Run these tests with LOCAL_STACK_DIR set to that checkout's .local (or stop that stack first).",
      );
    }
  };

  it("a second start finds both servers running and starts nothing", async () => {
    await requireOurStack();
    expect(await startStack()).toEqual([]);
    expect((await stackStatus()).every((s) => s.answering)).toBe(true);
  });

  it("start --auth refuses a running node without authentication and says what to do, leaving it running", async () => {
    await requireOurStack();
    const tsx = join(projectRoot, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [join(projectRoot, "scripts", "stack.ts"), "start", "--auth"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: Cassandra [\\d.]+ \\(pid \\d+\\) on 127\\.0\\.0\\.1:${cassandraPorts.cql} runs without authentication: stop it .* start it again with --auth$`,
        "m",
      ),
    );
    expect((await stackStatus()).every((s) => s.answering)).toBe(true);
  });

  it(
    "stop leaves no server process and no open port; two starts at once launch each server once",
    async () => {
      await requireOurStack();
      const before = await stackStatus();
      await stopStack();
      for (const s of before) expect(isLive(s.pid!)).toBe(false);
      for (const port of [kafkaPorts.localClient, kafkaPorts.localController, cassandraPorts.cql, cassandraPorts.storage]) {
        expect(await portOpen(port)).toBe(false);
      }
      // Two starts at once (two test runs, or a test run and `npm run stack -- start`) must not both launch a
      // server: a start waits while another live start holds the lock, then finds what that one started. The
      // lock's holder is a stand-in process that holds it until both starts said they wait, however slowly they
      // came up; then it is released and the two race for it for real.
      const holder = spawn("sleep", ["infinity"], { stdio: "ignore" });
      const holderExited = new Promise((resolve) => holder.on("exit", resolve));
      try {
        writeFileSync(startLockFile, `${holder.pid}\n`);
        const first = startCli();
        const second = startCli();
        await Promise.all([waitsForLock(first, holder.pid!), waitsForLock(second, holder.pid!)]);
        holder.kill();
        await holderExited; // reaped: the starts now see a stale lock, not a live holder
        const [a, b] = await Promise.all([first.exited, second.exited]);
        expect(a, first.output()).toBe(0);
        expect(b, second.output()).toBe(0);
        const launched = [first, second].flatMap((cli) =>
          [...cli.output().matchAll(/starting (Kafka|Cassandra) /g)].map((m) => m[1]!.toLowerCase()),
        );
        expect(launched.sort()).toEqual(["cassandra", "kafka"]);
      } finally {
        holder.kill();
      }
      const after = await stackStatus();
      expect(after.every((st) => st.pid !== null && st.answering)).toBe(true);
    },
    stallBoundedTestTimeoutMs,
  );
});
