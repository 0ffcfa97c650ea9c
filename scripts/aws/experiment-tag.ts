/**
 * The tag every resource of an experiment carries: the CDK app's key (cdk/app.ts tags the whole app with
 * it), value the size plan's `experimentId`. Sweep and preflight find our resources by it.
 */
export { experimentTagKey } from "../../cdk/experiment-tag.ts";
