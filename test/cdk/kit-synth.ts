/**
 * Synthesizes the CDK kit in-process for tests, the way `cdk synth` would (cdk.json's context), but with
 * asset staging off (the kubectl layer zips are ~58 MB) and the image context pointed at a tiny fixture.
 * Each preset is synthesized once per test file and reused.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { buildKit, type KitStacks } from "../../cdk/app.ts";
import type { ChartsBuilder } from "../../cdk/eks/chart-manifests.ts";
import type { ImageLock } from "../../cdk/image-lock.ts";
import { kitInputFromContext } from "../../cdk/kit-input.ts";
import type { SizePlan } from "../../cdk/size/size-plan.ts";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const imageFixture = join(repoRoot, "test", "cdk", "fixtures", "image");
/**
 * The access context keys a deploy passes (documentation addresses: RFC 5737, AWS's example account); synthKit
 * adds them unless the test gives its own (or `undefined` to leave one out).
 */
export const testAccess = {
  clusterAdminArn: "arn:aws:iam::111122223333:role/kit-admin",
  apiAccessCidrs: "203.0.113.0/24,198.51.100.7/32",
} as const;

export interface CfnTemplate {
  Resources: Record<
    string,
    {
      Type: string;
      Properties?: Record<string, unknown>;
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
      DependsOn?: string | string[];
    }
  >;
  Outputs?: Record<string, unknown>;
}

export interface Synthesized {
  readonly plan: SizePlan;
  readonly stacks: KitStacks;
  readonly outdir: string;
  /** Template file name → parsed template. */
  readonly templates: Record<string, CfnTemplate>;
  /** Template file name → size in bytes. */
  readonly templateBytes: Record<string, number>;
  readonly validationReport: ValidationReport | undefined;
  readonly seconds: number;
}

export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    suppressedViolations?: { ruleName: string; reason?: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

const cdkContext = (JSON.parse(readFileSync(join(repoRoot, "cdk.json"), "utf8")) as { context: Record<string, unknown> }).context;

/** `raw` is the CDK context as `-c` would give it: size keys and access keys. */
export function synthKit(
  raw: Record<string, unknown>,
  options: { charts?: ChartsBuilder; nag?: boolean; imageDirectory?: string; imageLock?: ImageLock } = {},
): Synthesized {
  process.env.CDK_VALIDATION = "false"; // skip the built-in CloudFormation schema plugin; cfn-lint does that
  const started = performance.now();
  const outdir = mkdtempSync(join(tmpdir(), "kit-synth-"));
  const app = new App({ outdir, context: { ...cdkContext, "aws:cdk:disable-asset-staging": true } });
  const { plan, access } = kitInputFromContext({ ...testAccess, ...raw });
  const stacks = buildKit(app, plan, {
    imageDirectory: options.imageDirectory ?? imageFixture,
    ...(options.imageLock === undefined ? {} : { imageLock: options.imageLock }),
    access,
    nag: options.nag ?? true,
    ...(options.charts === undefined ? {} : { charts: options.charts }),
  });
  app.synth();
  const templates: Record<string, CfnTemplate> = {};
  const templateBytes: Record<string, number> = {};
  for (const file of readdirSync(outdir).filter((f) => f.endsWith(".template.json"))) {
    const text = readFileSync(join(outdir, file), "utf8");
    templates[file] = JSON.parse(text) as CfnTemplate;
    templateBytes[file] = Buffer.byteLength(text);
  }
  let validationReport: ValidationReport | undefined;
  try {
    validationReport = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as ValidationReport;
  } catch {
    validationReport = undefined;
  }
  return { plan, stacks, outdir, templates, templateBytes, validationReport, seconds: (performance.now() - started) / 1000 };
}

export const resourcesOfType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

/** cfn-lint from CI's tool directory first, then PATH. */
export function cfnLint(): string | undefined {
  const local = join(repoRoot, ".tools", "py", "bin", "cfn-lint");
  if (existsSync(local)) return local;
  const which = spawnSync("sh", ["-c", "command -v cfn-lint"], { encoding: "utf8" });
  return which.status === 0 ? which.stdout.trim() : undefined;
}
