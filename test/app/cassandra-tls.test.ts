/**
 * The detector's TLS to Cassandra, without a cluster: its settings (one CA source, with a login), the CA read
 * from a file or from Secrets Manager (the real SDK client against the loopback replay server, answering first
 * with the stack's placeholder and then with a certificate, as while node 0 is still setting up), and the
 * driver options built from it. A real CA made by the cloud's script (cdk/servers/cassandra-tls.sh) stands in
 * for the cluster's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseDetectorConfig } from "../../app/config.ts";
import { readCassandraCredentials, sslOptionsFor } from "../../app/detector/cassandra-auth.ts";
import { readCassandraTlsCa, sslOptionsOf } from "../../app/detector/cassandra-tls.ts";
import { cassandraTlsScriptPath } from "../../cdk/servers/cassandra-tls.ts";
import { jsonReply, ReplayServer, testCredentials } from "../recorded/replay-server.ts";

const caArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ClusterCaCertificate9A8B7C-AbCdEf";
const dir = mkdtempSync(join(tmpdir(), "detector-tls-"));
let caPem: string;

beforeAll(() => {
  const made = spawnSync("bash", [cassandraTlsScriptPath, "ca", dir, "unit"], { encoding: "utf8" });
  expect(made.status, made.stderr).toBe(0);
  caPem = readFileSync(join(dir, "ca.pem"), "utf8");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A GetSecretValue answer in the shape Secrets Manager sends (as the recorded ones in ./recorded). */
const secretReply = (secretString: string) =>
  jsonReply(
    JSON.stringify({
      ARN: caArn,
      Name: "ClusterCaCertificate9A8B7C",
      SecretString: secretString,
      VersionId: "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222",
      VersionStages: ["AWSCURRENT"],
    }),
  );

describe("TLS settings", () => {
  const login = { CASSANDRA_USERNAME: "detector", CASSANDRA_PASSWORD_FILE: "/run/pw" };

  it("takes one CA source with a login", () => {
    expect(parseDetectorConfig({ env: { ...login, CASSANDRA_TLS_CA_SECRET_ARN: caArn } }).cassandraTlsCaSecretArn).toBe(caArn);
    expect(parseDetectorConfig({ env: { ...login, CASSANDRA_TLS_CA_FILE: "/run/ca.pem" } }).cassandraTlsCaFile).toBe("/run/ca.pem");
    expect(parseDetectorConfig({ env: {} })).toMatchObject({ cassandraTlsCaSecretArn: "", cassandraTlsCaFile: "" });
  });

  it.each([
    [
      { ...login, CASSANDRA_TLS_CA_SECRET_ARN: caArn, CASSANDRA_TLS_CA_FILE: "/run/ca.pem" },
      /setting cassandraTlsCaSecretArn \(env CASSANDRA_TLS_CA_SECRET_ARN\) and setting cassandraTlsCaFile \(env CASSANDRA_TLS_CA_FILE\): both given; allowed: at most one/,
    ],
    [
      { CASSANDRA_TLS_CA_FILE: "/run/ca.pem" },
      /setting cassandraUsername \(env CASSANDRA_USERNAME\): empty, but setting cassandraTlsCaFile \(env CASSANDRA_TLS_CA_FILE\) is given; allowed: a username/,
    ],
    [
      { ...login, CASSANDRA_TLS_CA_SECRET_ARN: "arn:aws:s3:::bucket" },
      /setting cassandraTlsCaSecretArn \(env CASSANDRA_TLS_CA_SECRET_ARN\): value "arn:aws:s3:::bucket" is not allowed .*allowed: a Secrets Manager secret ARN/,
    ],
  ])("refuses %j naming the settings and what is allowed", (env, message) => {
    expect(() => parseDetectorConfig({ env })).toThrow(message);
  });
});

describe("the CA from a file", () => {
  it("is read and carried with the credentials to the driver, which then trusts it alone", async () => {
    const caFile = join(dir, "ca.pem");
    const passwordFile = join(dir, "password");
    writeFileSync(passwordFile, "a-password-of-some-length\n", { mode: 0o600 });
    const credentials = await readCassandraCredentials({
      cassandraUsername: "detector",
      cassandraPasswordSecretArn: "",
      cassandraPasswordFile: passwordFile,
      cassandraTlsCaFile: caFile,
    });
    expect(credentials?.tlsCa).toBe(caPem);
    expect(sslOptionsFor(credentials)).toEqual({ sslOptions: { ca: [caPem], rejectUnauthorized: true, minVersion: "TLSv1.2" } });
    // Without a CA: no TLS options at all (plaintext, the shared local node).
    expect(sslOptionsFor({ username: "detector", password: "x" })).toEqual({});
    expect(sslOptionsFor(null)).toEqual({});
  });

  it("is refused when missing or not a certificate, naming the file", async () => {
    await expect(readCassandraTlsCa({ cassandraTlsCaSecretArn: "", cassandraTlsCaFile: join(dir, "absent.pem") })).rejects.toThrow(
      `cannot read the Cassandra CA certificate file ${join(dir, "absent.pem")}: ENOENT`,
    );
    const notACertificate = join(dir, "not-a-cert.pem");
    writeFileSync(notACertificate, "placeholder\n");
    await expect(readCassandraTlsCa({ cassandraTlsCaSecretArn: "", cassandraTlsCaFile: notACertificate })).rejects.toThrow(
      /holds no PEM certificate/,
    );
  });

  it("no source: plaintext", async () => {
    expect(await readCassandraTlsCa({ cassandraTlsCaSecretArn: "", cassandraTlsCaFile: "" })).toBeNull();
  });

  it("trusts only what it is given, checking the certificate (the driver's own default would not)", () => {
    expect(sslOptionsOf(caPem)).toMatchObject({ ca: [caPem], rejectUnauthorized: true });
  });
});

describe("the CA from Secrets Manager (replayed answers)", () => {
  const server = new ReplayServer();
  const client = () => ({ endpoint: server.endpoint, credentials: testCredentials, maxAttempts: 1 });
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  afterEach(() => {
    expect(server.unmatched).toEqual([]);
    server.reset();
  });

  it("reads again while the secret holds the stack's placeholder, then takes the certificate", async () => {
    server.add({ match: "GetSecretValue", ...secretReply("R4nd0mPlaceholderValue1") }, { match: "GetSecretValue", ...secretReply(caPem) });
    const ca = await readCassandraTlsCa({ cassandraTlsCaSecretArn: caArn, cassandraTlsCaFile: "", schemaWaitSeconds: 60 }, client(), 10);
    expect(ca).toBe(caPem);
    expect(server.keys()).toEqual(["GetSecretValue", "GetSecretValue"]);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ SecretId: caArn });
  });

  it("gives up after schemaWaitSeconds, saying who publishes the certificate", async () => {
    server.add({ match: "GetSecretValue", repeat: true, ...secretReply("R4nd0mPlaceholderValue1") });
    await expect(
      readCassandraTlsCa({ cassandraTlsCaSecretArn: caArn, cassandraTlsCaFile: "", schemaWaitSeconds: 1 }, client(), 400),
    ).rejects.toThrow(
      `timed out after 1 s waiting for: a PEM certificate in secret ${caArn} (node 0 publishes the cluster's CA certificate there when its set-up ends)`,
    );
  });
});
