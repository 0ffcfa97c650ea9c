/**
 * The first-boot script of one Cassandra node (EC2 user data, Amazon Linux 2023), generated from the
 * shared server-config module so the cloud runs what the local stack tests. It depends only on the node's
 * own placement and the fixed seeds, never on the cluster's size: growing N → M leaves every existing
 * node's user data, and so the instance, unchanged.
 *
 * Steps: find the instance-store NVMe disks by model (on Nitro, nvme0n1 is usually the EBS root disk),
 * RAID0 them when there are several, XFS with noatime, mount by UUID; install Java 17 and Cassandra from
 * the Apache release archive (checksum and signature verified); write cassandra.yaml / JVM options (JMX on
 * localhost for nodetool) / logging from cdk/servers/cassandra-config.ts; a JMX exporter agent for
 * Prometheus (pinned SHA-256); a systemd unit that refuses to start without the NVMe mount; then wait for
 * this node's turn and start. Every download is retried with exponential backoff (curl --retry).
 *
 * Bootstrap plan (safe when every instance boots at once, and when nodes are added later):
 * - the seeds (the first node of each zone) start at once: a fresh cluster's seeds do not bootstrap;
 * - every other node i waits until node i-1 accepts CQL connections — Cassandra opens its native port only
 *   after the node has finished joining the ring — so nodes join one at a time, in index order, and each
 *   joiner's token allocation sees the ring its predecessors made;
 * - `cassandra.consistent.rangemovement` stays at its default (true): Cassandra refuses to bootstrap while
 *   another node is joining/leaving/moving. With the ordering above that never trips; if it ever does (a
 *   manual operation in flight), the node exits before choosing tokens or streaming, and systemd restarts
 *   it after 30 s. It is never set to false, which would let concurrent joins lose or duplicate ranges.
 * - node 0, once the three seeds are up, runs cdk/servers/cassandra-auth-setup.sh (the script the local
 *   stack's --auth mode runs too): it waits, bounded, for the default superuser, creates an `admin`
 *   superuser and a `detector` role with passwords from Secrets Manager (handed over in 0600 files),
 *   disables `cassandra`, and replicates system_auth 3 ways in the data centre, with a full repair.
 */
import {
  cassandraAuthSetupEnv,
  cassandraAuthSetupScript,
  cassandraDetectorRole,
  shellAssignments,
} from "./servers/cassandra-auth-setup.ts";
import { cassandraJvmOptions, cassandraLogbackXml, cassandraYaml, cassandraHeapMiB } from "./servers/cassandra-config.ts";
import { jmxExporterConfig, jmxExporterMavenPath, jmxExporterSha256 } from "./servers/cassandra-exporter.ts";
import { cassandraPorts } from "./servers/ports.ts";
import { cassandraVersion } from "./servers/versions.ts";
import type { CassandraNodePlacement } from "./cassandra-nodes.ts";

// The exporter from Maven Central: the very artifact the local stack runs and whose SHA-256 is pinned.
const jmxExporterUrl = `https://repo1.maven.org/maven2/${jmxExporterMavenPath}`;
const cassandraArchive = `https://archive.apache.org/dist/cassandra/${cassandraVersion}/apache-cassandra-${cassandraVersion}-bin.tar.gz`;
const apacheKeys = "https://downloads.apache.org/cassandra/KEYS";

export const dataMount = "/var/lib/cassandra";
export { cassandraDetectorRole };
const confDir = "/etc/cassandra";
const homeDir = "/opt/cassandra";
const logDir = "/var/log/cassandra";

export interface CassandraUserDataOptions {
  readonly node: CassandraNodePlacement;
  readonly seeds: readonly string[];
  readonly clusterName: string;
  readonly region: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** Data centre name Ec2Snitch reports with the standard naming scheme: the region. */
  readonly datacenter: string;
  readonly replicationFactor: number;
  /** Secrets Manager ARNs (tokens are fine) of the admin and detector passwords; used by node 0 only. */
  readonly adminSecretArn: string;
  readonly detectorSecretArn: string;
}

/** A heredoc body may not contain its terminator on a line by itself. */
function heredoc(path: string, body: string, mode = "0644"): string {
  const marker = "ANOMALY_KIT_EOF";
  if (body.split("\n").includes(marker)) throw new Error(`${path}: content contains ${marker}`);
  const text = body.endsWith("\n") ? body : `${body}\n`;
  return `cat > ${path} <<'${marker}'\n${text}${marker}\nchmod ${mode} ${path}\n`;
}

export function cassandraUserData(o: CassandraUserDataOptions): string {
  const { node } = o;
  const yaml = cassandraYaml({
    clusterName: o.clusterName,
    address: node.privateIp,
    seeds: o.seeds,
    dataRoot: dataMount,
    snitch: "Ec2Snitch",
    cores: o.vcpus,
    authentication: true,
  });
  const jvm = [
    ...cassandraJvmOptions({
      heapMiB: cassandraHeapMiB(o.memoryGiB),
      jammJar: `${homeDir}/jamm.jar`,
      configFile: `${confDir}/cassandra.yaml`,
      logbackFile: `${confDir}/logback.xml`,
      logDir,
      jmxLocalPort: cassandraPorts.jmx,
      singleNode: false,
    }),
    `-javaagent:${homeDir}/jmx_prometheus_javaagent.jar=${cassandraPorts.exporter}:${confDir}/jmx-exporter.yaml`,
  ];
  // Ec2Snitch with the standard naming: data centre = region, rack = availability zone; IMDSv2 only.
  const rackdc = "ec2_naming_scheme=standard\nec2_metadata_type=v2\n";
  const unit = `[Unit]
Description=Apache Cassandra ${cassandraVersion} (${node.logicalId})
Wants=network-online.target
After=network-online.target
# Never start on the root volume: after a stop/start the instance store is new and empty.
RequiresMountsFor=${dataMount}

[Service]
User=cassandra
Group=cassandra
ExecStart=/usr/bin/java @${confDir}/jvm.args -cp ${confDir}:${homeDir}/lib/* org.apache.cassandra.service.CassandraDaemon
Restart=on-failure
RestartSec=30
LimitNOFILE=1048576
LimitMEMLOCK=infinity
LimitNPROC=32768
LimitAS=infinity

[Install]
WantedBy=multi-user.target
`;
  const waitForPort = `wait_for_cql() { # host, what
  until timeout 3 bash -c "</dev/tcp/$1/${cassandraPorts.cql}" 2>/dev/null; do
    echo "$(date -Is) waiting for $2 ($1:${cassandraPorts.cql}) to accept CQL"; sleep 15
  done
}
`;
  const turn = node.joinsAfter === undefined
    ? "# Seed: starts at once (seeds of a fresh cluster do not bootstrap).\n"
    : `# Join in index order: wait until the previous node has finished joining.\nwait_for_cql ${node.joinsAfter} "the previous node"\n`;
  const authSetup = node.index === 0 ? authSetupScript(o) : "";

  return `#!/bin/bash
# Cassandra ${node.logicalId} (${node.privateIp}, ${node.availabilityZone}${node.isSeed ? ", seed" : ""}); generated by cdk/cassandra-user-data.ts
set -euo pipefail
exec > >(tee -a /var/log/cassandra-first-boot.log) 2>&1
# Downloads: retried on any error with curl's exponential backoff (1 s, 2 s, 4 s … for up to 15 minutes).
fetch() { curl -fsSL --retry 10 --retry-all-errors --retry-max-time 900 --connect-timeout 20 -o "$2" "$1"; }

dnf install -y -q java-17-amazon-corretto-headless mdadm xfsprogs python3 tar gzip

# Instance-store NVMe disks, found by model.
mapfile -t disks < <(lsblk -dn -o NAME,MODEL | awk '/Amazon EC2 NVMe Instance Storage/ {print "/dev/" $1}')
if [ "\${#disks[@]}" -eq 0 ]; then echo "no instance-store NVMe disk found" >&2; exit 1; fi
if [ "\${#disks[@]}" -gt 1 ]; then
  mdadm --create /dev/md0 --level=0 --raid-devices="\${#disks[@]}" --run "\${disks[@]}"
  mdadm --detail --scan > /etc/mdadm.conf
  device=/dev/md0
else
  device="\${disks[0]}"
fi
mkfs.xfs -f "$device"
uuid="$(blkid -s UUID -o value "$device")"
mkdir -p ${dataMount}
echo "UUID=$uuid ${dataMount} xfs noatime,nofail 0 2" >> /etc/fstab
systemctl daemon-reload
mount ${dataMount}

# Cassandra from the Apache release archive, verified against the release's checksum and signature.
useradd --system --home-dir ${homeDir} --shell /sbin/nologin cassandra || true
cd /tmp
fetch ${cassandraArchive} cassandra.tgz
fetch ${cassandraArchive}.sha256 cassandra.tgz.sha256
fetch ${cassandraArchive}.asc cassandra.tgz.asc
fetch ${apacheKeys} KEYS
echo "$(awk '{print $1}' cassandra.tgz.sha256)  cassandra.tgz" | sha256sum -c -
GNUPGHOME="$(mktemp -d)"
export GNUPGHOME
gpg --batch --quiet --import KEYS
gpg --batch --verify cassandra.tgz.asc cassandra.tgz
mkdir -p ${homeDir} ${confDir} ${logDir}
tar -xzf cassandra.tgz -C ${homeDir} --strip-components=1
jamm=(${homeDir}/lib/jamm-*.jar)
ln -sf "\${jamm[0]}" ${homeDir}/jamm.jar
fetch ${jmxExporterUrl} ${homeDir}/jmx_prometheus_javaagent.jar
echo "${jmxExporterSha256}  ${homeDir}/jmx_prometheus_javaagent.jar" | sha256sum -c -

${heredoc(`${confDir}/cassandra.yaml`, yaml)}${heredoc(`${confDir}/cassandra-rackdc.properties`, rackdc)}${heredoc(`${confDir}/jvm.args`, jvm.join("\n"))}${heredoc(`${confDir}/logback.xml`, cassandraLogbackXml(logDir))}${heredoc(`${confDir}/jmx-exporter.yaml`, jmxExporterConfig)}${heredoc("/etc/systemd/system/cassandra.service", unit)}
cat >> /etc/sysctl.d/60-cassandra.conf <<'ANOMALY_KIT_EOF'
vm.max_map_count = 1048575
vm.swappiness = 1
ANOMALY_KIT_EOF
sysctl --system >/dev/null
chown -R cassandra:cassandra ${dataMount} ${logDir} ${homeDir}
systemctl daemon-reload
systemctl enable cassandra

${waitForPort}${turn}systemctl start cassandra
wait_for_cql ${node.privateIp} "this node"
echo "$(date -Is) ${node.logicalId} joined"
${authSetup}`;
}

/** Where node 0 keeps the set-up script and the role passwords it hands to it (root only). */
const authDir = "/root/cassandra-auth";
/** Bound of the set-up on node 0: the first login, and a repair that a joining node can make fail. */
const authSetupWaitSeconds = 1800;

/** Run on node 0 once the seeds are up: the shared set-up script, embedded verbatim; a rerun is harmless. */
function authSetupScript(o: CassandraUserDataOptions): string {
  const secret = (arn: string, file: string) =>
    `aws secretsmanager get-secret-value --region ${o.region} --secret-id "${arn}" --query SecretString --output text > ${file}\n`;
  const seedWaits = o.seeds.map((s, i) => `wait_for_cql ${s} "seed ${i}"\n`).join("");
  const files = { admin: `${authDir}/admin-password`, detector: `${authDir}/detector-password` };
  const env = cassandraAuthSetupEnv({
    host: o.node.privateIp,
    cqlPort: cassandraPorts.cql,
    cqlsh: `${homeDir}/bin/cqlsh`,
    nodetool: `${homeDir}/bin/nodetool`,
    adminPasswordFile: files.admin,
    detectorPasswordFile: files.detector,
    detectorRole: cassandraDetectorRole,
    datacenter: o.datacenter,
    replicationFactor: o.replicationFactor,
    waitSeconds: authSetupWaitSeconds,
  });
  return `
# Authentication, once: cdk/servers/cassandra-auth-setup.sh with the passwords in root-only files.
${seedWaits}umask 077
mkdir -p ${authDir}
${heredoc(`${authDir}/cassandra-auth-setup.sh`, cassandraAuthSetupScript(), "0700")}export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10
${secret(o.adminSecretArn, files.admin)}${secret(o.detectorSecretArn, files.detector)}${shellAssignments(env)} \\
  bash ${authDir}/cassandra-auth-setup.sh
`;
}
