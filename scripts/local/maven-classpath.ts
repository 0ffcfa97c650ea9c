/**
 * The servers' jars, resolved from Maven Central by scripts/local/pom.xml at the versions cdk/ pins (the
 * ones the cloud deploys). Each profile's classpath is resolved once per state root and cached as a file.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jmxExporterVersion } from "../../cdk/servers/cassandra-exporter.ts";
import { cassandraVersion, kafkaVersion } from "../../cdk/versions.ts";
import { projectRoot, stateRoot } from "./locations.ts";
import { StackError, stackLog as log } from "./stack-messages.ts";

const pomFile = join(projectRoot, "scripts", "local", "pom.xml");

/**
 * The classpath of one profile of scripts/local/pom.xml, resolved once (Maven takes ~20 s even from
 * ~/.m2) into a cache shared by every node of this state root, a test's second Cassandra included.
 */
function mavenClasspath(profile: "kafka" | "cassandra" | "jmx-exporter", version: string, label: string): string {
  const cache = join(stateRoot, "classpath");
  mkdirSync(cache, { recursive: true });
  const file = join(cache, `${profile}-${version}.txt`);
  if (!existsSync(file)) {
    log(`resolving ${label} from Maven Central (cached in ~/.m2 after the first time)…`);
    const started = Date.now();
    const mvn = spawnSync(
      "mvn",
      ["-q", "-B", "-f", pomFile, `-P${profile}`, `-D${profile}.version=${version}`, `-Dclasspath.file=${file}`, "generate-resources"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    if (mvn.status !== 0 || !existsSync(file)) {
      throw new StackError(`could not resolve ${label} with Maven:\n${mvn.stdout}${mvn.stderr}`.trimEnd());
    }
    log(`resolved ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return readFileSync(file, "utf8").trim();
}

/** Kafka's jars (clients and compression codecs included): the broker's, and for tests that run Kafka's own Java clients. */
export const kafkaClasspath = (): string => mavenClasspath("kafka", kafkaVersion, `Kafka ${kafkaVersion}`);

/** Cassandra's jars: the node's, and nodetool's. */
export const cassandraClasspath = (): string => mavenClasspath("cassandra", cassandraVersion, `Cassandra ${cassandraVersion}`);

/** The JMX exporter agent jar, the same version (and so the same pinned bytes) as the cloud nodes run. */
export const jmxExporterJar = (): string => mavenClasspath("jmx-exporter", jmxExporterVersion, `JMX exporter ${jmxExporterVersion}`);
