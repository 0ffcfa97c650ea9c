/**
 * Tools the test command and `experiment --target local` need that the project's setup cannot install itself
 * (it installs Node 24, the npm packages, the Python tools and the Maven artifacts; Prometheus is none of these:
 * a system package or a release binary). Checked first, so a fresh machine hears one line naming what is
 * missing and how to install it, instead of a test failing deep inside with "not found".
 */
import { spawnSync } from "node:child_process";

export interface Prerequisite {
  /** The command as run (an env var may point elsewhere). */
  readonly command: string;
  /** What needs it. */
  readonly neededBy: string;
  /** The env var that overrides `command`. */
  readonly env: string;
}

const prometheusInstall = "`sudo apt-get install prometheus` (Debian, Ubuntu; both tools), or Prometheus' release binaries on PATH";

/** The Prometheus server: `experiment --target local` and its test read results through a real one. */
export const prometheusServer: Prerequisite = {
  command: process.env.PROMETHEUS_BIN ?? "prometheus",
  neededBy: "`npm run experiment -- --target local` and its integration test",
  env: "PROMETHEUS_BIN",
};

/** Prometheus' rule tester: the alert rules' unit tests. */
export const promtool: Prerequisite = {
  command: process.env.PROMTOOL ?? "promtool",
  neededBy: "the alert rules' tests (`promtool test rules`)",
  env: "PROMTOOL",
};

export const isInstalled = (p: Prerequisite): boolean => spawnSync(p.command, ["--version"], { stdio: "ignore" }).error === undefined;

/** One line for a missing prerequisite: what, for what, how to install, how to point at another binary. */
export const missingLine = (p: Prerequisite): string =>
  `prerequisite missing: ${p.command}, needed by ${p.neededBy}. To fix: ${prometheusInstall}, or set ${p.env} to its path.`;

/** The lines for every missing prerequisite of `list` (empty when all are there). */
export const missingPrerequisites = (list: readonly Prerequisite[]): string[] => list.filter((p) => !isInstalled(p)).map(missingLine);
