/** Credentials and region: STS GetCallerIdentity answers with the account and the caller's ARN. */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { clientConfig, errorMessage, errorName, type AwsContext } from "./aws-context.ts";
import type { CheckResult } from "./check-result.ts";

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
}

export async function checkCredentials(ctx: AwsContext): Promise<{ result: CheckResult; identity?: CallerIdentity }> {
  const sts = new STSClient(clientConfig(ctx));
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    const identity = { account: out.Account ?? "", arn: out.Arn ?? "", userId: out.UserId ?? "" };
    return {
      identity,
      result: { check: "credentials", status: "pass", detail: `account ${identity.account} as ${identity.arn}, region ${ctx.region}` },
    };
  } catch (error) {
    const name = errorName(error);
    const expired = /Expired/.test(name);
    return {
      result: {
        check: "credentials",
        status: "fail",
        detail: `STS GetCallerIdentity in ${ctx.region} failed: ${name}: ${errorMessage(error)}`,
        fix: expired
          ? "the session has expired: renew it (aws sso login --profile <profile>, or fetch new temporary keys)"
          : "give credentials: AWS_PROFILE=<profile> (aws configure / aws sso login), or AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY; " +
            "check the region with --region or AWS_REGION",
      },
    };
  } finally {
    sts.destroy();
  }
}
