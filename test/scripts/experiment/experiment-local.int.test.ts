/**
 * A tiny real local experiment through the CLI (stages 1 and 2, 10 s each at a low fixed rate) against the local
 * stack: the stage JSONs, the CSV, the charts and the report exist and agree; both stages ran on one set of
 * topics grown in place, with the partitions read back equal to each stage's plan; every process the experiment
 * started has exited; its topics are gone.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createKafka } from "../../../app/kafka/kafka-client.ts";
import { createLogger } from "../../../app/log.ts";
import type { ExperimentState } from "../../../scripts/experiment/experiment-state.ts";
import { csvColumns } from "../../../scripts/report/results-table.ts";
import type { StageResult } from "../../../scripts/experiment/stage-result.ts";
import { localStageSize } from "../../../scripts/experiment/local-stage-size.ts";
import { topicPrefix } from "../../../scripts/experiment/stage-runner-local.ts";
import { localEndpoints } from "../../../scripts/local/locations.ts";
import { stallBoundedTestTimeoutMs } from "../../stall-bounded.ts";
import { runExperimentCli } from "./experiment-cli.ts";

const root = mkdtempSync(join(tmpdir(), "experiment-int-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const id = `it-${Date.now().toString(36)}`;
const dir = join(root, id);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm run experiment -- --target local", () => {
  it(
    "runs stages 1 and 2 for real, writes consistent results and leaves nothing of ours running",
    { timeout: stallBoundedTestTimeoutMs },
    async () => {
      const { code, out } = await runExperimentCli([
        "--target",
        "local",
        "--stages",
        "1,2",
        "--duration",
        "10",
        "--warmup",
        "4",
        "--rate",
        "150",
        "--id",
        id,
        "--results-dir",
        root,
      ]);
      expect(code, out).toBe(0);
      // Plain progress lines (stderr is not a TTY here), with stage, phase, elapsed and checks/s.
      expect(out).toMatch(/\[\d\d:\d\d\] {2}stage-1 \(1\/2\) {2}load \d\d:\d\d {2}(\d+|–) checks\/s/);

      const stages = [1, 2].map((k) => JSON.parse(readFileSync(join(dir, `stage-${k}.json`), "utf8")) as StageResult);
      for (const [i, s] of stages.entries()) {
        expect(s).toMatchObject({ experimentId: id, target: "local", stage: { size: i + 1 }, rate: { mode: "fixed", target: 150 } });
        expect(s.sizes.detectorProcesses).toBe(i + 1);
        // The run's topics were grown from stage 1 to stage 2; what is reported was read back from Kafka.
        const planned = localStageSize(i + 1).partitions;
        expect(s.partitions).toMatchObject({ planned, readBack: planned, source: "kafka topic metadata" });
        // The AWS runner's read-back query, run against this real Prometheus: partitions the detectors consumed.
        expect(s.partitions?.consumedByDetectors).toBeGreaterThan(0);
        expect(s.partitions?.consumedByDetectors).toBeLessThanOrEqual(planned);
        expect(s.sizes.partitions).toBe(planned);
        expect(s.configHash).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(s.git.revision).toMatch(/^[0-9a-f]{40}$/);
        // A 10-second window's figures on a busy machine may be thin or empty (few scrapes, no check finished in
        // it): the test checks their shape; the figures themselves are a full run's business.
        expect(Number.isFinite(s.metrics.checksPerSecond) && s.metrics.checksPerSecond >= 0, `checks/s ${s.metrics.checksPerSecond}`).toBe(
          true,
        );
        expect(s.metrics.latencyMs.p99 === null || s.metrics.latencyMs.p99 >= 0, `p99 ${s.metrics.latencyMs.p99}`).toBe(true);
      }
      expect(stages[0]!.configHash).not.toBe(stages[1]!.configHash);

      const csv = readFileSync(join(dir, "results.csv"), "utf8").trimEnd().split("\n");
      expect(csv[0]).toBe(csvColumns.join(","));
      expect(csv).toHaveLength(3);
      const col = (line: string, name: (typeof csvColumns)[number]) => line.split(",")[csvColumns.indexOf(name)];
      expect(csv.slice(1).map((l) => col(l, "stage"))).toEqual(["stage-1", "stage-2"]);
      expect(csv.slice(1).map((l) => Number(col(l, "checks_per_s")))).toEqual(
        stages.map((s) => Math.round(s.metrics.checksPerSecond * 10) / 10),
      );
      expect(csv.slice(1).map((l) => col(l, "config_hash"))).toEqual(stages.map((s) => s.configHash));

      for (const f of ["throughput.svg", "throughput.png", "efficiency.svg", "efficiency.png"])
        expect(existsSync(join(dir, f)), f).toBe(true);
      const report = readFileSync(join(dir, "report.md"), "utf8");
      expect(report).toContain(`# Experiment ${id}`);
      expect(report).toMatch(/\| stage-1 \| 1 \| 150 \|/);
      expect(report).toMatch(/\| stage-2 \| 2 \| 150 \|/);

      const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as ExperimentState;
      expect(state).toMatchObject({ status: "finished", tornDown: true, finished: { "1": "stage-1.json", "2": "stage-2.json" } });
      expect(state.processes.map((p) => p.name).sort()).toEqual([
        "detector-1",
        "detector-1",
        "detector-2",
        "loadgen",
        "loadgen",
        "prometheus",
      ]);
      expect(state.processes.filter((p) => alive(p.pid))).toEqual([]);

      const admin = createKafka("experiment-int-test", [localEndpoints.kafkaBrokers], createLogger("test", "error")).admin();
      await admin.connect();
      try {
        expect((await admin.listTopics()).filter((t) => t.startsWith(topicPrefix(id)))).toEqual([]);
      } finally {
        await admin.disconnect();
      }
    },
  );
});
