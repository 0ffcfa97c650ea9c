/**
 * Cassandra with TLS, as the cloud runs it, on a real Cassandra 5.0 node of its own (the shared one on 9042
 * and the auth test's on 19042 stay as they are): the CA and the node's certificate made by the cloud's script
 * (cdk/servers/cassandra-tls.sh), the cloud's cassandra.yaml encryption options (cdk/servers/cassandra-config.ts),
 * the cloud's auth set-up run through cqlsh over TLS, then the detector's own client factory connecting over
 * TLS with the CA from its settings, while plaintext, an untrusted CA and a certificate-less peer on the
 * internode port are all refused.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type PeerCertificate } from "node:tls";
import cassandra from "cassandra-driver";
import { describe, expect, it } from "vitest";
import { parseDetectorConfig } from "../../../app/config.ts";
import { cassandraSchema } from "../../../app/topology.ts";
import { readCassandraCredentials } from "../../../app/detector/cassandra-auth.ts";
import { sslOptionsOf } from "../../../app/detector/cassandra-tls.ts";
import { createCassandraClient } from "../../../app/detector/cassandra-store.ts";
import { cassandraDetectorRole } from "../../../cdk/servers/cassandra-auth-setup.ts";
import { cassandraTlsScriptPath } from "../../../cdk/servers/cassandra-tls.ts";
import { cassandraPasswordFiles, cassandraTlsPaths } from "../../../scripts/local/cassandra-security.ts";
import { localEndpoints, localHost } from "../../../scripts/local/locations.ts";
import { connectError, ownNode, rolePassword, storeWithTwoEvents, withOwnNode } from "./own-node.ts";

const node = ownNode("tls", 20_000, { authentication: true, tls: true });
const paths = cassandraTlsPaths(node);
const runId = node.clusterName.replaceAll("-", "_");
const detectorPassword = () => rolePassword(node, "detector");

/** The detector's settings for this node, as a Deployment's env would give them. */
const detectorConfig = () =>
  parseDetectorConfig({
    env: {
      CASSANDRA_CONTACT_POINTS: `${localHost}:${node.ports.cql}`,
      CASSANDRA_USERNAME: cassandraDetectorRole,
      CASSANDRA_PASSWORD_FILE: cassandraPasswordFiles(node).detector,
      CASSANDRA_TLS_CA_FILE: paths.node.truststore,
      CASSANDRA_KEYSPACE: `it_${runId}`,
      CASSANDRA_REPLICATION_FACTOR: "1",
    },
  });

/** Why a login with these client options fails, or null when it succeeds. */
const detectorLoginError = (options: Partial<cassandra.ClientOptions>): Promise<unknown> =>
  connectError({
    contactPoints: [`${localHost}:${node.ports.cql}`],
    localDataCenter: localEndpoints.cassandraLocalDataCenter,
    authProvider: new cassandra.auth.PlainTextAuthProvider(cassandraDetectorRole, detectorPassword()),
    socketOptions: { connectTimeout: 5000, readTimeout: 10_000 },
    ...options,
  });

/** A TLS handshake with a port of the node: the certificate it presents, or the error that ended it. */
function handshake(port: number, ca: string): Promise<{ certificate?: PeerCertificate; error?: Error }> {
  return new Promise((done) => {
    const socket = connect({ host: localHost, port, ca: [ca], rejectUnauthorized: true });
    let certificate: PeerCertificate | undefined;
    socket.once("secureConnect", () => {
      certificate = socket.getPeerCertificate();
      // TLS 1.3: a server that wants a client certificate says so after the handshake; wait for its answer.
      socket.write(Buffer.alloc(16));
    });
    socket.once("error", (error: Error) => {
      socket.destroy();
      done({ certificate, error });
    });
    socket.once("close", () => done({ certificate }));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

// Makes the CA and the certificate, starts the node, runs the auth set-up over TLS, waits for a TLS answer.
withOwnNode(node);

describe("a local node with the cloud's TLS", () => {
  it("keeps the private keys in owner-only files and gives the node a certificate for its address, signed by the CA", async () => {
    expect(statSync(paths.ca.bundle).mode & 0o777).toBe(0o600);
    expect(statSync(paths.node.keystore).mode & 0o777).toBe(0o600);
    const yaml = readFileSync(join(node.dir, "cassandra.yaml"), "utf8");
    expect(yaml).not.toMatch(/password/);
    const { certificate, error } = await handshake(node.ports.cql, readFileSync(paths.ca.certificate, "utf8"));
    expect(error).toBeUndefined();
    expect(certificate?.subjectaltname).toBe(`IP Address:${localHost}`);
    expect(certificate?.issuer.CN).toBe(`${node.clusterName} Cassandra CA`);
  });

  it("ran the cloud's auth set-up through cqlsh over TLS", () => {
    const log = readFileSync(join(node.dir, "auth", "setup.log"), "utf8");
    expect(log).toContain("logged in as cassandra");
    expect(log).toContain("authentication set up");
  });

  it("lets the detector's store connect over TLS with the CA from its settings, create its schema, write and read", async () => {
    const config = detectorConfig();
    const credentials = await readCassandraCredentials(config);
    expect(credentials?.tlsCa).toBe(readFileSync(paths.node.truststore, "utf8"));
    const store = await storeWithTwoEvents(config, credentials);
    try {
      const rs = await store.client.execute(`SELECT value FROM ${config.keyspace}.${cassandraSchema.eventsTable} WHERE id = ?`, ["k1"], {
        prepare: true,
      });
      expect(rs.rows.map((r) => r.get("value") as number)).toEqual([2.5, 1.5]);
    } finally {
      await store.shutdown();
    }
  });

  it("refuses a plaintext connection with the right password", async () => {
    const err = await detectorLoginError({});
    expect(err).toBeInstanceOf(cassandra.errors.NoHostAvailableError);
    // And the detector's factory with the role's password but no CA (plaintext) is refused as well.
    const plain = createCassandraClient(detectorConfig(), undefined, { username: cassandraDetectorRole, password: detectorPassword() });
    try {
      await expect(plain.connect()).rejects.toBeInstanceOf(cassandra.errors.NoHostAvailableError);
    } finally {
      await plain.shutdown();
    }
  });

  it("refuses a TLS connection that trusts another CA (the node's certificate is checked)", async () => {
    const other = mkdtempSync(join(tmpdir(), "other-ca-"));
    try {
      const made = spawnSync("bash", [cassandraTlsScriptPath, "ca", other, "other"], { encoding: "utf8" });
      expect(made.status, made.stderr).toBe(0);
      const err = await detectorLoginError({ sslOptions: { ca: [readFileSync(join(other, "ca.pem"), "utf8")], rejectUnauthorized: true } });
      expect(err).toBeInstanceOf(cassandra.errors.NoHostAvailableError);
      const inner = Object.values((err as cassandra.errors.NoHostAvailableError).innerErrors as Record<string, unknown>);
      expect(String(inner[0])).toMatch(/self-signed|unable to (verify|get)/i);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("closes and opens CQL with the nodetool commands the cloud's first-boot gate uses", async () => {
    const nodetool = (command: string) =>
      spawnSync(join(node.dir, "auth", "nodetool"), [command], { encoding: "utf8", env: { ...process.env, HOME: join(node.dir, "auth") } });
    const tls = { sslOptions: sslOptionsOf(readFileSync(paths.node.truststore, "utf8")) };
    expect(nodetool("disablebinary").status).toBe(0);
    try {
      expect(await detectorLoginError(tls)).toBeInstanceOf(cassandra.errors.NoHostAvailableError);
    } finally {
      expect(nodetool("enablebinary").status).toBe(0);
    }
    expect(await detectorLoginError(tls)).toBeNull();
  }, 120_000);

  it("speaks only TLS between nodes and wants a certificate signed by the CA from a peer", async () => {
    const { certificate, error } = await handshake(node.ports.storage, readFileSync(paths.ca.certificate, "utf8"));
    expect(certificate?.subjectaltname).toBe(`IP Address:${localHost}`);
    // A peer without a client certificate: the node ends the connection (TLS alert "certificate required").
    expect(error?.message ?? "").toMatch(/certificate required|alert|ECONNRESET/i);
  });
});
