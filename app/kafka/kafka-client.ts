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
import { errorText, type Logger } from "../log.ts";
import { waitFor } from "../retry.ts";

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

/**
 * Every Kafka client's retries, and every consumer's (kafkajs gives consumers 5 unless told). A crashed broker is
 * fenced, and its partitions' leaders and its groups' coordinators move, only after the brokers' session timeout
 * (9 s by default, on MSK as locally); until then every request that touches it fails at once. kafkajs's
 * defaults ran out first (about 3 s for a consumer) or backed off to 13 s between the last tries (8 retries from
 * 100 ms, doubling): the consumer then restarted as a new group member, late, and the group waited a session
 * timeout for the old one. These keep trying for about 35 s, at most 2 s apart, so work resumes within 2 s of the
 * leaders and the coordinator moving.
 */
export const kafkaRetry = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 20 } as const;

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
    retry: kafkaRetry,
  });
}

// kafkajs is CommonJS and its error classes are not visible as named ESM exports.
const { ConfigResourceTypes, KafkaJSError, KafkaJSNumberOfRetriesExceeded } = kafkajs;

/** Kafka errors worth retrying: connection trouble, leader moves, timeouts (kafkajs already retried a few). */
export function isTransientKafkaError(err: unknown): boolean {
  if (err instanceof KafkaJSNumberOfRetriesExceeded) return true;
  return err instanceof KafkaJSError && err.retriable;
}

/** A topic ensureTopics makes sure of: its name and the topic configs it must carry (app/topology.ts). */
export interface TopicSpec {
  readonly name: string;
  readonly configEntries?: Readonly<Record<string, string>>;
}

/** What ensureTopics did, and the partition counts it read back from the brokers afterwards. */
export interface EnsureTopicsOutcome {
  readonly created: string[];
  readonly grown: { readonly topic: string; readonly from: number; readonly to: number }[];
  /** Topics that already had more partitions than asked: Kafka cannot remove partitions, so they keep theirs. */
  readonly larger: { readonly topic: string; readonly partitions: number; readonly asked: number }[];
  /** Topics whose configs were (re)applied with AlterConfigs. */
  readonly configured: string[];
  /** topic → partitions, read back from the brokers' metadata after the changes. */
  readonly partitions: Readonly<Record<string, number>>;
}

/** How long ensureTopics waits for new partitions' leaders to serve them. */
const leaderWaitMs = 15_000;

/**
 * Returns once every partition of `topics` has a leader that answers for it (a ListOffsets to each leader
 * succeeds), or throws at the bound. Metadata names a new partition's leader a moment before that broker
 * serves it; a produce request that meets NOT_LEADER on one of its partitions is retried whole by kafkajs,
 * so the partitions that took the first attempt were written twice (a test run counted 73 checks for 58
 * events). Waiting here, where topics are made and grown, keeps a first send from meeting that window.
 */
export async function waitForServingLeaders(admin: Admin, topics: readonly string[], partitions: number): Promise<void> {
  for (const topic of topics) {
    let why = "";
    await waitFor(
      async () => {
        try {
          const served = (await admin.fetchTopicOffsets(topic)).length;
          why = `${served} of ${partitions} partitions answered`;
          return served >= partitions;
        } catch (err) {
          why = errorText(err);
          return false;
        }
      },
      { what: `the partition leaders of topic ${topic} to serve it`, timeoutMs: leaderWaitMs, intervalMs: 200, detail: () => why },
    );
  }
}

const isAlreadyDone = (err: unknown, pattern: RegExp) =>
  err instanceof Error && pattern.test(JSON.stringify(err, Object.getOwnPropertyNames(err)));

/**
 * Makes the topics match the plan: creates the missing ones with `partitions` and their configs, grows existing
 * ones that have fewer partitions (CreatePartitions), and re-applies the configs of existing ones (AlterConfigs),
 * so a stack grown in place gets the new stage's partitions and a topic made by an older version gets today's
 * settings. Never shrinks: Kafka cannot remove partitions, so a topic with more keeps them and is reported in
 * `larger` (the consumers of a smaller stage still read every partition; only fewer in parallel).
 *
 * Growing changes which partition a key hashes to: events of a key produced before and after the resize may
 * sit in different partitions, so their order across the resize is not kept (it is within each side).
 * AlterConfigs (kafkajs has no incremental form) replaces the topic's dynamic configs with the given set: a
 * setting removed from topology.ts goes back to the broker default on the next run. Topics without config
 * entries are not altered.
 */
export async function ensureTopics(
  admin: Admin,
  topicsToEnsure: readonly (string | TopicSpec)[],
  partitions: number,
  replicationFactor: number,
): Promise<EnsureTopicsOutcome> {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`partitions ${partitions}: allowed: an integer >= 1`);
  const specs = topicsToEnsure.map((t): TopicSpec => (typeof t === "string" ? { name: t } : t));
  const entriesOf = (s: TopicSpec) => Object.entries(s.configEntries ?? {}).map(([name, value]) => ({ name, value }));
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({ topic: s.name, numPartitions: partitions, replicationFactor, configEntries: entriesOf(s) })),
      });
    } catch (err) {
      // Another process created it between our list and our create: that is the idempotent outcome we want.
      if (!isAlreadyDone(err, /already exists/i)) throw err;
    }
  }
  const present = specs.filter((s) => existing.has(s.name));
  const metadataOf = async (names: readonly string[]) =>
    names.length === 0 ? [] : (await admin.fetchTopicMetadata({ topics: [...names] })).topics;
  const countsOf = async (names: readonly string[]) => new Map((await metadataOf(names)).map((t) => [t.name, t.partitions.length]));
  const before = await countsOf(present.map((s) => s.name));
  const grown: EnsureTopicsOutcome["grown"] = [];
  const larger: EnsureTopicsOutcome["larger"] = [];
  const toGrow: string[] = [];
  for (const s of present) {
    const n = before.get(s.name) ?? 0;
    if (n < partitions) {
      toGrow.push(s.name);
      grown.push({ topic: s.name, from: n, to: partitions });
    } else if (n > partitions) larger.push({ topic: s.name, partitions: n, asked: partitions });
  }
  if (toGrow.length > 0) {
    try {
      await admin.createPartitions({ topicPartitions: toGrow.map((topic) => ({ topic, count: partitions })) });
    } catch (err) {
      // Another process (a second load generator, the schema Job) grew it first: fine if it reached the count.
      if (!isAlreadyDone(err, /INVALID_PARTITIONS|already has|higher than|currently has/i)) throw err;
    }
  }
  const withConfigs = present.filter((s) => entriesOf(s).length > 0);
  if (withConfigs.length > 0) {
    await admin.alterConfigs({
      validateOnly: false,
      resources: withConfigs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name, configEntries: entriesOf(s) })),
    });
  }
  await waitForServingLeaders(admin, [...missing.map((s) => s.name), ...toGrow], partitions);
  const after = await countsOf(specs.map((s) => s.name));
  const short = specs.filter((s) => (after.get(s.name) ?? 0) < partitions);
  if (short.length > 0) {
    throw new Error(
      `topics below ${partitions} partitions after ensureTopics: ${short.map((s) => `${s.name} has ${after.get(s.name) ?? 0}`).join(", ")}`,
    );
  }
  return {
    created: missing.map((s) => s.name),
    grown,
    larger,
    configured: withConfigs.map((s) => s.name),
    partitions: Object.fromEntries(specs.map((s) => [s.name, after.get(s.name) ?? 0])),
  };
}
