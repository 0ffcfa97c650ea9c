/**
 * The auth set-up script (cdk/servers/cassandra-auth-setup.sh) hands credentials to cqlsh and nodetool in files,
 * never on a command line, where any local user could read them (/proc/<pid>/cmdline, ps). Run against
 * stand-in cqlsh and nodetool executables that record every argument and answer like a fresh node (the
 * default superuser logs in until admin exists), so the whole first-boot path runs; then no recorded argument
 * may hold a password, and the files cqlsh was given must be owner-only.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cassandraAuthSetupEnv, cassandraAuthSetupScriptPath, cassandraDetectorRole } from "../../../cdk/servers/cassandra-auth-setup.ts";

const dir = mkdtempSync(join(tmpdir(), "auth-argv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const passwords = { admin: "Admin-Pw-4f9c2e7a1b", detector: "Detector-Pw-8d3b6a0c5e" };
const argvLog = join(dir, "argv.log");
const modesLog = join(dir, "modes.log");

/**
 * A cqlsh that logs its arguments (one line per call) and the mode of its --credentials file; admin can log in
 * only after a CQL file was run (the CREATE ROLE), the others at once.
 */
const fakeCqlsh = `#!/bin/bash
printf '%s\\n' "$*" >> ${argvLog}
while [ $# -gt 0 ]; do
  case $1 in
    --credentials) creds=$2; stat -c '%a' "$2" >> ${modesLog}; shift ;;
    -f) touch ${dir}/admin-created; cat "$2" > /dev/null ;;
  esac
  shift
done
if grep -q 'username = admin' "$creds" && [ ! -e ${dir}/admin-created ]; then echo "bad credentials" >&2; exit 2; fi
exit 0
`;
const fakeNodetool = `#!/bin/bash\nprintf '%s\\n' "$*" >> ${argvLog}\n`;

function install(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

describe("credentials reach cqlsh and nodetool via files, not argv", () => {
  it("runs the first-boot path (as cassandra, then admin) with no password on any command line", () => {
    const files = { admin: join(dir, "admin-password"), detector: join(dir, "detector-password") };
    writeFileSync(files.admin, `${passwords.admin}\n`, { mode: 0o600 });
    writeFileSync(files.detector, `${passwords.detector}\n`, { mode: 0o600 });
    const env = cassandraAuthSetupEnv({
      host: "127.0.0.1",
      cqlPort: 9042,
      cqlsh: install("cqlsh", fakeCqlsh),
      nodetool: install("nodetool", fakeNodetool),
      adminPasswordFile: files.admin,
      detectorPasswordFile: files.detector,
      detectorRole: cassandraDetectorRole,
      datacenter: "datacenter1",
      replicationFactor: 1,
      waitSeconds: 30,
    });
    const run = spawnSync("bash", [cassandraAuthSetupScriptPath], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("logged in as cassandra");
    expect(run.stdout).toContain("creating admin as the default superuser");

    const calls = readFileSync(argvLog, "utf8").trim().split("\n");
    // cqlsh logins and CQL files, and the repair: the path ran end to end.
    expect(calls.some((c) => c.startsWith("repair --full system_auth"))).toBe(true);
    expect(calls.filter((c) => c.includes(" -f ")).length).toBeGreaterThanOrEqual(2);
    for (const secret of [passwords.admin, passwords.detector, "cassandra cassandra"]) {
      expect(calls.filter((c) => c.includes(secret))).toEqual([]);
    }
    // No -p/--password flag either: the role and password come in the credentials file only.
    expect(calls.filter((c) => /(^| )(-p|--password|-u|--username)( |=|$)/.test(c))).toEqual([]);
    const modes = readFileSync(modesLog, "utf8").trim().split("\n");
    expect(new Set(modes)).toEqual(new Set(["600"]));
  });
});
