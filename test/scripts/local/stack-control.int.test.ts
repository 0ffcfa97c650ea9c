/** The local stack against its real servers: Kafka round trip, Cassandra round trip, restart, bad environments. */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import cassandra from "cassandra-driver";
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { cassandraPorts, kafkaPorts } from "../../../cdk/servers/ports.ts";
import { endpointsAnswer, localEndpoints, projectRoot, stackStatus, startStack, stopStack } from "../../../scripts/local/stack-control.ts";

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
      await client.execute(`CREATE TABLE ${ks}.series (id text, t bigint, v double, PRIMARY KEY (id, t)) WITH CLUSTERING ORDER BY (t DESC)`);
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
  const errorLine = (r: ReturnType<typeof startWith>) => r.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));

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

/** `npm run stack -- start` as a child process, without blocking the event loop (the in-process start runs beside it). */
function startCli(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(projectRoot, "node_modules", ".bin", "tsx"), [join(projectRoot, "scripts", "stack.ts"), "start"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("starting and stopping", () => {
  // These need the stack this checkout started; the test run may be using one another checkout started.
  const stackIsOurs = async () => (await stackStatus()).every((s) => s.pid !== null);

  it("a second start finds both servers running and starts nothing", async (ctx) => {
    if (!(await stackIsOurs())) ctx.skip();
    expect(await startStack()).toEqual([]);
    expect((await stackStatus()).every((s) => s.answering)).toBe(true);
  });

  it("start --auth refuses a running node without authentication and says what to do, leaving it running", async (ctx) => {
    if (!(await stackIsOurs())) ctx.skip();
    const tsx = join(projectRoot, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [join(projectRoot, "scripts", "stack.ts"), "start", "--auth"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error: Cassandra [\\d.]+ \\(pid \\d+\\) on 127\\.0\\.0\\.1:${cassandraPorts.cql} runs without authentication: stop it .* start it again with --auth$`, "m"),
    );
    expect((await stackStatus()).every((s) => s.answering)).toBe(true);
  });

  it("stop leaves no server process and no open port; start brings both back", async (ctx) => {
    if (!(await stackIsOurs())) ctx.skip();
    const before = await stackStatus();
    await stopStack();
    for (const s of before) expect(isLive(s.pid!)).toBe(false);
    for (const port of [kafkaPorts.localClient, kafkaPorts.localController, cassandraPorts.cql, cassandraPorts.storage]) {
      expect(await portOpen(port)).toBe(false);
    }
    // Two starts at once (two test runs, or a test run and `npm run stack -- start`) must not both launch a
    // server: a start waits while another live start holds the lock, then finds what that one started.
    // Here the lock's holder is a short-lived stand-in process, so the wait is certain, not a race.
    const holder = spawn("sleep", ["3"], { stdio: "ignore" });
    writeFileSync(join(projectRoot, ".local", "start.lock"), `${holder.pid}\n`);
    const [cli, inProcess] = await Promise.all([startCli(), sleep(1_000).then(() => startStack())]);
    expect(cli.code).toBe(0);
    expect(cli.out).toMatch(new RegExp(`another start of the local stack \\(pid ${holder.pid}\\) is in progress; waiting for it`));
    const launchedByCli = [...cli.out.matchAll(/starting (Kafka|Cassandra) /g)].map((m) => m[1]!.toLowerCase());
    expect([...inProcess, ...launchedByCli].sort()).toEqual(["cassandra", "kafka"]);
    const after = await stackStatus();
    expect(after.every((st) => st.pid !== null && st.answering)).toBe(true);
  }, 400_000);
});
