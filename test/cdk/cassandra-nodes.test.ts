/** Node placement and first-boot script of the Cassandra nodes: pure functions, no synth. */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { cassandraNodePlacements } from "../../cdk/cassandra-nodes.ts";
import { cassandraUserData, compressedUserData, type CassandraUserDataOptions } from "../../cdk/cassandra-user-data.ts";
import { cassandraTlsScript } from "../../cdk/servers/cassandra-tls.ts";

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
    expect(cassandraUserData(options(1))).not.toContain('the previous node"\n');
    expect(cassandraUserData(options(1))).not.toContain("CREATE ROLE");
    const first = cassandraUserData(options(0));
    // The shared set-up script (cdk/servers/cassandra-auth-setup.sh, tested against a real node in
    // test/scripts/local/cassandra-auth.int.test.ts), with the detector role and system_auth's replication as settings.
    expect(first).toContain("CREATE ROLE IF NOT EXISTS $detector");
    expect(first).toContain("CASSANDRA_AUTH_DETECTOR_ROLE='detector'");
    expect(first).toContain("CASSANDRA_AUTH_DATACENTER='us-east-1' \\\n  CASSANDRA_AUTH_REPLICATION_FACTOR='3'");
    expect(first).toContain("ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false");
  });

  it("stays under EC2's 16 KB user-data limit once gzip-compressed, and inflates to the script", () => {
    // EC2 counts the raw bytes before base64. The text holds no deploy-time value (the secrets' ARNs come from
    // instance tags), so what is measured here is exactly what every deploy sends, whatever the region's name.
    const longest = { ...options(0), region: "ap-southeast-5", datacenter: "ap-southeast-5", clusterName: `${"e".repeat(40)}-cassandra` };
    const script = cassandraUserData(longest);
    const gzipped = Buffer.from(compressedUserData(script), "base64");
    expect(gzipped.length).toBeLessThan(16_384);
    expect(gunzipSync(gzipped).toString("utf8")).toBe(script);
    // The same text always gives the same bytes: a resynth does not change (and so restart) a running node.
    expect(compressedUserData(script)).toBe(compressedUserData(cassandraUserData(longest)));
  });

  it("compresses a fixed text to the bytes recorded here: a compressor that changed would restart every node", () => {
    // A changed UserData stops and starts an instance (its NVMe data is lost). The text's changes are ours to
    // see in a diff; a compressor's are not, so a fixed sample's bytes are pinned: if this fails after an
    // upgrade, the next deploy would replace every node's user data with no change to the script.
    const sample = `#!/bin/bash\n${Array.from({ length: 200 }, (_, i) => `echo line ${i} of the fixed sample`).join("\n")}\n`;
    const digest = createHash("sha256").update(compressedUserData(sample)).digest("hex");
    expect(digest).toBe("a06c79618f40dc026c380fdcf88233abd7c0b8962c4ad7c746553e39d51febef");
  });

  it("refuses to compress a script that still holds a deploy-time token", () => {
    expect(() => compressedUserData("echo ${Token[TOKEN.123]}")).toThrow(/deploy-time token/);
  });

  it("requires TLS on both ports with the node's own PEM key and the CA, made by the shared script", () => {
    for (const index of [0, 1, 3]) {
      const script = cassandraUserData(options(index));
      expect(script).toContain(cassandraTlsScript());
      expect(script).toMatch(/^server_encryption_options:\n {2}internode_encryption: all\n {2}optional: false\n/m);
      expect(script).toMatch(/^client_encryption_options:\n {2}enabled: true\n {2}optional: false\n/m);
      expect(script).toContain("class_name: org.apache.cassandra.security.PEMBasedSslContextFactory");
      expect(script).toContain("keystore: /etc/cassandra/tls/keystore.pem\n");
      expect(script).toMatch(/require_client_auth: true\n/);
      // This node's certificate for its own address, then the CA's key deleted.
      expect(script).toContain(
        `bash /root/cassandra-tls.sh node /root/cassandra-ca/ca-bundle.pem ${options(index).node.privateIp} /etc/cassandra/tls\nrm -rf /root/cassandra-ca\n`,
      );
      // No password of any kind in cassandra.yaml: the PEM key file is owner-only instead.
      expect(script).not.toMatch(/_password:/);
    }
    const first = cassandraUserData(options(0));
    expect(first).toContain("bash /root/cassandra-tls.sh ca /root/cassandra-ca anomaly-cassandra\n");
    expect(first).toContain('put-secret-value --secret-id "$ca_secret" --secret-string file:///root/cassandra-ca/ca-bundle.pem');
    expect(cassandraUserData(options(1))).not.toContain("bash /root/cassandra-tls.sh ca ");
    expect(cassandraUserData(options(1))).toMatch(/until secret_to "\$ca_secret" \S+ && has_certificate/);
  });

  it("keeps CQL closed on every node until node 0's set-up has ended, and node 0's CQL to itself meanwhile", () => {
    for (const index of [0, 1, 3]) {
      const script = cassandraUserData(options(index));
      expect(script).toContain("start_native_transport: false\n");
      const opened = script.indexOf("/opt/cassandra/bin/nodetool enablebinary");
      const started = script.indexOf("systemctl start cassandra");
      expect(started).toBeGreaterThan(0);
      expect(opened).toBeGreaterThan(started);
      if (index === 0) {
        // Node 0 opens CQL behind a filter that admits its own address only, runs the set-up, then drops it.
        const gate = script.indexOf(`ip saddr != ${options(0).node.privateIp} reject with tcp reset`);
        const setup = script.indexOf("bash /root/cassandra-auth/cassandra-auth-setup.sh");
        const ungate = script.indexOf("nft delete table inet anomaly_kit_cql_gate");
        // The last write of that secret (the first is the failure report's, in a trap that runs only on error).
        const publish = script.lastIndexOf('put-secret-value --secret-id "$ca_certificate_secret"');
        expect([gate > started, opened > gate, setup > opened, ungate > setup, publish > ungate]).toEqual([true, true, true, true, true]);
      } else {
        // The others open CQL only once node 0 has published the CA certificate (the set-up's last step).
        const waited = script.indexOf('until secret_to "$ca_certificate_secret"');
        expect(waited).toBeGreaterThan(started);
        expect(opened).toBeGreaterThan(waited);
        expect(script).not.toContain("nft ");
      }
      // Later restarts start with CQL open: the gate is for the first boot.
      expect(script.indexOf("s/^start_native_transport: false$/start_native_transport: true/")).toBeGreaterThan(opened - 200);
    }
  });
});
