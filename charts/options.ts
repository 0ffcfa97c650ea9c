/**
 * What the charts need besides the size plan: where Kafka and Cassandra are (cdk/workload-endpoints.ts, the
 * type the EKS stack fills) and which image runs the app. The CDK app passes its resources' attributes (CDK
 * tokens are fine: they are resolved at deploy time); `npm run synth:k8s` passes flags.
 */
import type { WorkloadEndpoints } from "../cdk/workload-endpoints.ts";
import type { TokenResolver } from "./job-name.ts";
import type { DetectorAutoscaling } from "./keda-scaled-object.ts";
import type { ImageLock } from "../cdk/image-lock.ts";
import type { ImageDigests } from "./versions.ts";

export interface AppImage {
  /**
   * The one container image of the detector and the load generator: `name:tag`, `name@sha256:...` or both
   * (checked unless it is a CDK token).
   */
  readonly image: string;
  /** Arguments that select the detector / the load generator (the image's entry point takes a command). */
  readonly detectorArgs: readonly string[];
  readonly loadGeneratorArgs: readonly string[];
  /** Arguments of the one-off command that creates the topics, keyspace and table (the schema Job). */
  readonly schemaArgs: readonly string[];
  /** The image's non-root user id. */
  readonly uid: number;
  /**
   * Changes whenever the image's content changes (its tag), when `image` is a deploy-time token that stays the
   * same text: it goes into the schema Job's name, because a Job's pod template cannot be changed in place.
   */
  readonly revision?: string;
}

export interface ChartOptions {
  readonly endpoints: WorkloadEndpoints;
  readonly app?: Partial<AppImage>;
  /** Fraction of events traced to Jaeger (0 turns tracing off). */
  readonly tracingSampleRatio?: number;
  readonly grafana?: GrafanaOptions;
  /** Digests of the third-party images (charts/versions.ts), over the image lock's; by release tag otherwise. */
  readonly imageDigests?: ImageDigests;
  /**
   * The digests read from the registries (cdk/image-lock.ts).
   * @default images.lock.json
   */
  readonly imageLock?: ImageLock;
  /**
   * The CDK app's reading of its tokens (their CloudFormation expressions), for the Jobs' names, which hash
   * their pod templates (job-name.ts): token strings are numbered differently from one synth to the next.
   */
  readonly resolveTokens?: TokenResolver;
  /**
   * KEDA's settings for lag-based autoscaling of the detector (charts/keda-scaled-object.ts), used when the plan
   * says so (size input `detectorAutoscaling=keda`, which also installs KEDA in the EKS stack). The role is
   * required with MSK IAM auth.
   * @default none: fine while the plan keeps fixed detector pods (the default)
   */
  readonly autoscaling?: DetectorAutoscaling;
}

export interface GrafanaOptions {
  /**
   * Let anyone who reaches Grafana view dashboards without logging in. Default false: the cloud kit requires the
   * admin login (its password is in the `grafana-admin` Secret). For a throwaway cluster of one's own.
   */
  readonly anonymousViewers?: boolean;
}

export const defaultAppImage: AppImage = {
  image: "anomaly-kit:latest",
  detectorArgs: ["detector"],
  loadGeneratorArgs: ["loadgen"],
  schemaArgs: ["schema"],
  // The `node` user of the official Node.js images.
  uid: 1000,
};

/** One traced event in a thousand: enough to follow every stage, little enough for Jaeger's memory bound. */
export const defaultTracingSampleRatio = 0.001;

/** True for a CDK token (an attribute resolved at deploy time), which cannot be checked at synth time. */
export const isUnresolved = (value: string): boolean => value.includes("${Token[");
