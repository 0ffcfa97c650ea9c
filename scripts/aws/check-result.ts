/** One preflight finding: what was checked, what was found, and — when it fails — exactly what to change. */
export type CheckStatus = "pass" | "fail" | "warn" | "skipped";

export interface CheckResult {
  /** Short name: "credentials", "cdk bootstrap", "vCPU quota", "offered: i3.2xlarge in us-east-1a" … */
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found, with the figures. */
  readonly detail: string;
  /** For fail/warn: the quota or setting to change, with a console path or CLI command. */
  readonly fix?: string | undefined;
}

export const failed = (results: readonly CheckResult[]): CheckResult[] => results.filter((r) => r.status === "fail");
