/** Node placement and first-boot script of the Cassandra nodes: pure functions, no synth. */
import { describe, expect, it } from "vitest";
import { cassandraNodePlacements } from "../../cdk/cassandra-nodes.ts";
import { cassandraUserData, type CassandraUserDataOptions } from "../../cdk/cassandra-user-data.ts";

const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
const cidrs = ["10.40.1.0/24", "10.40.2.0/24", "10.40.3.0/24"];

describe("Cassandra node placement", () => {
  it("puts node i in zone i mod 3 at .10 + floor(i/3), seeds first of each zone, joins in index order", () => {
    const nodes = cassandraNodePlacements(48, zones, cidrs);
    expect(nodes.slice(0, 4).map((n) => [n.logicalId, n.availabilityZone, n.privateIp, n.isSeed, n.joinsAfter])).toEqual([
      ["CassandraNode01", "us-east-1a", "10.40.1.10", true, undefined],
      ["CassandraNode02", "us-east-1b", "10.40.2.10", true, undefined],
      ["CassandraNode03", "us-east-1c", "10.40.3.10", true, undefined],
      ["CassandraNode04", "us-east-1a", "10.40.1.11", false, "10.40.3.10"],
    ]);
    expect(nodes[47]).toMatchObject({ logicalId: "CassandraNode48", availabilityZone: "us-east-1c", privateIp: "10.40.3.25" });
  });

  it("places the first N nodes the same whatever the cluster size", () => {
    expect(cassandraNodePlacements(48, zones, cidrs).slice(0, 12)).toEqual(cassandraNodePlacements(12, zones, cidrs));
  });
});

describe("Cassandra first-boot script", () => {
  const options = (index: number): CassandraUserDataOptions => {
    const nodes = cassandraNodePlacements(6, zones, cidrs);
    return {
      node: nodes[index]!,
      seeds: nodes.filter((n) => n.isSeed).map((n) => n.privateIp),
      clusterName: "anomaly-cassandra",
      region: "us-east-1",
      vcpus: 8,
      memoryGiB: 61,
      datacenter: "us-east-1",
      replicationFactor: 3,
      adminSecretArn: "arn:admin",
      detectorSecretArn: "arn:detector",
    };
  };

  it("finds instance-store disks by model, RAID0s several, XFS noatime mounted by UUID", () => {
    const script = cassandraUserData(options(3));
    expect(script).toContain("Amazon EC2 NVMe Instance Storage");
    expect(script).toContain("mdadm --create /dev/md0 --level=0");
    expect(script).toContain("mkfs.xfs");
    expect(script).toMatch(/UUID=\$uuid \/var\/lib\/cassandra xfs noatime/);
    expect(script).toContain("RequiresMountsFor=/var/lib/cassandra");
  });

  it("writes the shared config with the fixed seeds and waits for the previous node before starting", () => {
    const script = cassandraUserData(options(3));
    expect(script).toContain("seeds: 10.40.1.10:7000,10.40.2.10:7000,10.40.3.10:7000");
    expect(script).toContain("endpoint_snitch: Ec2Snitch");
    expect(script).toContain("listen_address: 10.40.1.11");
    expect(script).toMatch(/wait_for_cql 10\.40\.3\.10 "the previous node"\nsystemctl start cassandra/);
    expect(script).not.toContain("consistent.rangemovement=false");
    expect(script).toContain("jmx_prometheus_javaagent.jar=9500:");
  });

  it("starts seeds at once and sets up authentication on node 0 only", () => {
    expect(cassandraUserData(options(1))).not.toContain("the previous node\"\n");
    expect(cassandraUserData(options(1))).not.toContain("CREATE ROLE");
    const first = cassandraUserData(options(0));
    // The shared set-up script (cdk/servers/cassandra-auth-setup.sh, tested against a real node in
    // test/stack/cassandra-auth.int.test.ts), with the detector role and system_auth's replication as settings.
    expect(first).toContain("CREATE ROLE IF NOT EXISTS $detector");
    expect(first).toContain("CASSANDRA_AUTH_DETECTOR_ROLE='detector'");
    expect(first).toContain("CASSANDRA_AUTH_DATACENTER='us-east-1' \\\n  CASSANDRA_AUTH_REPLICATION_FACTOR='3'");
    expect(first).toContain("ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false");
  });

  it("stays under EC2's 16 KB user-data limit with the longest values a deploy can put in it", () => {
    // The template holds tokens; at deploy they become real ARNs (CloudFormation-generated secret names run to
    // ~100 characters) and the region's name, so measure with generous stand-ins, not the short test values.
    const arn = (name: string) => `arn:aws-us-gov:secretsmanager:ap-southeast-5:123456789012:secret:${name.padEnd(110, "x")}-AbCdEf`;
    const longest = { ...options(0), region: "ap-southeast-5", datacenter: "ap-southeast-5", adminSecretArn: arn("admin"), detectorSecretArn: arn("detector") };
    expect(Buffer.byteLength(cassandraUserData(longest))).toBeLessThan(16_384);
  });
});
