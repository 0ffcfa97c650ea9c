/**
 * The first-boot fragments that decide how a node fails or recovers, run in bash for real:
 * - the Cassandra download against a real HTTP server on loopback standing for Apache's CDN and archive: the
 *   CDN's copy when it matches the pinned SHA-512, the archive's when the CDN lacks the release or serves other
 *   bytes, and a failure when no copy matches;
 * - node 0's failure report: a failing command puts the marker, exit code, line and command into the CA
 *   certificate secret (through the AWS CLI's put-secret-value; a shell function stands in for the CLI and
 *   records its arguments) and the script still stops.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cassandraDownload, cassandraSetupFailedMarker, fetchFunction, setupFailureReport } from "../../../cdk/cassandra-user-data.ts";

const release = Buffer.from("the release tarball's bytes\n".repeat(1000));
const sha512 = createHash("sha512").update(release).digest("hex");
/** path → body (404 when absent); every request's path, in order. */
const served = new Map<string, Buffer>();
const requests: string[] = [];
let server: Server;
let base = "";

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const body = served.get(req.url ?? "");
    if (body === undefined) res.writeHead(404).end("Not Found");
    else res.writeHead(200, { "content-type": "application/x-gzip" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const urls = () => ({ cdn: `${base}/cdn/apache-cassandra-bin.tar.gz`, archive: `${base}/archive/apache-cassandra-bin.tar.gz` });

/** bash run asynchronously: the HTTP server above answers from this same process. */
function bash(script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function download(cdn: Buffer | undefined, archive: Buffer | undefined) {
  served.clear();
  requests.length = 0;
  if (cdn !== undefined) served.set("/cdn/apache-cassandra-bin.tar.gz", cdn);
  if (archive !== undefined) served.set("/archive/apache-cassandra-bin.tar.gz", archive);
  const dir = mkdtempSync(join(tmpdir(), "cassandra-download-"));
  const script = `set -Eeuo pipefail\n${fetchFunction}cd ${dir}\n${cassandraDownload("cassandra.tgz", urls(), sha512)}echo downloaded\n`;
  const run = await bash(script);
  let file: Buffer | undefined;
  try {
    file = readFileSync(join(dir, "cassandra.tgz"));
  } catch {
    file = undefined;
  }
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, file, requests: [...requests] };
}

describe("Cassandra download", () => {
  it("takes the CDN's copy when its SHA-512 is the pinned one, and asks the archive nothing", async () => {
    const r = await download(release, release);
    expect(r.status, r.stderr).toBe(0);
    expect(r.requests).toEqual(["/cdn/apache-cassandra-bin.tar.gz"]);
    expect(r.file?.equals(release)).toBe(true);
    expect(r.stdout).toMatch(/Cassandra from Apache's CDN, SHA-512 verified\ndownloaded\n$/);
  });

  it("falls back to the archive when the CDN no longer has the release (one 404, not retried)", async () => {
    const r = await download(undefined, release);
    expect(r.status, r.stderr).toBe(0);
    expect(r.requests).toEqual(["/cdn/apache-cassandra-bin.tar.gz", "/archive/apache-cassandra-bin.tar.gz"]);
    expect(r.file?.equals(release)).toBe(true);
  });

  it("falls back to the archive when the CDN's bytes are not the release's", async () => {
    const r = await download(Buffer.from("a tampered or truncated copy"), release);
    expect(r.status, r.stderr).toBe(0);
    expect(r.requests).toEqual(["/cdn/apache-cassandra-bin.tar.gz", "/archive/apache-cassandra-bin.tar.gz"]);
    expect(r.file?.equals(release)).toBe(true);
  });

  it("fails the first boot when no copy matches the pinned SHA-512", async () => {
    const r = await download(Buffer.from("wrong"), Buffer.from("also wrong"));
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain("downloaded");
    expect(r.stderr).toMatch(/FAILED|did NOT match/);
  });
});

describe("node 0's failure report", () => {
  it("puts the marker, exit code, line and failing command into the CA certificate secret, and stops", () => {
    const dir = mkdtempSync(join(tmpdir(), "setup-failure-"));
    const calls = join(dir, "aws-calls");
    const script = [
      "set -Eeuo pipefail",
      `aws() { printf '%s\\n' "$@" >> ${calls}; }`,
      "ca_certificate_secret=arn:aws:secretsmanager:us-east-1:123456789012:secret:ClusterCaCertificate-AbC123",
      setupFailureReport.trimEnd(),
      "echo set-up begins",
      "check_disks() { ls /no/such/instance-store-disk; }",
      "check_disks",
      "echo never reached",
    ].join("\n");
    writeFileSync(join(dir, "first-boot.sh"), `${script}\n`);
    const run = spawnSync("bash", [join(dir, "first-boot.sh")], { encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("set-up begins\n");
    const args = readFileSync(calls, "utf8").split("\n");
    expect(args.slice(0, 5)).toEqual([
      "secretsmanager",
      "put-secret-value",
      "--secret-id",
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:ClusterCaCertificate-AbC123",
      "--secret-string",
    ]);
    // The failing command inside the function (set -E carries the trap there), then the call that failed.
    expect(args[5]).toBe(`${cassandraSetupFailedMarker} exit 2 at line 12: ls /no/such/instance-store-disk`);
  });
});
