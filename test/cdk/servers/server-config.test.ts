import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { cassandraHeapMiB, cassandraJvmOptions, cassandraYaml } from "../../../cdk/servers/cassandra-config.ts";
import { localBrokerProperties, mskServerProperties, sharedBrokerProperties } from "../../../cdk/servers/kafka-config.ts";
import { cassandraPorts, kafkaPorts } from "../../../cdk/servers/ports.ts";
import { javaMajorVersion } from "../../../scripts/local/java-tools.ts";

const propertiesOf = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  );

describe("cassandra.yaml", () => {
  const node = {
    clusterName: "c1",
    address: "10.0.1.5",
    seeds: ["10.0.1.5", "10.0.2.5"],
    dataRoot: "/mnt/nvme/cassandra",
    snitch: "Ec2Snitch" as const,
    cores: 8,
    authentication: true,
  };
  const yaml = parse(cassandraYaml(node)) as Record<string, unknown>;

  it("puts every directory on the data root and listens on the node's address and our ports", () => {
    expect(yaml.data_file_directories).toEqual(["/mnt/nvme/cassandra/data"]);
    expect(yaml.commitlog_directory).toBe("/mnt/nvme/cassandra/commitlog");
    expect(yaml.listen_address).toBe("10.0.1.5");
    expect(yaml.native_transport_port).toBe(cassandraPorts.cql);
    expect(yaml.storage_port).toBe(cassandraPorts.storage);
  });

  it("lists the seeds with the storage port for the seed provider", () => {
    expect(JSON.stringify(yaml.seed_provider)).toContain(`10.0.1.5:${cassandraPorts.storage},10.0.2.5:${cassandraPorts.storage}`);
  });

  it("turns authentication on only when asked", () => {
    expect(yaml.authenticator).toBe("PasswordAuthenticator");
    const open = parse(cassandraYaml({ ...node, authentication: false })) as Record<string, unknown>;
    expect(open.authenticator).toBe("AllowAllAuthenticator");
  });

  it("sizes the heap to a quarter of memory, below the compressed-oops limit", () => {
    expect(cassandraHeapMiB(61)).toBe(15616);
    expect(cassandraHeapMiB(488)).toBe(30 * 1024);
  });

  it("skips the gossip settle wait only for a single node", () => {
    const base = {
      heapMiB: 1024,
      jammJar: "/j.jar",
      configFile: "/c.yaml",
      logbackFile: "/l.xml",
      logDir: "/logs",
      jmxLocalPort: cassandraPorts.jmx,
    };
    expect(cassandraJvmOptions({ ...base, singleNode: true })).toContain("-Dcassandra.skip_wait_for_gossip_to_settle=0");
    expect(cassandraJvmOptions({ ...base, singleNode: false }).join(" ")).not.toContain("gossip");
  });
});

describe("Kafka broker properties", () => {
  it("MSK gets the shared settings plus replication from the plan", () => {
    const props = propertiesOf(mskServerProperties({ replicationFactor: 3, minInsyncReplicas: 2 }));
    expect(props["auto.create.topics.enable"]).toBe("false");
    expect(props["default.replication.factor"]).toBe("3");
    expect(props["min.insync.replicas"]).toBe("2");
    expect(props["num.replica.fetchers"]).toBe(String(sharedBrokerProperties["num.replica.fetchers"]));
  });

  it("the local broker listens on loopback ports from the ports module, with replication 1", () => {
    const props = propertiesOf(localBrokerProperties({ logDir: "/tmp/k", host: "127.0.0.1" }));
    expect(props.listeners).toBe(`PLAINTEXT://127.0.0.1:${kafkaPorts.localClient},CONTROLLER://127.0.0.1:${kafkaPorts.localController}`);
    expect(props["auto.create.topics.enable"]).toBe("false");
    expect(props["offsets.topic.replication.factor"]).toBe("1");
  });
});

describe("javaMajorVersion", () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['java version "1.8.0_402"', 8],
    ['openjdk version "11.0.22" 2024-01-16', 11],
    ['openjdk version "21" 2023-09-19', 21],
  ])("%s → %i", (output, major) => expect(javaMajorVersion(output)).toBe(major));

  it("returns null when the output is not a version", () => expect(javaMajorVersion("command not found")).toBeNull());
});
