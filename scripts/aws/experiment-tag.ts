/**
 * The tag every resource of an experiment carries: key `experiment-id`, value the size plan's
 * `experimentId`. The CDK app tags with the same key; sweep and preflight find our resources by it.
 * (Kept here until the CDK app exports its own constant; then import that one instead.)
 */
export const experimentTagKey = "experiment-id";
