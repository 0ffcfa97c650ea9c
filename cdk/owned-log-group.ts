/**
 * A CloudWatch log group that the stack owns and deletes with itself (log groups that
 * survive a teardown break the next deploy, which fails creating a log group of the same name). Every log group our stacks create goes through here.
 */
import { RemovalPolicy } from "aws-cdk-lib";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

/** Experiments are short; a week is enough to read a failed run's logs afterwards. */
export const logRetention = logs.RetentionDays.ONE_WEEK;

export function ownedLogGroup(scope: Construct, id: string, logGroupName?: string): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    ...(logGroupName === undefined ? {} : { logGroupName }),
    retention: logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
