/**
 * The CDK app: four stacks built from one SizePlan, every resource tagged with the experiment id, and
 * cdk-nag's AwsSolutions checks run at synth (an unacknowledged finding fails synth).
 *
 * Stack dependencies (and so the reverse deletion order of `cdk destroy`):
 *   Network ← Kafka, Cassandra ← Eks
 * Eks is deleted first (its chart manifests before its nodes and cluster), the data stacks next, the VPC last.
 */
import { Aspects, Tags, Validations, type App, type Environment } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { CassandraStack } from "./cassandra-stack.ts";
import type { ChartsBuilder } from "./eks/chart-manifests.ts";
import { EksStack } from "./eks-stack.ts";
import { KafkaStack } from "./kafka-stack.ts";
import { NetworkStack } from "./network-stack.ts";
import { acknowledgeLibraryFindings } from "./nag-acknowledgements.ts";
import { DeleteOnTeardown } from "./teardown.ts";
import type { SizePlan } from "./size/size-plan.ts";
import type { AccessInput } from "./access-input.ts";
import { EndpointAccessChecks } from "./endpoint-access-check.ts";
import type { ImageLock } from "./image-lock.ts";
import { experimentTagKey } from "./experiment-tag.ts";
import { kitStackNames } from "./stack-names.ts";

export interface KitOptions {
  readonly imageDirectory: string;
  /** The image lock the app image's build reads for its base (default: images.lock.json). */
  readonly imageLock?: ImageLock;
  /** Who administers the cluster and from where its API is reachable (cdk/access-input.ts). */
  readonly access: AccessInput;
  readonly charts?: ChartsBuilder;
  /** Run cdk-nag's AwsSolutions pack and the kit's endpoint check (default true). */
  readonly nag?: boolean;
}

export interface KitStacks {
  readonly network: NetworkStack;
  readonly kafka: KafkaStack;
  readonly cassandra: CassandraStack;
  readonly eks: EksStack;
}

export function buildKit(app: App, plan: SizePlan, options: KitOptions): KitStacks {
  // Account from the deploying credentials; the region and zones are explicit, so synth needs no lookup.
  const env: Environment = { region: plan.region };
  const names = kitStackNames(plan.experimentId);
  const network = new NetworkStack(app, names.network, { env, plan });
  const kafka = new KafkaStack(app, names.kafka, { env, plan, network });
  const cassandra = new CassandraStack(app, names.cassandra, { env, plan, network });
  const eks = new EksStack(app, names.eks, {
    env,
    plan,
    network,
    kafka,
    cassandra,
    access: options.access,
    imageDirectory: options.imageDirectory,
    ...(options.imageLock === undefined ? {} : { imageLock: options.imageLock }),
    ...(options.charts === undefined ? {} : { charts: options.charts }),
  });
  Tags.of(app).add(experimentTagKey, plan.experimentId);
  Aspects.of(app).add(new DeleteOnTeardown());
  for (const stack of [network, kafka, cassandra, eks]) acknowledgeLibraryFindings(stack);
  // cdk-nag's EKS rules do not match aws-eks-v2 clusters; the kit's own check covers the endpoint.
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new EndpointAccessChecks());
  return { network, kafka, cassandra, eks };
}
