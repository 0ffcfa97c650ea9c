/**
 * The cdk8s charts on the cluster: each chart the builder returns becomes one manifest applied by the
 * kubectl provider (`addCdk8sChart`), and the charts' own order (namespace first, custom resources after their
 * operator) becomes the order of their manifests. The builder is given, not imported: the stacks do not know
 * charts/ (cdk/kit-charts.ts is the one builder, plugged in by cdk/main.ts).
 *
 * Teardown: every manifest depends on what the workloads run on (nodes, add-ons, CRDs), so CloudFormation
 * deletes the manifests (kubectl delete, while the nodes still run the controllers) before those.
 */
import { Stack } from "aws-cdk-lib";
import type * as eks from "aws-cdk-lib/aws-eks-v2";
import * as cdk8s from "cdk8s";
import type { Construct, IDependable } from "constructs";
import type { SizePlan } from "../size/size-plan.ts";
import type { WorkloadEndpoints } from "../workload-endpoints.ts";
import { ParentScoped } from "./parent-scoped.ts";

/** The image the stack built for the detector and load generator. */
export interface WorkloadImage {
  /** Container image URI (ECR; a deploy-time token). */
  readonly image: string;
  /** The image's tag (its asset hash): known at synth, unlike the URI; changes with the image's content. */
  readonly revision: string;
}

/**
 * Turns the CDK tokens in a value into their CloudFormation expressions. A token's string form
 * (`${Token[TOKEN.123]}`) is numbered by a process-wide counter, so it differs between synths of the same
 * app; the expression does not. The charts hash their Jobs' pod templates through it (charts/job-name.ts).
 */
export type TokenResolver = (value: unknown) => unknown;

/** What the charts are built from: the plan and what the stack made for the workloads. */
export interface ChartsInput {
  readonly plan: SizePlan;
  readonly endpoints: WorkloadEndpoints;
  readonly image: WorkloadImage;
  readonly resolveTokens: TokenResolver;
  /** The detector pods' IAM role: KEDA assumes it to read their lag when the plan scales them (a token). */
  readonly detectorRoleArn: string;
}

/** Builds the cdk8s charts of a plan in `app`. */
export type ChartsBuilder = (app: cdk8s.App, input: ChartsInput) => readonly cdk8s.Chart[];

export interface ChartManifestsProps {
  /** The cluster the manifests are applied to. */
  readonly cluster: eks.Cluster;
  /** Builds the charts. */
  readonly charts: ChartsBuilder;
  /** The size plan the charts are built for. */
  readonly plan: SizePlan;
  /** Where the workloads find Kafka and Cassandra. */
  readonly endpoints: WorkloadEndpoints;
  /** The detector and load generator image. */
  readonly image: WorkloadImage;
  /** The detector pods' IAM role (ChartsInput.detectorRoleArn). */
  readonly detectorRoleArn: string;
  /** What every manifest is applied after (and deleted before). */
  readonly after: readonly IDependable[];
}

export class ChartManifests extends ParentScoped {
  /** One manifest per chart, in the builder's order. */
  readonly manifests: readonly eks.KubernetesManifest[];

  constructor(scope: Construct, id: string, props: ChartManifestsProps) {
    super(scope, id);
    const byChart = new Map<cdk8s.Chart, eks.KubernetesManifest>();
    // Resolved in the stack that applies the manifests; only read, for hashes (nothing of it is synthesized).
    const resolveTokens: TokenResolver = (value) => Stack.of(this).resolve(value);
    const { plan, endpoints, image, detectorRoleArn } = props;
    for (const chart of props.charts(new cdk8s.App(), { plan, endpoints, image, resolveTokens, detectorRoleArn })) {
      const manifest = props.cluster.addCdk8sChart(chart.node.id, chart);
      manifest.node.addDependency(...props.after);
      byChart.set(chart, manifest);
    }
    for (const [chart, manifest] of byChart) {
      for (const dependency of chart.node.dependencies) {
        const other = dependency instanceof cdk8s.Chart ? byChart.get(dependency) : undefined;
        if (other !== undefined) manifest.node.addDependency(other);
      }
    }
    this.manifests = [...byChart.values()];
  }
}
