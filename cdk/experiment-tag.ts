/**
 * The tag every resource of an experiment carries (the CDK app tags the whole app with it; the value is the size
 * plan's `experimentId`). A module of its own, importing nothing, so the teardown sweep and preflight read it
 * without loading aws-cdk-lib.
 */
export const experimentTagKey = "anomaly-kit:experiment";
