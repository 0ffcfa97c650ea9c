/**
 * Everything the CDK app reads from context, in one place: the size keys (cdk/size/size-input.ts) and the
 * access keys (cdk/access-input.ts). Any other key is refused by name with the closest known key, except the
 * CDK's own (feature flags, CLI settings, lookup caches), so a typo never synthesizes a default silently.
 */
import { accessInputKeys, parseAccessInput, type AccessInput } from "./access-input.ts";
import { partitionOfArn } from "../app/aws-regions.ts";
import { refuseUnknownKeys, SizeInputError, sizeInputKeys } from "./size/size-input.ts";
import { sizePlanFrom, type SizePlan } from "./size/size-plan.ts";

export const kitContextKeys: readonly string[] = [...sizeInputKeys, ...accessInputKeys];

export interface KitInput {
  readonly plan: SizePlan;
  readonly access: AccessInput;
}

const pick = (context: Readonly<Record<string, unknown>>, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => context[k] !== undefined).map((k) => [k, context[k]]));

/**
 * Validates the whole context (throws SizeInputError naming the first bad key) and returns plan and access.
 * The cluster admin must live in the region's partition: an aws-cn role cannot be given access to a cluster in
 * us-east-1, and the deploy would fail only at the access entry, after the VPC and cluster were made.
 */
export function kitInputFromContext(context: Readonly<Record<string, unknown>>): KitInput {
  refuseUnknownKeys(context, kitContextKeys);
  const plan = sizePlanFrom(pick(context, sizeInputKeys));
  const access = parseAccessInput(pick(context, accessInputKeys));
  const adminPartition = partitionOfArn(access.clusterAdminArn);
  if (adminPartition !== plan.input.partition) {
    throw new SizeInputError(
      `clusterAdminArn = ${JSON.stringify(access.clusterAdminArn)} and region = ${JSON.stringify(plan.region)}: the ARN is in partition ${String(adminPartition)}, the region in ${plan.input.partition}; allowed: a principal of the region's partition, arn:${plan.input.partition}:iam::...`,
    );
  }
  return { plan, access };
}
