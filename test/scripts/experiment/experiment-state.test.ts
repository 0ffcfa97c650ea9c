/** The state file and resumption: which stages remain, atomic writes, refusing foreign files. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  markFinished,
  readState,
  remainingStages,
  stateFile,
  StateError,
  writeState,
} from "../../../scripts/experiment/experiment-state.ts";
import { newState } from "../../../scripts/experiment/run-experiment.ts";

const base = () =>
  newState(
    { id: "exp-a", target: "local", stages: [1, 2, 3], durationSeconds: 30, warmupSeconds: 10, rate: { mode: "plan" } },
    new Date("2026-11-01T00:00:00Z"),
  );

describe("remaining stages", () => {
  it("are all stages at first, then those after the last finished one", () => {
    let s = base();
    expect(remainingStages(s)).toEqual([1, 2, 3]);
    s = markFinished(s, 1, "stage-1.json");
    expect(remainingStages(s)).toEqual([2, 3]);
    expect(s.current).toBeNull();
    s = markFinished(s, 2, "stage-2.json");
    expect(remainingStages(s)).toEqual([3]);
    s = markFinished(s, 3, "stage-3.json");
    expect(remainingStages(s)).toEqual([]);
  });

  it("continue after the last finished stage even if an earlier one is missing (stage order is the user's)", () => {
    const s = { ...base(), stages: [3, 6, 12, 24], finished: { "6": "stage-6.json" } };
    expect(remainingStages(s)).toEqual([12, 24]);
  });
});

describe("state file", () => {
  const dir = mkdtempSync(join(tmpdir(), "experiment-state-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips and stamps the update time", () => {
    const written = writeState(dir, markFinished(base(), 1, "stage-1.json"), () => new Date("2026-11-01T01:00:00Z"));
    expect(written.updatedAt).toBe("2026-11-01T01:00:00.000Z");
    const read = readState(dir);
    expect(read).toEqual(written);
    expect(remainingStages(read)).toEqual([2, 3]);
  });

  it("refuses a missing or foreign file, naming it", () => {
    expect(() => readState(join(dir, "nope"))).toThrow(StateError);
    expect(() => readState(join(dir, "nope"))).toThrow(/--resume: no experiment state/);
    writeFileSync(stateFile(dir), JSON.stringify({ schema: 2 }));
    expect(() => readState(dir)).toThrow(/not a state file this runner wrote/);
  });
});
