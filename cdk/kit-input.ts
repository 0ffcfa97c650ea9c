/**
 * Everything the CDK app reads from context, in one place: the size keys (cdk/size/size-input.ts) and the
 * access keys (cdk/access-input.ts). Any other key is refused by name with the closest known key, except the
 * CDK's own (feature flags, CLI settings, lookup caches), so a typo never synthesizes a default silently.
 */
import { accessInputKeys, parseAccessInput, type AccessInput } from "./access-input.ts";
import { refuseUnknownKeys, sizeInputKeys } from "./size/size-input.ts";
import { sizePlanFrom, type SizePlan } from "./size/size-plan.ts";

export const kitContextKeys: readonly string[] = [...sizeInputKeys, ...accessInputKeys];

export interface KitInput {
  readonly plan: SizePlan;
  readonly access: AccessInput;
}

const pick = (context: Readonly<Record<string, unknown>>, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => context[k] !== undefined).map((k) => [k, context[k]]));

/** Validates the whole context (throws SizeInputError naming the first bad key) and returns plan and access. */
export function kitInputFromContext(context: Readonly<Record<string, unknown>>): KitInput {
  refuseUnknownKeys(context, kitContextKeys);
  return { plan: sizePlanFrom(pick(context, sizeInputKeys)), access: parseAccessInput(pick(context, accessInputKeys)) };
}
