/** Local stage sizing (derived from the size plan), the stage list per target, and the progress line. */
import { describe, expect, it } from "vitest";
import { deriveSizePlan } from "../../../cdk/size/size-plan.ts";
import { parseSizeInput } from "../../../cdk/size/size-input.ts";
import { localClusterStageSize, LocalStageError, localStageSize, type LocalMachine } from "../../../scripts/experiment/local-stage-size.ts";
import { formatElapsed, Progress } from "../../../scripts/experiment/progress.ts";
import { parseStageList } from "../../../scripts/experiment/stage-list.ts";

const machine: LocalMachine = { cores: 2, checksPerSecond: 1_000, maxDetectorProcesses: 4 };

describe("local stage size", () => {
  it("stage k is k detector processes, the rate grows linearly and the largest stage gets the machine budget", () => {
    const sizes = [1, 2, 3, 4].map((k) => localStageSize(k, machine));
    expect(sizes.map((s) => s.detectorProcesses)).toEqual([1, 2, 3, 4]);
    expect(sizes.map((s) => s.ratePerSecond)).toEqual([250, 500, 750, 1000]);
    expect(sizes.every((s) => s.partitions >= s.detectorProcesses * s.consumersPerProcess)).toBe(true);
  });

  it("takes per-process figures from the size plan's smallest stage, not from typed numbers", () => {
    const plan = deriveSizePlan(parseSizeInput({ cassandraNodes: 3 }));
    const s = localStageSize(2, machine, plan);
    expect(s.concurrency).toBe(plan.detector.concurrency);
    expect(s.consumersPerProcess).toBe(plan.detector.consumersPerPod);
    expect(s.requestsPerConnection).toBe(plan.detector.requestsPerConnection);
    expect(s.reference).toEqual({
      cassandraNodes: 3,
      detectorPods: plan.detector.pods,
      ratePerPod: plan.load.ratePerSecond / plan.detector.pods,
    });
  });

  it("rejects stages the machine cannot hold, naming what is allowed", () => {
    expect(() => localStageSize(0, machine)).toThrow(LocalStageError);
    expect(() => localStageSize(5, machine)).toThrow(/allowed for --target local: an integer from 1 to 4/);
    expect(() => localStageSize(1.5, machine)).toThrow(LocalStageError);
  });
});

describe("local cluster stage size", () => {
  it("stage n is n brokers and n nodes; detectors follow the replication factor's worth of nodes and the rate grows with n", () => {
    const sizes = [3, 4, 5, 6].map((n) => localClusterStageSize(n, { cores: 2, checksPerSecond: 120 }));
    expect(sizes.map((s) => s.nodes)).toEqual([3, 4, 5, 6]);
    expect(sizes.map((s) => s.detectorProcesses)).toEqual([1, 1, 2, 2]);
    expect(sizes.map((s) => s.ratePerSecond)).toEqual([60, 80, 100, 120]);
    expect(sizes.map((s) => s.partitions)).toEqual([1, 1, 2, 2].map((k) => localStageSize(k).partitions));
  });

  it("rejects a cluster smaller than the replication factor or larger than six, naming what is allowed", () => {
    expect(() => localClusterStageSize(2)).toThrow(/stage 2: allowed: an integer from 3 to 6 for --target local-cluster/);
    expect(() => localClusterStageSize(7)).toThrow(LocalStageError);
  });
});

describe("--stages", () => {
  it("accepts growing local-cluster stages from 3 to 6 only", () => {
    expect(parseStageList("3,6", "local-cluster", "exp-a")).toEqual([3, 6]);
    expect(() => parseStageList("6,3", "local-cluster", "exp-a")).toThrow(
      /--stages "6,3": the cluster cannot shrink between stages; allowed: comma-separated, growing node counts from 3 to 6/,
    );
    expect(() => parseStageList("1,2", "local-cluster", "exp-a")).toThrow(
      /--stages "1,2": stage 1: allowed: an integer from 3 to 6 for --target local-cluster/,
    );
  });

  it("accepts small local stages, and AWS stages only within the size model's 3..48", () => {
    expect(parseStageList("1,2", "local", "exp-a")).toEqual([1, 2]);
    expect(parseStageList("3,6,12,24,48", "aws", "exp-a")).toEqual([3, 6, 12, 24, 48]);
    expect(parseStageList("stage-3,12", "aws", "exp-a")).toEqual([3, 12]);
    expect(() => parseStageList("1,2", "aws", "exp-a")).toThrow(/--stages "1,2": cassandraNodes = 1: allowed: an integer from 3 to 48/);
    expect(() => parseStageList("1,x", "local", "exp-a")).toThrow(
      /--stages "1,x": "x" is not a number; allowed: comma-separated detector-process counts/,
    );
    expect(() => parseStageList("1,1", "local", "exp-a")).toThrow(/given twice/);
    expect(() => parseStageList("9", "local", "exp-a")).toThrow(/--stages "9": stage 9: allowed for --target local/);
  });
});

describe("progress", () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it("rewrites one line on a TTY", () => {
    const out: string[] = [];
    const c = clock();
    const p = new Progress({ isTTY: true, write: (s: string) => out.push(s) }, { now: c.now });
    p.update({ stage: "stage-1", position: [1, 2], phase: "warm-up" });
    c.advance(3_000);
    p.tick(123.4);
    expect(out).toEqual([
      "\r\x1b[2K[00:00]  stage-1 (1/2)  warm-up 00:00  – checks/s",
      "\r\x1b[2K[00:03]  stage-1 (1/2)  warm-up 00:03  123 checks/s",
    ]);
    p.done();
    expect(out.at(-1)).toBe("\n");
  });

  it("writes plain lines otherwise: on each phase change and at most every interval", () => {
    const out: string[] = [];
    const c = clock();
    const p = new Progress({ isTTY: false, write: (s: string) => out.push(s) }, { now: c.now, plainIntervalMs: 10_000 });
    p.update({ stage: "stage-2", position: [2, 2], phase: "load" });
    c.advance(2_000);
    p.tick(10);
    c.advance(9_000);
    p.tick(20);
    p.phase("read-results");
    expect(out).toEqual([
      "[00:00]  stage-2 (2/2)  load 00:00  – checks/s\n",
      "[00:11]  stage-2 (2/2)  load 00:11  20 checks/s\n",
      "[00:11]  stage-2 (2/2)  read-results 00:00  – checks/s\n",
    ]);
    expect(out.every((l) => !l.includes("\r"))).toBe(true);
  });

  it("formats elapsed time", () => {
    expect(formatElapsed(0)).toBe("00:00");
    expect(formatElapsed(61_500)).toBe("01:01");
    expect(formatElapsed(3_723_000)).toBe("1:02:03");
  });
});
