/**
 * The kafkajs client, its authentication, and the topics the app needs (created idempotently: the brokers
 * auto-create nothing).
 *
 * Authentication: none against the local broker; against Amazon MSK, TLS plus SASL/OAUTHBEARER with a token
 * that AWS's signer library makes from the default credential chain (EKS Pod Identity in the cluster) — MSK's
 * IAM access control, port 9098.
 */
import signer from "aws-msk-iam-sasl-signer-js";
import kafkajs, { Kafka, logLevel, type Admin, type KafkaConfig, type LogEntry, type OauthbearerProviderResponse } from "kafkajs";
import type { DetectorConfig } from "../config.ts";
import type { Logger } from "../log.ts";

/** The settings that choose the authentication (shared by the detector and the load generator). */
export type KafkaAuth = Pick<DetectorConfig, "kafkaAuth" | "awsRegion">;

const noAuth: KafkaAuth = { kafkaAuth: "none", awsRegion: "" };

/** A token is reused until this long before it expires (MSK's tokens live 15 minutes). */
export const tokenRefreshMarginMs = 60_000;

/**
 * kafkajs's `oauthBearerProvider` for MSK IAM auth. kafkajs asks on every broker connection (and
 * re-authentication); the signed token is shared until shortly before it expires, and concurrent asks share
 * one signing. A failed signing is not cached: the next connection attempt tries again.
 */
export function mskIamTokenProvider(
  region: string,
  generate: typeof signer.generateAuthToken = signer.generateAuthToken,
): () => Promise<OauthbearerProviderResponse> {
  let pending: Promise<{ token: string; expiryTime: number }> | null = null;
  let refreshAt = 0;
  return async () => {
    if (pending === null || Date.now() >= refreshAt) {
      const signing = generate({ region });
      pending = signing;
      refreshAt = Infinity; // shared while it is being signed
      signing.then(
        (t) => {
          if (pending === signing) refreshAt = t.expiryTime - tokenRefreshMarginMs;
        },
        () => {
          if (pending === signing) pending = null;
        },
      );
    }
    return { value: (await pending).token };
  };
}

/** The kafkajs options of an authentication kind. */
export function authOptions(auth: KafkaAuth): Pick<KafkaConfig, "ssl" | "sasl"> {
  switch (auth.kafkaAuth) {
    case "none":
      return {};
    case "aws-iam":
      if (auth.awsRegion === "") throw new Error("Kafka auth aws-iam needs an AWS region");
      return { ssl: true, sasl: { mechanism: "oauthbearer", oauthBearerProvider: mskIamTokenProvider(auth.awsRegion) } };
  }
}

export function createKafka(clientId: string, brokers: readonly string[], log: Logger, auth: KafkaAuth = noAuth): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    ...authOptions(auth),
    logLevel: logLevel.WARN,
    // kafkajs's own log lines, as ours (one JSON line each)
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        (level <= logLevel.ERROR ? log.error : log.warn)(`kafkajs: ${message}`, fields);
      },
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

// kafkajs is CommonJS and its error classes are not visible as named ESM exports.
const { KafkaJSError, KafkaJSNumberOfRetriesExceeded } = kafkajs;

/** Kafka errors worth retrying: connection trouble, leader moves, timeouts (kafkajs already retried a few). */
export function isTransientKafkaError(err: unknown): boolean {
  if (err instanceof KafkaJSNumberOfRetriesExceeded) return true;
  return err instanceof KafkaJSError && err.retriable;
}

/** Creates the topics that do not exist yet; existing ones are left as they are (their partitions too). */
export async function ensureTopics(
  admin: Admin,
  names: readonly string[],
  partitions: number,
  replicationFactor: number,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    });
  } catch (err) {
    // Another process created it between our list and our create: that is the idempotent outcome we want.
    if (!(err instanceof Error && /already exists/i.test(JSON.stringify(err, Object.getOwnPropertyNames(err))))) throw err;
  }
  return missing;
}
