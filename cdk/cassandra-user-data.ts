/**
 * The first-boot script of one Cassandra node (EC2 user data, Amazon Linux 2023), generated from the
 * shared server-config module so the cloud runs what the local stack tests. It depends only on the node's
 * own placement and the fixed seeds, never on the cluster's size: growing N → M leaves every existing
 * node's user data, and so the instance, unchanged.
 *
 * Steps: find the instance-store NVMe disks by model (on Nitro, nvme0n1 is usually the EBS root disk),
 * RAID0 them when there are several, XFS with noatime, mount by UUID; install Java 17 and Cassandra from
 * Apache's CDN, falling back to the release archive (cassandraDownload: SHA-512 pinned in the source); write cassandra.yaml / JVM options (JMX on
 * localhost for nodetool) / logging from cdk/servers/cassandra-config.ts; a JMX exporter agent for
 * Prometheus (pinned SHA-256); a systemd unit that refuses to start without the NVMe mount; then wait for
 * this node's turn and start. Every download is retried with exponential backoff (curl --retry).
 *
 * TLS (client-to-node and internode, cdk/servers/cassandra-tls.sh, the script the local stack's --tls mode
 * runs too): node 0 makes the cluster's CA at its first boot and stores it in a Secrets Manager secret the
 * stack created with a random placeholder; every node signs a key and a certificate for its address with it
 * and deletes the CA's key; cassandra.yaml requires TLS on both ports. The secrets' ARNs come from instance
 * tags (cassandraSecretTags), so the script is fixed text at synth and is gzip-compressed there.
 *
 * Bootstrap plan (safe when every instance boots at once, and when nodes are added later):
 * - the seeds (the first node of each zone) start at once: a fresh cluster's seeds do not bootstrap;
 * - every node starts with CQL closed (start_native_transport: false) and opens it once it has joined the
 *   ring (Up/Normal in its own nodetool view) and node 0's authentication set-up has ended (node 0 then
 *   publishes the CA certificate): until then the default superuser could log in from any worker;
 * - every other node i waits until node i-1 accepts CQL — so nodes join one at a time, in index order, and
 *   each joiner's token allocation sees the ring its predecessors made;
 * - `cassandra.consistent.rangemovement` stays at its default (true): Cassandra refuses to bootstrap while
 *   another node is joining/leaving/moving. With the ordering above that never trips; if it ever does (a
 *   manual operation in flight), the node exits before choosing tokens or streaming, and systemd restarts
 *   it after 30 s. It is never set to false, which would let concurrent joins lose or duplicate ranges.
 * - node 0, once the three seeds are Up/Normal, opens its CQL port to its own address only (nftables) and
 *   runs cdk/servers/cassandra-auth-setup.sh (the script the local stack's --auth mode runs too): it waits,
 *   bounded, for the default superuser, creates an `admin` superuser and a `detector` role with passwords
 *   from Secrets Manager (handed over in 0600 files), disables `cassandra`, and replicates system_auth 3 ways
 *   in the data centre, with a full repair; then it drops the filter and publishes the CA certificate.
 * - node 0's first boot ends in one of two states the runner's readiness reads from the CA certificate secret:
 *   the certificate (set-up ended) or its error after cassandraSetupFailedMarker (setupFailureReport).
 */
import { gzipSync } from "fflate";
import {
  cassandraAuthSetupEnv,
  cassandraAuthSetupScript,
  cassandraDetectorRole,
  shellAssignments,
} from "./servers/cassandra-auth-setup.ts";
import { cassandraJvmOptions, cassandraLogbackXml, cassandraYaml, cassandraHeapMiB } from "./servers/cassandra-config.ts";
import { jmxExporterConfig, jmxExporterMavenPath, jmxExporterSha256 } from "./servers/cassandra-exporter.ts";
import { caFiles, cassandraTlsScript, nodeTlsFiles } from "./servers/cassandra-tls.ts";
import { cassandraPorts } from "./servers/ports.ts";
import { cassandraSha512, cassandraVersion } from "./versions.ts";
import type { CassandraNodePlacement } from "./cassandra-nodes.ts";
import { heredocMarker } from "./cassandra-user-data-files.ts";

// The exporter from Maven Central: the very artifact the local stack runs and whose SHA-256 is pinned.
const jmxExporterUrl = `https://repo1.maven.org/maven2/${jmxExporterMavenPath}`;
const cassandraTarball = `cassandra/${cassandraVersion}/apache-cassandra-${cassandraVersion}-bin.tar.gz`;
/**
 * Apache's CDN serves current releases and asks bulk downloaders to use it; the archive keeps every release
 * (the CDN drops one once it is superseded). The tarball, not the Maven artifact the local stack resolves: it
 * carries cqlsh and nodetool, which node 0's set-up runs, and needs no build tool on 48 nodes. The version is
 * the same one (cdk/versions.ts), and either copy must match the pinned SHA-512.
 */
export const cassandraDownloadUrls = {
  cdn: `https://dlcdn.apache.org/${cassandraTarball}`,
  archive: `https://archive.apache.org/dist/${cassandraTarball}`,
} as const;

/** Leads node 0's error in the CA certificate secret when its first boot failed (readiness looks for it). */
export const cassandraSetupFailedMarker = "anomaly-kit: node 0's first-boot set-up failed:";
/** The first-boot log every node writes; node 0's failure report quotes its last lines. */
export const firstBootLog = "/var/log/cassandra-first-boot.log";
/** Log lines quoted with node 0's error (the set-up hands passwords in files, so none is in the log). */
const failureLogLines = 20;

export const dataMount = "/var/lib/cassandra";
export { cassandraDetectorRole };
const confDir = "/etc/cassandra";
const homeDir = "/opt/cassandra";
const logDir = "/var/log/cassandra";
/** This node's TLS key, certificate chain and CA certificate (cassandra-tls.sh node), readable by Cassandra only. */
export const tlsDir = `${confDir}/tls`;
const tlsScript = "/root/cassandra-tls.sh";
/** Where a node holds the CA's key while it signs its own certificate; deleted right after. */
const caWorkDir = "/root/cassandra-ca";
const nodetool = `${homeDir}/bin/nodetool`;

/**
 * The instance tags that hand each node the ARNs of its secrets. The user data reads them from the instance
 * metadata (IMDSv2, instance tags enabled) instead of holding the ARNs: without deploy-time tokens the script
 * is fixed text at synth, so it can be gzip-compressed there (EC2 allows 16 KB of user data). Keys use only
 * the characters instance-metadata tags allow (no '/', no spaces).
 */
export const cassandraSecretTags = {
  /** Password of the admin superuser (node 0's set-up). */
  adminPassword: "anomaly-kit:cassandra-admin-password-secret",
  /** Password of the detector role (node 0's set-up). */
  detectorPassword: "anomaly-kit:cassandra-detector-password-secret",
  /** The cluster CA's key and certificate: node 0 makes them at its first boot, every node signs with them. */
  ca: "anomaly-kit:cassandra-ca-secret",
  /** The CA certificate alone (public), for clients; node 0 publishes it once the set-up has ended. */
  caCertificate: "anomaly-kit:cassandra-ca-certificate-secret",
} as const;

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
}

/** A heredoc body may not contain its terminator on a line by itself. */
function heredoc(path: string, body: string, mode = "0644"): string {
  const marker = heredocMarker;
  if (body.split("\n").includes(marker)) throw new Error(`${path}: content contains ${marker}`);
  const text = body.endsWith("\n") ? body : `${body}\n`;
  return `cat > ${path} <<'${marker}'\n${text}${marker}\nchmod ${mode} ${path}\n`;
}

/**
 * The user data as EC2 takes it: gzip-compressed (cloud-init recognises gzip and inflates it), then base64
 * for CloudFormation. The text must be token-free (see cassandraSecretTags). Compressed by fflate (pure
 * JavaScript, exact version pinned) with no timestamp, not by Node's zlib: a changed UserData stops and starts
 * the instance, which loses its NVMe data, and the bytes of Node's bundled zlib may change with a Node update
 * while the text does not. The same text gives the same bytes on every machine and Node release.
 */
export function compressedUserData(script: string): string {
  if (script.includes("${Token[")) throw new Error("user data holds a deploy-time token; it cannot be compressed at synth");
  return Buffer.from(gzipSync(Buffer.from(script, "utf8"), { level: 9, mtime: 0 })).toString("base64");
}

/** `fetch <url> <file>`: retried on any error with curl's exponential backoff, for up to 15 minutes. */
export const fetchFunction = `fetch() { curl -fsSL --retry 10 --retry-all-errors --retry-max-time 900 --connect-timeout 20 -o "$2" "$1"; }
`;

/**
 * Downloads the Cassandra tarball to `file`: the CDN first, retrying only transient errors (a release the CDN
 * no longer has is a 404, not worth 15 minutes of retries), then the archive with fetch's full retries. A copy
 * whose SHA-512 is not the pinned one is refused. Needs fetchFunction.
 */
export function cassandraDownload(
  file: string,
  urls: { readonly cdn: string; readonly archive: string } = cassandraDownloadUrls,
  sha512: string = cassandraSha512,
): string {
  return `sha512_ok() { echo "${sha512}  $1" | sha512sum -c --quiet -; }
if curl -fsSL --retry 5 --connect-timeout 20 -o ${file} ${urls.cdn} && sha512_ok ${file}; then
  echo "$(date -Is) Cassandra from Apache's CDN, SHA-512 verified"
else
  echo "$(date -Is) no verified copy on Apache's CDN; downloading from the archive"
  fetch ${urls.archive} ${file}
  sha512_ok ${file}
fi
`;
}

/**
 * Node 0 only: any failing command of its first boot puts the error (exit code, line, command and the log's
 * last lines) into the CA certificate secret, where the runner's readiness reads it and fails the stage at
 * once. The other nodes wait for a certificate there, so an error text keeps them waiting, never misleads them.
 * Needs \`set -E\` (functions inherit the trap) and $ca_certificate_secret.
 */
export const setupFailureReport = `report_failure() { # exit code, line, command
  local message
  message="${cassandraSetupFailedMarker} exit $1 at line $2: $3
$(tail -n ${failureLogLines} ${firstBootLog} 2>/dev/null || true)"
  aws secretsmanager put-secret-value --secret-id "$ca_certificate_secret" --secret-string "$message" >/dev/null || true
}
trap 'report_failure $? $LINENO "$BASH_COMMAND"' ERR
`;

export function cassandraUserData(o: CassandraUserDataOptions): string {
  const { node } = o;
  const tls = nodeTlsFiles(tlsDir);
  const yaml = cassandraYaml({
    clusterName: o.clusterName,
    address: node.privateIp,
    seeds: o.seeds,
    dataRoot: dataMount,
    snitch: "Ec2Snitch",
    cores: o.vcpus,
    authentication: true,
    tls,
    // CQL stays closed until node 0's set-up has replaced the default superuser (see cqlGate below).
    startNativeTransport: false,
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
  const waits = `wait_for_cql() { # host, what
  until timeout 3 bash -c "</dev/tcp/$1/${cassandraPorts.cql}" 2>/dev/null; do
    echo "$(date -Is) waiting for $2 ($1:${cassandraPorts.cql}) to accept CQL"; sleep 15
  done
}
wait_joined() { # address, what: Up/Normal in this node's view of the ring (local JMX; CQL may still be closed)
  until ${nodetool} status 2>/dev/null | grep -q "^UN  $1 "; do
    echo "$(date -Is) waiting for $2 ($1) to be Up/Normal"; sleep 15
  done
}
`;
  const turn =
    node.joinsAfter === undefined
      ? "# Seed: starts at once (seeds of a fresh cluster do not bootstrap).\n"
      : "# Join in index order: wait until the previous node has joined and opened CQL (after node 0's set-up).\n" +
        `wait_for_cql ${node.joinsAfter} "the previous node"\n`;
  const first = node.index === 0;

  return `#!/bin/bash
# Cassandra ${node.logicalId} (${node.privateIp}, ${node.availabilityZone}${node.isSeed ? ", seed" : ""}); generated by cdk/cassandra-user-data.ts
set -Eeuo pipefail
exec > >(tee -a ${firstBootLog}) 2>&1
# Downloads: retried on any error with curl's exponential backoff (1 s, 2 s, 4 s … for up to 15 minutes).
${fetchFunction}# Instance metadata (IMDSv2): the secrets' ARNs come from this instance's tags.
imds() {
  local token
  token="$(curl -fsS --retry 10 --retry-all-errors -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token)"
  curl -fsS --retry 10 --retry-all-errors -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
tag() { imds "tags/instance/$1"; }
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10 AWS_DEFAULT_REGION=${o.region}
# A secret's value into an owner-only file (never a command's argument).
secret_to() { (umask 077; aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text > "$2"); }
has_certificate() { grep -q -- "-BEGIN CERTIFICATE-" "$1" 2>/dev/null; }
ca_secret="$(tag ${cassandraSecretTags.ca})"
ca_certificate_secret="$(tag ${cassandraSecretTags.caCertificate})"
${first ? setupFailureReport : ""}
dnf install -y -q java-17-amazon-corretto-headless mdadm xfsprogs python3 tar gzip openssl${first ? " nftables" : ""}

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

# Cassandra ${cassandraVersion}, verified against the release's SHA-512 pinned at synth.
useradd --system --home-dir ${homeDir} --shell /sbin/nologin cassandra || true
cd /tmp
${cassandraDownload("cassandra.tgz")}mkdir -p ${homeDir} ${confDir} ${logDir}
tar -xzf cassandra.tgz -C ${homeDir} --strip-components=1
jamm=(${homeDir}/lib/jamm-*.jar)
ln -sf "\${jamm[0]}" ${homeDir}/jamm.jar
fetch ${jmxExporterUrl} ${homeDir}/jmx_prometheus_javaagent.jar
echo "${jmxExporterSha256}  ${homeDir}/jmx_prometheus_javaagent.jar" | sha256sum -c -

${tlsSetup(o)}
${heredoc(`${confDir}/cassandra.yaml`, yaml)}${heredoc(`${confDir}/cassandra-rackdc.properties`, rackdc)}${heredoc(`${confDir}/jvm.args`, jvm.join("\n"))}${heredoc(`${confDir}/logback.xml`, cassandraLogbackXml(logDir))}${heredoc(`${confDir}/jmx-exporter.yaml`, jmxExporterConfig)}${heredoc("/etc/systemd/system/cassandra.service", unit)}
cat >> /etc/sysctl.d/60-cassandra.conf <<'ANOMALY_KIT_EOF'
vm.max_map_count = 1048575
vm.swappiness = 1
ANOMALY_KIT_EOF
sysctl --system >/dev/null
chown -R cassandra:cassandra ${dataMount} ${logDir} ${homeDir} ${tlsDir}
chmod 0700 ${tlsDir}
systemctl daemon-reload
systemctl enable cassandra

${waits}${turn}systemctl start cassandra
wait_joined ${node.privateIp} "this node"
echo "$(date -Is) ${node.logicalId} joined; CQL still closed"
${first ? authSetupScript(o) : awaitSetup}${openCql(node.privateIp)}`;
}

/**
 * Every node makes its own key and a certificate for its address, signed by the cluster's CA. Node 0 makes the
 * CA at its first boot when the CA secret does not hold one yet (the stack creates the secret with a random
 * placeholder, so no key material is ever in the template) and stores it; the others wait for it. The CA's
 * key leaves each node's disk right after signing: it stays in Secrets Manager only.
 */
function tlsSetup(o: CassandraUserDataOptions): string {
  const ca = caFiles(caWorkDir);
  const first = o.node.index === 0;
  const obtain = first
    ? `secret_to "$ca_secret" ${ca.bundle}
if ! has_certificate ${ca.bundle}; then
  rm -f ${ca.bundle}
  bash ${tlsScript} ca ${caWorkDir} ${o.clusterName}
  aws secretsmanager put-secret-value --secret-id "$ca_secret" --secret-string file://${ca.bundle} >/dev/null
fi
`
    : `until secret_to "$ca_secret" ${ca.bundle} && has_certificate ${ca.bundle}; do
  echo "$(date -Is) waiting for node 0 to store the cluster's CA"; sleep 15
done
`;
  return `# TLS (clients and internode): this node's certificate, signed by the cluster's CA.
${heredoc(tlsScript, cassandraTlsScript(), "0700")}(umask 077; mkdir -p ${caWorkDir})
${obtain}bash ${tlsScript} node ${ca.bundle} ${o.node.privateIp} ${tlsDir}
rm -rf ${caWorkDir}
`;
}

/** Nodes other than 0: CQL opens once node 0 has published the CA certificate, the last step of its set-up. */
const awaitSetup = `until secret_to "$ca_certificate_secret" /tmp/ca-certificate.pem && has_certificate /tmp/ca-certificate.pem; do
  echo "$(date -Is) waiting for node 0's authentication set-up to end"; sleep 15
done
`;

/** Opens CQL now and on every later start (the gate is for the first boot only). */
const openCql = (address: string) => `sed -i 's/^start_native_transport: false$/start_native_transport: true/' ${confDir}/cassandra.yaml
${nodetool} enablebinary
wait_for_cql ${address} "this node"
echo "$(date -Is) CQL open"
`;

/** Where node 0 keeps the set-up script and the role passwords it hands to it (root only). */
const authDir = "/root/cassandra-auth";
/** Bound of the set-up on node 0: the first login, and a repair that a joining node can make fail. */
const authSetupWaitSeconds = 1800;
/** nftables table that keeps CQL on node 0 to node 0 itself while the default superuser exists. */
const cqlGateTable = "inet anomaly_kit_cql_gate";

/**
 * Run on node 0 once the seeds are up: the shared set-up script, embedded verbatim; a rerun is harmless.
 * The default superuser (cassandra/cassandra) exists from the first start until the script disables it, and
 * it could log in on any node; so every node keeps CQL closed (start_native_transport: false) until node 0
 * publishes the CA certificate after the set-up, and node 0 opens its own CQL port behind a packet filter
 * that admits only its own address (the set-up script's cqlsh) for the length of the set-up.
 */
function authSetupScript(o: CassandraUserDataOptions): string {
  const seedWaits = o.seeds.map((s, i) => `wait_joined ${s} "seed ${i}"\n`).join("");
  const files = { admin: `${authDir}/admin-password`, detector: `${authDir}/detector-password` };
  const tls = nodeTlsFiles(tlsDir);
  const env = cassandraAuthSetupEnv({
    host: o.node.privateIp,
    cqlPort: cassandraPorts.cql,
    cqlsh: `${homeDir}/bin/cqlsh`,
    nodetool,
    adminPasswordFile: files.admin,
    detectorPasswordFile: files.detector,
    detectorRole: cassandraDetectorRole,
    datacenter: o.datacenter,
    replicationFactor: o.replicationFactor,
    waitSeconds: authSetupWaitSeconds,
    caFile: tls.truststore,
  });
  return `
# Authentication, once: cdk/servers/cassandra-auth-setup.sh with the passwords in root-only files.
${seedWaits}nft add table ${cqlGateTable}
nft add chain ${cqlGateTable} input '{ type filter hook input priority 0; policy accept; }'
nft add rule ${cqlGateTable} input tcp dport ${cassandraPorts.cql} ip saddr != ${o.node.privateIp} reject with tcp reset
${nodetool} enablebinary
(umask 077; mkdir -p ${authDir})
${heredoc(`${authDir}/cassandra-auth-setup.sh`, cassandraAuthSetupScript(), "0700")}secret_to "$(tag ${cassandraSecretTags.adminPassword})" ${files.admin}
secret_to "$(tag ${cassandraSecretTags.detectorPassword})" ${files.detector}
${shellAssignments(env)} \\
  bash ${authDir}/cassandra-auth-setup.sh
nft delete table ${cqlGateTable}
aws secretsmanager put-secret-value --secret-id "$ca_certificate_secret" --secret-string file://${tls.truststore} >/dev/null
echo "$(date -Is) authentication set up; CA certificate published"
`;
}
