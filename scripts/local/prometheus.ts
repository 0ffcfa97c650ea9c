/**
 * A real Prometheus (the Debian `prometheus` binary) for `--target local`: it scrapes the detector and load
 * generator processes every second through file-based service discovery (target files rewritten as processes
 * come and go), so the local runner reads its results through the same HTTP API as the cloud runner.
 * Its data lives in a temporary directory removed on stop. Tracked by its child process, never found by name.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { errorText } from "../../app/log.ts";
import { waitFor } from "../../app/retry.ts";
import { freePort } from "../free-port.ts";
import { isInstalled, missingLine, prometheusServer } from "./prerequisites.ts";
import { localHost } from "./locations.ts";
import { PrometheusClient } from "../experiment/prometheus-query.ts";

export const localJobs = { detector: "detector", loadgen: "loadgen" } as const;
export type LocalJob = keyof typeof localJobs;

export interface LocalPrometheus {
  readonly client: PrometheusClient;
  readonly pid: number;
  setTargets(job: LocalJob, ports: readonly number[]): void;
  stop(): Promise<void>;
}

export class LocalPrometheusError extends Error {
  override name = "LocalPrometheusError";
}

const binary = prometheusServer.command;

export function prometheusAvailable(): boolean {
  return isInstalled(prometheusServer);
}

/** The scrape configuration: one job per process kind, targets from files, one-second resolution. */
export function localPrometheusConfig(dir: string): object {
  return {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    scrape_configs: Object.values(localJobs).map((job) => ({
      job_name: job,
      file_sd_configs: [{ files: [join(dir, `${job}-targets.json`)], refresh_interval: "1s" }],
    })),
  };
}

export async function startLocalPrometheus(timeoutMs = 60_000): Promise<LocalPrometheus> {
  if (!prometheusAvailable()) {
    throw new LocalPrometheusError(missingLine(prometheusServer));
  }
  const dir = mkdtempSync(join(tmpdir(), "anomaly-experiment-prometheus-"));
  mkdirSync(join(dir, "data"));
  const writeTargets = (job: string, ports: readonly number[]) => {
    const file = join(dir, `${job}-targets.json`);
    // Written then renamed, so Prometheus never reads half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: ports.map((p) => `${localHost}:${p}`), labels: {} }]));
    renameSync(`${file}.tmp`, file);
  };
  for (const job of Object.values(localJobs)) writeTargets(job, []);
  writeFileSync(join(dir, "prometheus.yml"), stringify(localPrometheusConfig(dir)));
  const port = await freePort(localHost);
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=${localHost}:${port}`,
      "--storage.tsdb.retention.time=1d",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const client = new PrometheusClient(`http://${localHost}:${port}`);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode})`);
        return client.ready();
      },
      { what: "prometheus to answer its readiness probe", timeoutMs },
    );
  } catch (err) {
    await stop();
    throw new LocalPrometheusError(`prometheus did not become ready on port ${port} (${errorText(err)}): ${stderr.trim().slice(-1000)}`);
  }
  return {
    client,
    pid: child.pid ?? -1,
    setTargets: (job, ports) => writeTargets(localJobs[job], ports),
    stop,
  };
}
