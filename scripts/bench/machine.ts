/** What a benchmark result was measured on: the machine, the toolchain and the code revision. */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { cassandraVersion, kafkaVersion } from "../../cdk/versions.ts";
import { projectRoot } from "../local/locations.ts";

export function machineFacts() {
  let revision = "unknown";
  try {
    revision = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: projectRoot, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kafka: kafkaVersion,
    cassandra: cassandraVersion,
    revision,
  };
}
