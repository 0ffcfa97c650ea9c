/**
 * The command-line tools an AWS experiment runs: docker (builds and pushes the app image during cdk deploy),
 * the AWS CLI (`aws eks update-kubeconfig`, kubectl's token through `aws eks get-token`, `aws iam get-role`)
 * and kubectl (`kubectl proxy`, `kubectl port-forward`). The kit requires the AWS CLI v2, the supported major
 * version it is written against; v1 (what `pip install awscli` gives) differs in defaults and output, so it is
 * refused rather than half-working. Each tool is run with its version flag; the check names the version found
 * or what to install.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { CheckResult } from "./check-result.ts";

/** Runs a tool and returns its output (stdout, else stderr); throws when it cannot run. */
export type ToolRunner = (command: string, args: readonly string[]) => Promise<string>;

const exec = promisify(execFile);
export const runTool: ToolRunner = async (command, args) => {
  const { stdout, stderr } = await exec(command, [...args], { timeout: 30_000 });
  return stdout.trim() === "" ? stderr : stdout;
};

export interface Tool {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The version from the output, or null when the output is not the tool's. */
  parse(output: string): string | null;
  /** Why this version will not do, or null when it will. */
  refuse(version: string): string | null;
  readonly install: string;
}

const major = (v: string) => Number(v.split(".")[0]);

export const tools: readonly Tool[] = [
  {
    name: "docker",
    command: "docker",
    args: ["--version"],
    parse: (out) => /Docker version (\d+\.\d+\.\d+)/.exec(out)?.[1] ?? null,
    refuse: () => null,
    install: "install Docker Engine or Docker Desktop (cdk deploy builds the app image with it) and start it",
  },
  {
    name: "AWS CLI",
    command: "aws",
    args: ["--version"],
    parse: (out) => /aws-cli\/(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? null,
    refuse: (v) => (major(v) < 2 ? `aws-cli ${v} is the AWS CLI v1; the kit requires v2` : null),
    install: "install the AWS CLI v2 (the official installer; pip's awscli is v1) and put it first on PATH",
  },
  {
    name: "kubectl",
    command: "kubectl",
    args: ["version", "--client", "--output=json"],
    parse: (out) => {
      try {
        return (JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion?.replace(/^v/, "") ?? null;
      } catch {
        return null;
      }
    },
    refuse: () => null,
    install: "install kubectl (within one minor version of the cluster's Kubernetes)",
  },
];

/** One result per tool: its version, or what to install. */
export async function checkTools(run: ToolRunner = runTool): Promise<CheckResult[]> {
  return Promise.all(
    tools.map(async (t): Promise<CheckResult> => {
      const check = `tool: ${t.name}`;
      let output: string;
      try {
        output = await run(t.command, t.args);
      } catch (error) {
        const why =
          error instanceof Error && "code" in error && error.code === "ENOENT"
            ? "not found on PATH"
            : error instanceof Error
              ? error.message.split("\n")[0]!
              : String(error);
        return { check, status: "fail", detail: `${t.command}: ${why}`, fix: t.install };
      }
      const version = t.parse(output);
      if (version === null)
        return {
          check,
          status: "fail",
          detail: `${t.command} ${t.args.join(" ")} printed no version: ${output.trim().slice(0, 120)}`,
          fix: t.install,
        };
      const refused = t.refuse(version);
      if (refused !== null) return { check, status: "fail", detail: refused, fix: t.install };
      return { check, status: "pass", detail: `${t.name} ${version}` };
    }),
  );
}
