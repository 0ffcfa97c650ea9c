/**
 * Cassandra password authentication: the role name comes from the configuration, its password from AWS
 * Secrets Manager in the cloud (read once at start with the pod's credentials, EKS Pod Identity) or from a
 * file with the local stack's authenticated mode (`npm run stack -- start --auth` writes it). Without a
 * username the driver connects without authentication, as to the shared local node.
 */
import { readFile } from "node:fs/promises";
import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";
import cassandra from "cassandra-driver";
import type { DetectorConfig } from "../config.ts";
import { readCassandraTlsCa, sslOptionsOf, type CassandraTlsConfig } from "./cassandra-tls.ts";

export type CassandraAuthConfig = Pick<DetectorConfig, "cassandraUsername" | "cassandraPasswordSecretArn"> &
  Partial<Pick<DetectorConfig, "cassandraPasswordFile">> &
  Partial<CassandraTlsConfig>;

/** The role and password to log in with, and the CA to trust when the cluster requires TLS; null: neither. */
export interface CassandraCredentials {
  readonly username: string;
  readonly password: string;
  /** PEM CA certificate (app/detector/cassandra-tls.ts); absent: plaintext. */
  readonly tlsCa?: string;
}

/** The region part of a Secrets Manager ARN (arn:aws:secretsmanager:REGION:account:secret:name). */
export const regionOfArn = (arn: string): string => arn.split(":")[3] ?? "";

/**
 * The secret's password: the secret string itself (what the CDK stack's generated secret holds), or the
 * `password` field when the secret is a JSON object (the shape Secrets Manager's console uses for databases).
 */
export function passwordOf(secretString: string): string {
  const text = secretString.trim();
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return secretString;
    }
    const password = (parsed as { password?: unknown }).password;
    if (typeof password !== "string" || password === "") throw new Error("the secret is a JSON object without a password field");
    return password;
  }
  return secretString;
}

/**
 * Reads the password once. `client` overrides the Secrets Manager client's settings (a test's endpoint and
 * credentials); by default the region is the secret's own and the credentials come from the default chain.
 */
export async function readCassandraCredentials(
  c: CassandraAuthConfig,
  client: SecretsManagerClientConfig = {},
): Promise<CassandraCredentials | null> {
  const file = c.cassandraPasswordFile ?? "";
  const arn = c.cassandraPasswordSecretArn;
  if (c.cassandraUsername === "" && arn === "" && file === "") return null;
  if (c.cassandraUsername === "" || (arn === "") === (file === "")) {
    throw new Error("Cassandra authentication needs a username and exactly one of a password secret ARN and a password file");
  }
  const tls = {
    cassandraTlsCaSecretArn: c.cassandraTlsCaSecretArn ?? "",
    cassandraTlsCaFile: c.cassandraTlsCaFile ?? "",
    schemaWaitSeconds: c.schemaWaitSeconds,
  };
  const ca = await readCassandraTlsCa(tls, client);
  const withTls = <T extends CassandraCredentials>(credentials: T): T => (ca === null ? credentials : { ...credentials, tlsCa: ca });
  if (file !== "") return withTls({ username: c.cassandraUsername, password: await passwordFromFile(file) });
  const secrets = new SecretsManagerClient({ region: regionOfArn(c.cassandraPasswordSecretArn), ...client });
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: c.cassandraPasswordSecretArn }));
    if (out.SecretString === undefined || out.SecretString === "") {
      throw new Error(`secret ${c.cassandraPasswordSecretArn} has no string value`);
    }
    return withTls({ username: c.cassandraUsername, password: passwordOf(out.SecretString) });
  } finally {
    secrets.destroy();
  }
}

/** The first line of a password file (what `stack start --auth` and the cloud's set-up script write). */
export async function passwordFromFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read the Cassandra password file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const password = text.split(/\r?\n/, 1)[0] ?? "";
  if (password === "") throw new Error(`the Cassandra password file ${path} is empty (the password is its first line)`);
  return password;
}

/** The driver's TLS options for these credentials: `{ sslOptions }` when they carry a CA, else nothing. */
export const sslOptionsFor = (credentials: CassandraCredentials | null): { sslOptions?: ReturnType<typeof sslOptionsOf> } =>
  credentials?.tlsCa === undefined ? {} : { sslOptions: sslOptionsOf(credentials.tlsCa) };

/** The driver's auth provider for these credentials (none without). */
export const authProviderOf = (credentials: CassandraCredentials | null): cassandra.auth.AuthProvider | undefined =>
  credentials === null ? undefined : new cassandra.auth.PlainTextAuthProvider(credentials.username, credentials.password);
