/**
 * KRaft storage formatting with Kafka's real storage tool. One random cluster id in 64 starts with "-", which
 * the tool's parser once read as an option and refused, stopping the whole test command at its set-up.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localBrokerProperties } from "../../../cdk/servers/kafka-config.ts";
import { formatKafkaStorage, newKafkaClusterId } from "../../../scripts/local/kafka-storage.ts";
import { kafkaClasspath } from "../../../scripts/local/maven-classpath.ts";
import { localHost } from "../../../scripts/local/locations.ts";

/** A random source whose draws are the given fill bytes, one per call, in order. */
const drawsOf = (...fills: number[]) => {
  let calls = 0;
  return (size: number) => Buffer.alloc(size, fills[Math.min(calls++, fills.length - 1)]);
};

describe("newKafkaClusterId", () => {
  it("draws again when the id would start with '-', and keeps the first id that does not", () => {
    // 0xf8 encodes to a leading "-" in URL-safe base64; 0x01 to a leading "A".
    const id = newKafkaClusterId(drawsOf(0xf8, 0xf8, 0x01));
    expect(id).toBe(Buffer.alloc(16, 0x01).toString("base64url"));
    expect(id).toHaveLength(22);
  });

  it("never returns an id starting with '-' over many draws", () => {
    const ids = Array.from({ length: 2_000 }, () => newKafkaClusterId());
    expect(ids.filter((id) => id.startsWith("-"))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("formatKafkaStorage", () => {
  it("formats a broker's storage with an id that starts with '-' (as an older checkout may have written)", () => {
    const dir = mkdtempSync(join(tmpdir(), "kafka-storage-"));
    const config = join(dir, "server.properties");
    writeFileSync(config, localBrokerProperties({ logDir: join(dir, "data"), host: localHost }));
    const dashId = Buffer.alloc(16, 0xf8).toString("base64url");
    expect(dashId.startsWith("-")).toBe(true);

    expect(formatKafkaStorage({ jvm: [], classpath: kafkaClasspath(), config, clusterId: dashId })).toBeNull();
    expect(readFileSync(join(dir, "data", "meta.properties"), "utf8")).toContain(`cluster.id=${dashId}\n`);
  });

  it("returns what the tool printed when it refuses", () => {
    const dir = mkdtempSync(join(tmpdir(), "kafka-storage-"));
    const failure = formatKafkaStorage({
      jvm: [],
      classpath: kafkaClasspath(),
      config: join(dir, "absent.properties"),
      clusterId: newKafkaClusterId(),
    });
    expect(failure).toMatch(/absent\.properties/);
  });
});
