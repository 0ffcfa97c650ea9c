/**
 * The names of the kit's Jobs. A Job's pod template cannot be changed in place (`kubectl apply` of a changed
 * template fails), so a Job is named after what it runs: its component and a hash of its pod template and the
 * image revision. A real change (image, settings, command) makes a new Job; an unchanged kit keeps its Job.
 *
 * Inside the CDK app the template holds CDK token strings (`${Token[TOKEN.123]}`) for deploy-time values, and
 * their numbers come from a process-wide counter: the same kit gets other numbers when more tokens were made
 * first. Hashed as they are, they renamed (and so re-created) the Jobs on every deploy. The hash therefore reads
 * each token as what it stands for (the CDK app's resolver gives its CloudFormation expression), which is the
 * same on every synth and differs when the value refers to something else.
 */
import { createHash } from "node:crypto";

/**
 * Turns the CDK tokens in a value into what they stand for, the same on every synth (the CDK app passes its
 * stack's `resolve`). Without one, values are taken as they are: `npm run synth:k8s` has no tokens.
 */
export type TokenResolver = (value: unknown) => unknown;

const asGiven: TokenResolver = (value) => value;

/** `<component>-<10 hex digits>`: the hash of `content` (the pod template and the image revision). */
export function contentNamed(component: string, content: unknown, resolveTokens: TokenResolver = asGiven): string {
  const hash = createHash("sha256")
    .update(JSON.stringify(resolveTokens(content)))
    .digest("hex")
    .slice(0, 10);
  return `${component}-${hash}`;
}
