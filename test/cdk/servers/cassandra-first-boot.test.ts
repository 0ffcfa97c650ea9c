/**
 * The Cassandra nodes' first boot as CloudFormation deploys it: the user data of every node of stage-3 and
 * stage-48, taken from the synthesized templates, is linted by shellcheck (0 findings) together with the
 * auth set-up script, and carries what nodetool, the downloads and node 0's set-up need.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { cassandraDownload, cassandraSecretTags, setupFailureReport } from "../../../cdk/cassandra-user-data.ts";
import { cassandraSha512 } from "../../../cdk/versions.ts";
import { cassandraAuthSetupScript, cassandraAuthSetupScriptPath } from "../../../cdk/servers/cassandra-auth-setup.ts";
import { cassandraTlsScriptPath } from "../../../cdk/servers/cassandra-tls.ts";
import { jmxExporterSha256 } from "../../../cdk/servers/cassandra-exporter.ts";
import { cassandraPorts } from "../../../cdk/servers/ports.ts";
import { repoRoot, synthKit } from "../kit-synth.ts";

const shellcheck = join(repoRoot, ".tools", "py", "bin", "shellcheck");

/**
 * The user data of each Cassandra node (logical id → script) of one synthesized preset: a literal (no
 * deploy-time value in it), base64 of gzip, which is what EC2 receives.
 */
function cassandraUserData(preset: string): Map<string, string> {
  const { templates } = synthKit({ preset }, { nag: false });
  const scripts = new Map<string, string>();
  for (const template of Object.values(templates)) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== "AWS::EC2::Instance" || !id.startsWith("CassandraNode")) continue;
      const userData: unknown = resource.Properties?.UserData;
      expect(typeof userData, `${id}: user data must be a literal, not a CloudFormation function`).toBe("string");
      scripts.set(id, gunzipSync(Buffer.from(userData as string, "base64")).toString("utf8"));
    }
  }
  return scripts;
}

const stages = { "stage-3": cassandraUserData("stage-3"), "stage-48": cassandraUserData("stage-48") };

describe("shellcheck over every generated first-boot script", () => {
  it.each(Object.keys(stages))("%s: every node's user data, the auth set-up and the TLS scripts have no finding", (stage) => {
    expect(existsSync(shellcheck), `shellcheck is needed in .tools/py (bash scripts/python-tools.sh installs it)`).toBe(true);
    const scripts = stages[stage as keyof typeof stages];
    expect(scripts.size).toBeGreaterThanOrEqual(3);
    const dir = mkdtempSync(join(tmpdir(), "user-data-"));
    const files = [...scripts].map(([id, text]) => {
      const file = join(dir, `${id}.sh`);
      writeFileSync(file, text);
      return file;
    });
    const run = spawnSync(shellcheck, ["--format=gcc", ...files, cassandraAuthSetupScriptPath, cassandraTlsScriptPath], {
      encoding: "utf8",
    });
    expect(run.error).toBeUndefined();
    expect(run.stdout.trim().split("\n").filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
  });
});

describe("what each node's first boot needs", () => {
  const all = [...stages["stage-3"].values(), ...stages["stage-48"].values()];
  const node0 = stages["stage-48"].get("CassandraNode01")!;
  const joiner = stages["stage-48"].get("CassandraNode04")!;

  it("opens JMX on localhost for nodetool", () => {
    for (const script of all) expect(script).toContain(`-Dcassandra.jmx.local.port=${cassandraPorts.jmx}\n`);
  });

  it("retries every download with backoff and checks the exporter jar against its pinned SHA-256", () => {
    for (const script of [node0, joiner]) {
      const curls = script.split("\n").filter((line) => /^[^#]*\bcurl\b/.test(line));
      // One curl for downloads, inside the retrying fetch function, and two for the instance metadata (token,
      // then the tag), all retried; and Cassandra from Apache's CDN, transient errors retried (a release the CDN
      // no longer has falls through to fetch from the archive).
      expect(curls).toEqual([
        expect.stringMatching(/^fetch\(\) \{ curl .*--retry \d+ --retry-all-errors /),
        expect.stringMatching(/^ {2}token="\$\(curl -fsS --retry \d+ --retry-all-errors -X PUT .*\/latest\/api\/token\)"$/),
        expect.stringMatching(/^ {2}curl -fsS --retry \d+ --retry-all-errors -H "X-aws-ec2-metadata-token: \$token" /),
        expect.stringMatching(
          /^if curl -fsSL --retry \d+ --connect-timeout \d+ -o cassandra\.tgz https:\/\/dlcdn\.apache\.org\/cassandra\/[\d.]+\/apache-cassandra-[\d.]+-bin\.tar\.gz && sha512_ok cassandra\.tgz; then$/,
        ),
      ]);
      expect(script).toMatch(/^fetch https:\/\/\S+jmx_prometheus_javaagent-[\d.]+\.jar \S+$/m);
      expect(script).toContain(`echo "${jmxExporterSha256}  /opt/cassandra/jmx_prometheus_javaagent.jar" | sha256sum -c -`);
      expect(script).toContain(cassandraDownload("cassandra.tgz"));
      expect(script).toContain(`sha512_ok() { echo "${cassandraSha512}  $1" | sha512sum -c --quiet -; }`);
      expect(script).toMatch(/^ {2}fetch https:\/\/archive\.apache\.org\/dist\/cassandra\/\S+-bin\.tar\.gz cassandra\.tgz$/m);
    }
  });

  it("node 0 alone reports a failed first boot into the CA certificate secret; every node runs with set -E", () => {
    for (const script of all) expect(script).toMatch(/^set -Eeuo pipefail$/m);
    expect(node0).toContain(setupFailureReport);
    // The trap is set once the secret's ARN is known, before anything that can fail on its own.
    expect(node0.indexOf(setupFailureReport)).toBeGreaterThan(node0.indexOf('ca_certificate_secret="$(tag '));
    expect(node0.indexOf(setupFailureReport)).toBeLessThan(node0.indexOf("dnf install"));
    for (const [id, script] of stages["stage-48"]) {
      if (id !== "CassandraNode01") expect(script, id).not.toContain("report_failure");
    }
  });

  it("node 0 alone runs the shared auth set-up script, verbatim, with the passwords in files", () => {
    expect(node0).toContain(cassandraAuthSetupScript());
    // Each password: the secret named by the instance's tag, written to an owner-only file.
    expect(node0).toContain(`secret_to "$(tag ${cassandraSecretTags.detectorPassword})" /root/cassandra-auth/detector-password\n`);
    expect(node0).toContain(
      'secret_to() { (umask 077; aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text > "$2"); }',
    );
    expect(node0).toMatch(
      /CASSANDRA_AUTH_WAIT_SECONDS='\d+' \\\n {2}CASSANDRA_AUTH_CA_FILE='\/etc\/cassandra\/tls\/truststore.pem' \\\n {2}bash \/root\/cassandra-auth\/cassandra-auth-setup.sh\n/,
    );
    for (const [id, script] of stages["stage-48"]) {
      if (id !== "CassandraNode01") expect(script).not.toContain("cassandra-auth-setup");
    }
  });
});
