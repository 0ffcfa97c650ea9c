/**
 * The local stack's lifecycle: one Apache Kafka broker (KRaft) and one Apache Cassandra node on loopback,
 * started, reported on, stopped and reset as a whole. Each server is in its own module (kafka-server.ts,
 * cassandra-server.ts), resolved from Maven Central (maven-classpath.ts) and supervised by PID file
 * (supervision.ts); state lives under .local/ (git-ignored).
 *
 * Cassandra can also run authenticated (`start --auth`) and with TLS (`start --tls`, which implies --auth), set
 * up by the cloud's own scripts (cassandra-security.ts).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { localCassandra } from "./cassandra-node.ts";
import { cassandraAnswers, cassandraServer } from "./cassandra-server.ts";
import { kafkaAnswers, localKafka } from "./kafka-server.ts";
import type { LocalServer } from "./local-server.ts";
import { localEndpoints, localHost } from "./locations.ts";
import { StackError, stackLog as log } from "./stack-messages.ts";
import { runningPid, startServers, stopServers } from "./supervision.ts";

const servers: readonly LocalServer[] = [localKafka, cassandraServer(localCassandra)];

export interface ServerStatus {
  readonly name: LocalServer["name"];
  readonly label: string;
  readonly pid: number | null;
  readonly address: string;
  readonly answering: boolean;
}

export async function stackStatus(): Promise<ServerStatus[]> {
  return Promise.all(
    servers.map(async (s) => {
      const pid = runningPid(s);
      return { name: s.name, label: s.label, pid, address: `${localHost}:${s.port}`, answering: pid !== null && (await s.answers()) };
    }),
  );
}

/** True when both servers answer on our endpoints, whoever started them (another checkout, say). */
export async function endpointsAnswer(): Promise<boolean> {
  const [kafka, cassandra] = await Promise.all([kafkaAnswers(), cassandraAnswers()]);
  return kafka && cassandra;
}

/**
 * What the tools call before a run: use the servers answering on our endpoints, whoever started them (this
 * checkout or another), or start ours. Returns the names of the servers this call started.
 */
export async function ensureStack(): Promise<LocalServer["name"][]> {
  const ours = (await stackStatus()).every((s) => s.pid !== null);
  if (!ours && (await endpointsAnswer())) {
    log(
      `using the Kafka and Cassandra already answering on ${localEndpoints.kafkaBrokers} and ${localEndpoints.cassandraContactPoints} (started elsewhere)`,
    );
    return [];
  }
  return startStack();
}

/**
 * Starts whatever of the stack is not running and waits until both servers answer.
 * Returns the names of the servers this call started (so a caller can stop exactly those).
 * `auth`: Cassandra with password authentication, set up by the cloud's script (see setUpCassandraAuth).
 * `tls`: Cassandra requiring TLS as in the cloud (implies `auth`; certificates by cdk/servers/cassandra-tls.sh).
 */
export async function startStack(options: { auth?: boolean; tls?: boolean } = {}): Promise<LocalServer["name"][]> {
  const tls = options.tls ?? false;
  const cassandraNode = cassandraServer({ ...localCassandra, authentication: tls || (options.auth ?? false), tls });
  const started = await startServers([localKafka, cassandraNode]);
  return started.map((s) => s.name);
}

/** Stops our servers (all, or the named ones): SIGTERM, then SIGKILL after a grace period. */
export async function stopStack(names: readonly LocalServer["name"][] = servers.map((s) => s.name)): Promise<void> {
  await stopServers(servers.filter((s) => names.includes(s.name)));
}

/** Deletes the local servers' data and Cassandra's role passwords (not the cached artifacts); the stack must be stopped. */
export async function resetStack(): Promise<void> {
  const running = (await stackStatus()).filter((s) => s.pid !== null);
  if (running.length > 0) throw new StackError("stop the stack before resetting it");
  for (const s of servers) rmSync(join(s.dir, "data"), { recursive: true, force: true });
  rmSync(join(localCassandra.dir, "auth"), { recursive: true, force: true });
  rmSync(join(localCassandra.dir, "tls"), { recursive: true, force: true });
}
