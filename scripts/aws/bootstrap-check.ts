/**
 * CDK bootstrap: the bootstrap stack writes its version to SSM `/cdk-bootstrap/<qualifier>/version`.
 * Templates synthesized by aws-cdk-lib carry a CheckBootstrapVersion rule that refuses versions 1-5.
 */
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { clientConfig, errorMessage, errorName, type AwsContext } from "./aws-context.ts";
import type { CheckResult } from "./check-result.ts";

export const defaultBootstrapQualifier = "hnb659fds";
export const minimumBootstrapVersion = 6;

export const bootstrapParameterName = (qualifier = defaultBootstrapQualifier) => `/cdk-bootstrap/${qualifier}/version`;

export async function checkCdkBootstrap(
  ctx: AwsContext,
  account: string | undefined,
  qualifier = defaultBootstrapQualifier,
): Promise<CheckResult> {
  const ssm = new SSMClient(clientConfig(ctx));
  const name = bootstrapParameterName(qualifier);
  const bootstrap = `npx cdk bootstrap aws://${account ?? "<account>"}/${ctx.region}${qualifier === defaultBootstrapQualifier ? "" : ` --qualifier ${qualifier}`}`;
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    const value = out.Parameter?.Value ?? "";
    const version = Number(value);
    if (!Number.isInteger(version)) {
      return {
        check: "cdk bootstrap",
        status: "fail",
        detail: `SSM ${name} = ${JSON.stringify(value)} is not a version number`,
        fix: `re-run: ${bootstrap}`,
      };
    }
    if (version < minimumBootstrapVersion) {
      return {
        check: "cdk bootstrap",
        status: "fail",
        detail: `bootstrap version ${version} in ${ctx.region}; the CDK templates need >= ${minimumBootstrapVersion}`,
        fix: `upgrade the bootstrap stack: ${bootstrap}`,
      };
    }
    return { check: "cdk bootstrap", status: "pass", detail: `bootstrap version ${version} (${name})` };
  } catch (error) {
    if (errorName(error) === "ParameterNotFound") {
      return {
        check: "cdk bootstrap",
        status: "fail",
        detail: `${ctx.region} is not bootstrapped for CDK (no SSM parameter ${name})`,
        fix: `bootstrap the account and region once: ${bootstrap}`,
      };
    }
    return {
      check: "cdk bootstrap",
      status: "fail",
      detail: `SSM GetParameter ${name} failed: ${errorName(error)}: ${errorMessage(error)}`,
      fix: "allow ssm:GetParameter on arn:aws:ssm:<region>:<account>:parameter/cdk-bootstrap/* for this identity",
    };
  } finally {
    ssm.destroy();
  }
}
