/**
 * Where things are: the project's root, the local stack's state (under .local/, git-ignored), the loopback
 * address the local servers listen on, and the endpoints clients reach them at.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cassandraPorts, kafkaPorts } from "../../cdk/servers/ports.ts";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const localHost = "127.0.0.1";
/** Overridable so tests can run a second, isolated state directory against the same ports. */
export const stateRoot = process.env.LOCAL_STACK_DIR ?? join(projectRoot, ".local");

/** Where clients reach the local servers. */
export const localEndpoints = {
  kafkaBrokers: `${localHost}:${kafkaPorts.localClient}`,
  cassandraContactPoints: `${localHost}:${cassandraPorts.cql}`,
  /** SimpleSnitch's data centre name. */
  cassandraLocalDataCenter: "datacenter1",
} as const;
