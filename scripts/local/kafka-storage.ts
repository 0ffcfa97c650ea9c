/**
 * Formatting a KRaft broker's storage, shared by the single-broker stack and the local cluster.
 *
 * A cluster id is 16 random bytes in URL-safe base64, and one in 64 of those starts with "-": the storage
 * tool's argument parser then reads it as an option and refuses the command. Kafka's own Uuid.randomUuid()
 * draws again in that case, and so does newKafkaClusterId; the id is also passed as --cluster-id=ID, so an
 * id written by an older checkout still formats.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/** A fresh KRaft cluster id that no command-line parser mistakes for an option. */
export function newKafkaClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/** The storage tool's arguments (after the JVM's) that format one broker's data dir named in `config`. */
export const formatStorageArgs = (clusterId: string, config: string): string[] => [
  "kafka.tools.StorageTool",
  "format",
  `--cluster-id=${clusterId}`,
  `--config=${config}`,
];

/** Formats one broker's storage; returns null on success, else what the tool printed. */
export function formatKafkaStorage(opts: { jvm: readonly string[]; classpath: string; config: string; clusterId: string }): string | null {
  const format = spawnSync("java", [...opts.jvm, "-cp", opts.classpath, ...formatStorageArgs(opts.clusterId, opts.config)], {
    encoding: "utf8",
  });
  return format.status === 0 ? null : `${format.stdout}${format.stderr}`;
}
