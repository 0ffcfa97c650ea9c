/**
 * Cassandra's first boot with authentication, on a real Cassandra 5.0 node of its own (the shared one on
 * 9042 stays as it is): PasswordAuthenticator + CassandraAuthorizer, the cloud's set-up script
 * (cdk/servers/cassandra-auth-setup.sh) run the moment the CQL port opens — before the default superuser
 * exists — then the detector's store logging in as the `detector` role, nodetool over the local JMX port,
 * and the cloud's JMX exporter agent and configuration reporting the ring state readiness reads.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import cassandra from "cassandra-driver";
import { describe, expect, it } from "vitest";
import { parseDetectorConfig } from "../../../app/config.ts";
import { readCassandraCredentials } from "../../../app/detector/cassandra-auth.ts";
import {
  cassandraAdminRole,
  cassandraAuthSetupEnv,
  cassandraAuthSetupScriptPath,
  cassandraDetectorRole,
} from "../../../cdk/servers/cassandra-auth-setup.ts";
import { cassandraRingMetrics, jmxExporterSha256 } from "../../../cdk/servers/cassandra-exporter.ts";
import { cassandraPasswordFiles, setUpCassandraAuth } from "../../../scripts/local/cassandra-security.ts";
import { jmxExporterJar } from "../../../scripts/local/maven-classpath.ts";
import { localEndpoints, localHost, projectRoot } from "../../../scripts/local/locations.ts";
import { connectError, ownNode, rolePassword, sampleEvent, storeWithTwoEvents, withOwnNode } from "./own-node.ts";

const node = ownNode("auth", 10_000, { authentication: true, exporterPort: 19500 });
const files = cassandraPasswordFiles(node);
const runId = node.clusterName.replaceAll("-", "_");

const clientOptions = (username: string, secret: string): cassandra.ClientOptions => ({
  contactPoints: [`${localHost}:${node.ports.cql}`],
  localDataCenter: localEndpoints.cassandraLocalDataCenter,
  authProvider: new cassandra.auth.PlainTextAuthProvider(username, secret),
  socketOptions: { connectTimeout: 5000, readTimeout: 20_000 },
});
const clientAs = (username: string, secret: string) => new cassandra.Client(clientOptions(username, secret));

/** The login error of these credentials, or null when the login succeeds. */
const loginError = (username: string, secret: string): Promise<unknown> => connectError(clientOptions(username, secret));
const authenticationFailure = (err: unknown) =>
  err instanceof cassandra.errors.NoHostAvailableError &&
  Object.values(err.innerErrors as Record<string, unknown>).some((e) => e instanceof cassandra.errors.AuthenticationError);

async function roles(): Promise<Record<string, { superuser: boolean; login: boolean }>> {
  const admin = clientAs(cassandraAdminRole, rolePassword(node, "admin"));
  try {
    const rs = await admin.execute("SELECT role, is_superuser, can_login FROM system_auth.roles");
    return Object.fromEntries(
      rs.rows.map((r) => [r.get("role") as string, { superuser: r.get("is_superuser") as boolean, login: r.get("can_login") as boolean }]),
    );
  } finally {
    await admin.shutdown();
  }
}

withOwnNode(node);

describe("the auth set-up script on a fresh authenticated node", () => {
  it("leaves admin (superuser) and detector (login only) and the default superuser disabled", async () => {
    expect(await roles()).toEqual({
      [cassandraAdminRole]: { superuser: true, login: true },
      [cassandraDetectorRole]: { superuser: false, login: true },
      cassandra: { superuser: false, login: false },
    });
    const defaultLogin = await loginError("cassandra", "cassandra");
    expect(authenticationFailure(defaultLogin)).toBe(true);
    // Refused for its password (replaced), which Cassandra checks before the login flag (disabled).
    expect(String(defaultLogin)).toMatch(/Provided username cassandra and\/or password are incorrect/);
    expect(await loginError(cassandraAdminRole, rolePassword(node, "admin"))).toBeNull();
    // The first run found the default superuser (started before it existed, it retried until it could).
    const firstRun = readFileSync(join(node.dir, "auth", "setup.log"), "utf8");
    expect(firstRun).toContain("logged in as cassandra");
    expect(firstRun).toContain("creating admin as the default superuser");
  });

  it("keeps the passwords in owner-only files", () => {
    for (const file of [files.admin, files.detector]) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(node.dir, "auth")).mode & 0o777).toBe(0o700);
  });

  it("succeeds when run again (logging in as admin), leaving the same roles and passwords", async () => {
    const before = { admin: rolePassword(node, "admin"), detector: rolePassword(node, "detector"), roles: await roles() };
    const output = await setUpCassandraAuth(node);
    expect(output).toContain("logged in as admin");
    expect(output).not.toContain("creating admin");
    expect({ admin: rolePassword(node, "admin"), detector: rolePassword(node, "detector"), roles: await roles() }).toEqual(before);
    expect(await loginError(cassandraDetectorRole, before.detector)).toBeNull();
  }, 180_000);

  it("lets the detector's store log in as detector with the password file, create its schema, write and read", async () => {
    const config = parseDetectorConfig({
      env: {
        CASSANDRA_CONTACT_POINTS: `${localHost}:${node.ports.cql}`,
        CASSANDRA_USERNAME: cassandraDetectorRole,
        CASSANDRA_PASSWORD_FILE: files.detector,
        CASSANDRA_KEYSPACE: `it_${runId}`,
        CASSANDRA_REPLICATION_FACTOR: "1",
      },
    });
    const credentials = await readCassandraCredentials(config);
    expect(credentials?.username).toBe(cassandraDetectorRole);
    const store = await storeWithTwoEvents(config, credentials);
    try {
      expect((await store.history(sampleEvent(3, 0))).values).toEqual([1.5, 2.5]);
      // Not a superuser: it cannot make roles.
      await expect(
        store.client.execute("CREATE ROLE intruder WITH LOGIN = true AND PASSWORD = 'intruder-password'"),
      ).rejects.toBeInstanceOf(cassandra.errors.ResponseError);
    } finally {
      await store.shutdown();
    }
  });

  it("without a password source for the username, the detector's config is refused", () => {
    expect(() => parseDetectorConfig({ env: { CASSANDRA_USERNAME: cassandraDetectorRole } })).toThrow(/cassandraPasswordFile/);
  });
});

describe("the script's bounds and its settings", () => {
  const run = (env: Record<string, string>) =>
    spawnSync("bash", [cassandraAuthSetupScriptPath], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: join(node.dir, "auth"), ...env },
    });
  const settings = (overrides: Partial<Parameters<typeof cassandraAuthSetupEnv>[0]> = {}) =>
    cassandraAuthSetupEnv({
      host: localHost,
      cqlPort: node.ports.cql,
      cqlsh: join(projectRoot, ".tools", "py", "bin", "cqlsh"),
      nodetool: join(node.dir, "auth", "nodetool"),
      adminPasswordFile: files.admin,
      detectorPasswordFile: files.detector,
      detectorRole: cassandraDetectorRole,
      datacenter: localEndpoints.cassandraLocalDataCenter,
      replicationFactor: 1,
      waitSeconds: 1,
      ...overrides,
    });

  it("gives up after its bound when nobody can log in, saying who and where", () => {
    const closedPort = node.ports.cql + 1;
    const r = run(settings({ cqlPort: closedPort }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`no login as admin cassandra within 1 s at ${localHost}:${closedPort}; last answer: \\S`));
  }, 60_000);

  it("refuses a bad setting naming the variable, its value and what is allowed (exit 2)", () => {
    const r = run({ ...settings(), CASSANDRA_AUTH_REPLICATION_FACTOR: "three" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(
      "cassandra-auth-setup: CASSANDRA_AUTH_REPLICATION_FACTOR=three is not allowed (system_auth replicas in that data centre, 1-9)",
    );
  });
});

describe("nodetool and the JMX exporter on the authenticated node", () => {
  it("nodetool reaches the node over its local JMX port: one node, Up/Normal", () => {
    const r = spawnSync(join(node.dir, "auth", "nodetool"), ["status"], {
      encoding: "utf8",
      env: { ...process.env, HOME: join(node.dir, "auth") },
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`^UN {2}${localHost.replaceAll(".", "\\.")} `, "m"));
  }, 60_000);

  it("the exporter jar is the artifact whose SHA-256 every node checks", () => {
    const jar = jmxExporterJar();
    expect(createHash("sha256").update(readFileSync(jar)).digest("hex")).toBe(jmxExporterSha256);
  });

  it("publishes the ring metrics readiness reads: joined, not bootstrapping, this node up, none down", async () => {
    const text = await (await fetch(`http://${localHost}:${node.exporterPort}/metrics`)).text();
    const value = (name: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.split(" ")[1]);
    };
    expect({
      joined: value(cassandraRingMetrics.joined),
      bootstrapMode: value(cassandraRingMetrics.bootstrapMode),
      upEndpoints: value(cassandraRingMetrics.upEndpoints),
      downEndpoints: value(cassandraRingMetrics.downEndpoints),
    }).toEqual({ joined: 1, bootstrapMode: 0, upEndpoints: 1, downEndpoints: 0 });
  });
});
