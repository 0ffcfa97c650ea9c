/**
 * The EKS cluster admin (`-c clusterAdminArn=…`, cdk/access-input.ts) from the caller's identity, so the person
 * running `npm run experiment -- --target aws` gets an access entry and kubectl works for them.
 *
 * STS GetCallerIdentity names the caller:
 * - an IAM user: `arn:<p>:iam::<account>:user/[<path>/]<name>` — used as it is;
 * - an assumed role: `arn:<p>:sts::<account>:assumed-role/<role>/<session>` — access entries take the role,
 *   not a session, and the session ARN drops the role's path, so the role's ARN is asked of IAM (GetRole, through
 *   the AWS CLI, which the runner needs anyway). When IAM does not answer, the path-less ARN is used with a
 *   warning (right for every role without a path, which is most);
 * - the account root, a federated user (GetFederationToken) or anything else: refused, naming what to do.
 * The same credential chain signs kubectl's tokens (`aws eks get-token`), so this is who kubectl will be.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { assumedRoleOf, parseAccessInput } from "../../cdk/access-input.ts";
import type { AwsContext } from "./aws-context.ts";
import type { CheckResult } from "./check-result.ts";
import { checkCredentials, type CallerIdentity } from "./credentials-check.ts";

const run = promisify(execFile);

export class ClusterAdminError extends Error {
  override name = "ClusterAdminError";
}

export type CallerPrincipal =
  | { readonly kind: "user"; readonly arn: string }
  | {
      readonly kind: "assumed-role";
      readonly partition: string;
      readonly account: string;
      readonly roleName: string;
      readonly pathlessRoleArn: string;
    };

const user = /^arn:([a-z-]+):iam::(\d{12}):user\/(.+)$/;

/** What kind of principal the caller's ARN is; throws ClusterAdminError naming the ARN for anything that cannot be an access entry. */
export function callerPrincipal(arn: string): CallerPrincipal {
  // The same parser as the stack's refusal of a session ARN (cdk/access-input.ts), so both agree on what one is.
  const role = assumedRoleOf(arn);
  if (role !== undefined) {
    const { partition, account, roleName } = role;
    return { kind: "assumed-role", partition, account, roleName, pathlessRoleArn: `arn:${partition}:iam::${account}:role/${roleName}` };
  }
  if (user.test(arn)) return { kind: "user", arn };
  if (/^arn:[a-z-]+:iam::\d{12}:root$/.test(arn)) {
    throw new ClusterAdminError(
      `caller ${arn}: the account's root user cannot be given an EKS access entry; run as an IAM role (aws sso login / assume a role) or an IAM user`,
    );
  }
  if (/:federated-user\//.test(arn)) {
    throw new ClusterAdminError(
      `caller ${arn}: a federated-user session (GetFederationToken) cannot be an EKS access entry; run as an IAM role or user, or give --cluster-admin-arn`,
    );
  }
  throw new ClusterAdminError(
    `caller ${arn}: allowed: an IAM user or an assumed IAM role (arn:…:iam::<account>:user/… or arn:…:sts::<account>:assumed-role/<role>/<session>)`,
  );
}

export interface ClusterAdmin {
  readonly arn: string;
  readonly caller: string;
  /** How the ARN was found, and any doubt about it. */
  readonly note: string;
}

/** `aws iam get-role` with the context's region, endpoint and credentials (tests: the replay server). */
async function roleArnFromIam(ctx: AwsContext, roleName: string, aws = "aws"): Promise<string> {
  const args = [
    "iam",
    "get-role",
    "--role-name",
    roleName,
    "--output",
    "json",
    ...(ctx.endpoint === undefined ? [] : ["--endpoint-url", ctx.endpoint]),
  ];
  const env = {
    ...process.env,
    AWS_REGION: ctx.region,
    AWS_DEFAULT_REGION: ctx.region,
    ...(ctx.credentials === undefined
      ? {}
      : {
          AWS_ACCESS_KEY_ID: ctx.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: ctx.credentials.secretAccessKey,
          AWS_SESSION_TOKEN: ctx.credentials.sessionToken ?? "",
        }),
  };
  const { stdout } = await run(aws, args, { env, timeout: 60_000 });
  const arn = (JSON.parse(stdout) as { Role?: { Arn?: string } }).Role?.Arn;
  if (typeof arn !== "string") throw new Error(`aws iam get-role --role-name ${roleName}: no Role.Arn in the answer`);
  return arn;
}

export interface ClusterAdminOptions {
  /** The AWS CLI binary. */
  readonly aws?: string;
}

/** The cluster admin ARN for the caller of `identity`, checked by the same rules as the CDK context key. */
export async function clusterAdminFor(ctx: AwsContext, identity: CallerIdentity, o: ClusterAdminOptions = {}): Promise<ClusterAdmin> {
  const principal = callerPrincipal(identity.arn);
  let admin: ClusterAdmin;
  if (principal.kind === "user") {
    admin = { arn: principal.arn, caller: identity.arn, note: "the calling IAM user" };
  } else {
    try {
      const arn = await roleArnFromIam(ctx, principal.roleName, o.aws);
      admin = { arn, caller: identity.arn, note: `the assumed role ${principal.roleName} (ARN with its path from IAM GetRole)` };
    } catch (err) {
      const why =
        err instanceof Error
          ? (err.message.split("\n").find((l) => l.trim() !== "" && !l.startsWith("Command failed")) ?? err.message)
          : String(err);
      admin = {
        arn: principal.pathlessRoleArn,
        caller: identity.arn,
        note: `the assumed role ${principal.roleName}; IAM GetRole did not answer (${why.trim().slice(0, 160)}), so its path is unknown: if the role has one, pass the role's full ARN with --cluster-admin-arn`,
      };
    }
  }
  // The CDK app will refuse what it cannot use: check with its own rules now, before a deploy.
  parseAccessInput({ clusterAdminArn: admin.arn });
  return admin;
}

/** The caller's cluster admin ARN, from STS: what the experiment runner passes as -c clusterAdminArn. */
export async function callerClusterAdmin(ctx: AwsContext, o: ClusterAdminOptions = {}): Promise<ClusterAdmin> {
  const { result, identity } = await checkCredentials(ctx);
  if (identity === undefined) throw new ClusterAdminError(`${result.detail}${result.fix === undefined ? "" : `; ${result.fix}`}`);
  return clusterAdminFor(ctx, identity, o);
}

/** Preflight: the caller can be the cluster admin (a user or a role, not root; its ARN is one the CDK app accepts). */
export async function checkClusterAdmin(ctx: AwsContext, identity: CallerIdentity, o: ClusterAdminOptions = {}): Promise<CheckResult> {
  try {
    const admin = await clusterAdminFor(ctx, identity, o);
    const doubtful = admin.note.includes("path is unknown");
    return {
      check: "cluster admin",
      status: doubtful ? "warn" : "pass",
      detail: `EKS access entry for ${admin.arn}: ${admin.note}`,
      ...(doubtful ? { fix: "allow iam:GetRole on your role, or pass --cluster-admin-arn <the role's ARN with its path>" } : {}),
    };
  } catch (err) {
    return {
      check: "cluster admin",
      status: "fail",
      detail: err instanceof Error ? err.message : String(err),
      fix: "run as an IAM role or IAM user (not root): aws sso login --profile <profile>, or AWS_PROFILE=<a role profile>",
    };
  }
}
