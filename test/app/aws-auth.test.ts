/**
 * The app's AWS-facing authentication, without AWS:
 * - the Cassandra password read from Secrets Manager, by the real SDK client against the loopback replay
 *   server answering with recorded GetSecretValue responses, or from a password file (local --auth mode);
 * - the MSK IAM token, signed by AWS's real signer library with static credentials (signing is local: no call).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cassandra from "cassandra-driver";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, parseDetectorConfig, parseLoadgenConfig } from "../../app/config.ts";
import { authProviderOf, passwordFromFile, passwordOf, readCassandraCredentials, regionOfArn } from "../../app/detector/cassandra-auth.ts";
import { authOptions, mskIamTokenProvider, tokenRefreshMarginMs } from "../../app/kafka/kafka-client.ts";
import { jsonReply, ReplayServer, testCredentials } from "../recorded/replay-server.ts";
import { recorded } from "../recorded/recorded.ts";

const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:DetectorPassword3F1A2B-AbCdEf";
const secretsManager = (name: string) => recorded(`secretsmanager/${name}`);

describe("settings", () => {
  it("default to no authentication (the local stack)", () => {
    const c = parseDetectorConfig({ env: {} });
    expect(c).toMatchObject({ kafkaAuth: "none", awsRegion: "", cassandraUsername: "", cassandraPasswordSecretArn: "" });
    expect(authOptions(c)).toEqual({});
    expect(parseLoadgenConfig({ env: {} }).kafkaAuth).toBe("none");
  });

  it("read MSK IAM auth and the Cassandra role from the environment", () => {
    const c = parseDetectorConfig({
      env: { KAFKA_AUTH: "aws-iam", AWS_REGION: "eu-central-2", CASSANDRA_USERNAME: "detector", CASSANDRA_PASSWORD_SECRET_ARN: secretArn },
    });
    expect(c).toMatchObject({
      kafkaAuth: "aws-iam",
      awsRegion: "eu-central-2",
      cassandraUsername: "detector",
      cassandraPasswordSecretArn: secretArn,
    });
    const options = authOptions(c);
    expect(options.ssl).toBe(true);
    expect(options.sasl).toMatchObject({ mechanism: "oauthbearer" });
  });

  it.each([
    [{ KAFKA_AUTH: "scram" }, /setting kafkaAuth \(env KAFKA_AUTH\): value "scram" is not allowed.*allowed: one of none, aws-iam/],
    [{ AWS_REGION: "Frankfurt" }, /setting awsRegion \(env AWS_REGION\): value "Frankfurt"/],
    [{ KAFKA_AUTH: "aws-iam" }, /setting awsRegion \(env AWS_REGION\): empty, but setting kafkaAuth is aws-iam/],
    [
      { CASSANDRA_USERNAME: "detector" },
      /setting cassandraPasswordSecretArn \(env CASSANDRA_PASSWORD_SECRET_ARN\): empty, but setting cassandraUsername/,
    ],
    [{ CASSANDRA_PASSWORD_SECRET_ARN: secretArn }, /setting cassandraUsername \(env CASSANDRA_USERNAME\): empty/],
    [
      { CASSANDRA_USERNAME: "detector", CASSANDRA_PASSWORD_SECRET_ARN: "arn:aws:ssm:us-east-1:123456789012:parameter/x" },
      /not a Secrets Manager secret ARN/,
    ],
    [{ CASSANDRA_USERNAME: "detector role" }, /setting cassandraUsername/],
    [
      { CASSANDRA_PASSWORD_FILE: "/run/pw" },
      /setting cassandraUsername \(env CASSANDRA_USERNAME\): empty, but setting cassandraPasswordFile \(env CASSANDRA_PASSWORD_FILE\) is given/,
    ],
    [
      { CASSANDRA_USERNAME: "detector", CASSANDRA_PASSWORD_SECRET_ARN: secretArn, CASSANDRA_PASSWORD_FILE: "/run/pw" },
      /setting cassandraPasswordSecretArn \(env CASSANDRA_PASSWORD_SECRET_ARN\) and setting cassandraPasswordFile \(env CASSANDRA_PASSWORD_FILE\): both given; allowed: exactly one/,
    ],
    [{ CASSANDRA_USERNAME: "detector" }, /allowed: one password source for the username, a secret ARN or setting cassandraPasswordFile/],
    [
      { CASSANDRA_USERNAME: "detector", CASSANDRA_PASSWORD_FILE: " /run/pw" },
      /setting cassandraPasswordFile \(env CASSANDRA_PASSWORD_FILE\): value " \/run\/pw" is not allowed/,
    ],
  ])("reject %j with a message naming the setting", (env, message) => {
    expect(() => parseDetectorConfig({ env })).toThrow(ConfigError);
    expect(() => parseDetectorConfig({ env })).toThrow(message);
  });

  it("read the Cassandra role with a password file (flag or environment)", () => {
    expect(parseDetectorConfig({ env: { CASSANDRA_USERNAME: "detector", CASSANDRA_PASSWORD_FILE: "/run/pw" } })).toMatchObject({
      cassandraUsername: "detector",
      cassandraPasswordFile: "/run/pw",
      cassandraPasswordSecretArn: "",
    });
    const fromFlag = parseDetectorConfig({
      env: { CASSANDRA_USERNAME: "detector" },
      flags: { cassandraPasswordFile: "/tmp/detector-password" },
    });
    expect(fromFlag.cassandraPasswordFile).toBe("/tmp/detector-password");
  });

  it("the load generator needs a region with MSK IAM auth too", () => {
    expect(() => parseLoadgenConfig({ env: { KAFKA_AUTH: "aws-iam" } })).toThrow(/awsRegion/);
    expect(parseLoadgenConfig({ env: { KAFKA_AUTH: "aws-iam", AWS_REGION: "us-east-1" } }).awsRegion).toBe("us-east-1");
  });
});

describe("Cassandra password from Secrets Manager (recorded responses)", () => {
  const server = new ReplayServer();
  const client = () => ({ endpoint: server.endpoint, credentials: testCredentials, maxAttempts: 1 });
  const config = { cassandraUsername: "detector", cassandraPasswordSecretArn: secretArn };
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  afterEach(() => {
    expect(server.unmatched).toEqual([]);
    server.reset();
  });

  it("reads the secret string once, in the secret's own region, and gives the driver a plain-text auth provider", async () => {
    server.add({ match: "GetSecretValue", ...jsonReply(secretsManager("GetSecretValue.plain.json")) });
    const credentials = await readCassandraCredentials(config, client());
    expect(credentials).toEqual({ username: "detector", password: "x7Kq2mNv9LpR4tWz8YbC1dFg6HjS3eUa" });
    expect(server.keys()).toEqual(["GetSecretValue"]);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ SecretId: secretArn });
    expect(String(server.requests[0]!.headers.authorization)).toContain("/us-east-1/secretsmanager/aws4_request");
    expect(authProviderOf(credentials)).toBeInstanceOf(cassandra.auth.PlainTextAuthProvider);
  });

  it("takes the password field of a JSON secret", async () => {
    server.add({ match: "GetSecretValue", ...jsonReply(secretsManager("GetSecretValue.json-object.json")) });
    expect(await readCassandraCredentials(config, client())).toEqual({ username: "detector", password: "Jq4Zt8Wn2Vx6Rb0Lm3Kp7Hs1" });
  });

  it("asks nothing without a username and secret (no authentication, as locally)", async () => {
    expect(await readCassandraCredentials({ cassandraUsername: "", cassandraPasswordSecretArn: "" }, client())).toBeNull();
    expect(server.requests).toEqual([]);
    expect(authProviderOf(null)).toBeUndefined();
  });

  it.each([
    ["GetSecretValue.not-found.json", /ResourceNotFoundException|can't find the specified secret/],
    ["GetSecretValue.access-denied.json", /not authorized to perform: secretsmanager:GetSecretValue/],
  ])("fails with AWS's message on %s", async (file, message) => {
    server.add({ match: "GetSecretValue", ...jsonReply(secretsManager(file), 400) });
    await expect(readCassandraCredentials(config, client())).rejects.toThrow(message);
  });

  it("parses secret shapes and ARNs", () => {
    expect(regionOfArn(secretArn)).toBe("us-east-1");
    expect(passwordOf("plain")).toBe("plain");
    expect(passwordOf('{"password":"p"}')).toBe("p");
    expect(() => passwordOf('{"user":"u"}')).toThrow(/without a password field/);
  });
});

describe("Cassandra password from a file (the local stack's --auth mode)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cassandra-password-"));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };

  it("reads the first line, asking Secrets Manager nothing", async () => {
    const path = file("detector-password", "s3cret-Pass_word\n");
    const credentials = await readCassandraCredentials({
      cassandraUsername: "detector",
      cassandraPasswordSecretArn: "",
      cassandraPasswordFile: path,
    });
    expect(credentials).toEqual({ username: "detector", password: "s3cret-Pass_word" });
    expect(authProviderOf(credentials)).toBeInstanceOf(cassandra.auth.PlainTextAuthProvider);
  });

  it("names the file when it is missing or empty", async () => {
    const missing = join(dir, "nope");
    await expect(passwordFromFile(missing)).rejects.toThrow(`cannot read the Cassandra password file ${missing}: ENOENT`);
    const empty = file("empty", "\n");
    await expect(passwordFromFile(empty)).rejects.toThrow(`the Cassandra password file ${empty} is empty`);
  });

  it("refuses two password sources or none for a username", async () => {
    const path = file("pw", "password-123456\n");
    const both = { cassandraUsername: "detector", cassandraPasswordSecretArn: secretArn, cassandraPasswordFile: path };
    await expect(readCassandraCredentials(both)).rejects.toThrow(/exactly one of a password secret ARN and a password file/);
    const none = { cassandraUsername: "detector", cassandraPasswordSecretArn: "", cassandraPasswordFile: "" };
    await expect(readCassandraCredentials(none)).rejects.toThrow(/exactly one/);
  });
});

describe("MSK IAM auth token (AWS's signer, static credentials)", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.useRealTimers();
  });

  it("is a signed kafka-cluster:Connect request for the region, shared between connections until it nears expiry", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", testCredentials.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", testCredentials.secretAccessKey);
    vi.stubEnv("AWS_SESSION_TOKEN", "");
    vi.stubEnv("AWS_PROFILE", "");
    const provide = mskIamTokenProvider("eu-west-1");
    const [a, b] = await Promise.all([provide(), provide()]);
    expect(a.value).toBe(b.value);
    const url = new URL(Buffer.from(a.value, "base64url").toString("utf8"));
    expect(url.searchParams.get("Action")).toBe("kafka-cluster:Connect");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(
      new RegExp(`^${testCredentials.accessKeyId}/\\d{8}/eu-west-1/kafka-cluster/aws4_request$`),
    );
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect((await provide()).value).toBe(a.value);
  });

  it("signs again shortly before expiry, and after a failed signing", async () => {
    let n = 0;
    const generate = (): Promise<{ token: string; expiryTime: number }> => {
      n++;
      if (n === 2) return Promise.reject(new Error("credentials not available yet"));
      return Promise.resolve({ token: `t${n}`, expiryTime: Date.now() + 15 * 60_000 });
    };
    vi.useFakeTimers({ toFake: ["Date"] });
    const provide = mskIamTokenProvider("us-east-1", generate);
    expect((await provide()).value).toBe("t1");
    vi.setSystemTime(Date.now() + 15 * 60_000 - tokenRefreshMarginMs - 1_000);
    expect((await provide()).value).toBe("t1");
    vi.setSystemTime(Date.now() + 2_000);
    await expect(provide()).rejects.toThrow(/not available/);
    expect((await provide()).value).toBe("t3");
  });
});
