/**
 * The tools the local servers need and the project cannot install itself: a JDK recent enough for both
 * servers, and Maven, which fetches them. Checked before a start, so a missing one is named with its fix.
 */
import { spawnSync } from "node:child_process";
import { cassandraVersion, kafkaVersion, minimumJavaVersion } from "../../cdk/versions.ts";
import { StackError } from "./stack-messages.ts";

/** Parses the feature release from `java -version` ("1.8.0_x" → 8, "17.0.15" → 17). */
export function javaMajorVersion(versionOutput: string): number | null {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return null;
  const first = Number(m[1]);
  return first === 1 ? Number(m[2]) : first;
}

export function checkJavaAndMaven(): void {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (java.error) {
    throw new StackError(`java not found: install a JDK ${minimumJavaVersion} or newer (Debian: apt-get install openjdk-17-jdk-headless)`);
  }
  const major = javaMajorVersion(`${java.stderr}${java.stdout}`);
  if (major === null || major < minimumJavaVersion) {
    throw new StackError(
      `java ${major ?? "of unknown version"} is too old: Kafka ${kafkaVersion} and Cassandra ${cassandraVersion} need Java ${minimumJavaVersion}+; install openjdk-17-jdk-headless and put it first on PATH`,
    );
  }
  if (spawnSync("mvn", ["-v"], { encoding: "utf8" }).error) {
    throw new StackError(
      "mvn not found: install Apache Maven 3.8+ (Debian: apt-get install maven); it fetches the servers from Maven Central",
    );
  }
}
