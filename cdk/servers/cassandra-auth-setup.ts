/**
 * The Cassandra authentication set-up script (cassandra-auth-setup.sh beside this file) and its settings.
 * One text, run by node 0's EC2 user data and by the local stack in its authenticated mode, so the local
 * integration test exercises exactly what the cloud runs. The script reads its settings from environment
 * variables; their names are defined here once, for both callers.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Where the script lives in the repository (the local stack runs it from here). */
export const cassandraAuthSetupScriptPath = fileURLToPath(new URL("./cassandra-auth-setup.sh", import.meta.url));

/** The script's text, embedded verbatim in node 0's user data. */
export const cassandraAuthSetupScript = (): string => readFileSync(cassandraAuthSetupScriptPath, "utf8");

/** The superuser the script creates (the default `cassandra` superuser is disabled). */
export const cassandraAdminRole = "admin";
/** The Cassandra role the detector and the schema Job log in as (its password: the stack's detector secret). */
export const cassandraDetectorRole = "detector";

export interface CassandraAuthSetupOptions {
  /** The node the script talks CQL to. */
  readonly host: string;
  readonly cqlPort: number;
  /** Absolute paths of cqlsh and nodetool (the tarball's in EC2; PyPI's cqlsh and a NodeTool wrapper locally). */
  readonly cqlsh: string;
  readonly nodetool: string;
  /** Files (mode 0600) whose first line is the password of each role. */
  readonly adminPasswordFile: string;
  readonly detectorPasswordFile: string;
  readonly detectorRole: string;
  /** system_auth's replication: the snitch's data centre and the replicas in it. */
  readonly datacenter: string;
  readonly replicationFactor: number;
  /** Bound of the whole set-up: the wait for a first login, and the repair's retries. */
  readonly waitSeconds: number;
  /** The CA certificate to verify a TLS node with (cqlsh then connects with --ssl); none: plaintext. */
  readonly caFile?: string;
}

/** The script's environment for these options (what the script validates again, naming the variable). */
export function cassandraAuthSetupEnv(o: CassandraAuthSetupOptions): Record<string, string> {
  return {
    CASSANDRA_AUTH_HOST: o.host,
    CASSANDRA_AUTH_CQL_PORT: String(o.cqlPort),
    CASSANDRA_AUTH_CQLSH: o.cqlsh,
    CASSANDRA_AUTH_NODETOOL: o.nodetool,
    CASSANDRA_AUTH_ADMIN_PASSWORD_FILE: o.adminPasswordFile,
    CASSANDRA_AUTH_DETECTOR_PASSWORD_FILE: o.detectorPasswordFile,
    CASSANDRA_AUTH_ADMIN_ROLE: cassandraAdminRole,
    CASSANDRA_AUTH_DETECTOR_ROLE: o.detectorRole,
    CASSANDRA_AUTH_DATACENTER: o.datacenter,
    CASSANDRA_AUTH_REPLICATION_FACTOR: String(o.replicationFactor),
    CASSANDRA_AUTH_WAIT_SECONDS: String(o.waitSeconds),
    ...(o.caFile === undefined ? {} : { CASSANDRA_AUTH_CA_FILE: o.caFile }),
  };
}

/** The same environment as shell assignments (for user data); values are single-quoted. */
export const shellAssignments = (env: Record<string, string>): string =>
  Object.entries(env)
    .map(([k, v]) => `${k}='${v.replaceAll("'", `'"'"'`)}'`)
    .join(" \\\n  ");
