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
import { EksStack, type ChartsBuilder } from "./eks-stack.ts";
import { KafkaStack } from "./kafka-stack.ts";
import { NetworkStack } from "./network-stack.ts";
import { acknowledgeLibraryFindings } from "./nag-acknowledgements.ts";
import { DeleteOnTeardown } from "./teardown.ts";
import type { SizePlan } from "./size/size-plan.ts";
import { experimentTagKey } from "./experiment-tag.ts";

export interface KitOptions {
  readonly imageDirectory: string;
  readonly charts?: ChartsBuilder;
  /** Run cdk-nag's AwsSolutions pack (default true). */
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
  const prefix = `${plan.experimentId}`;
  const network = new NetworkStack(app, `${prefix}-network`, { env, plan });
  const kafka = new KafkaStack(app, `${prefix}-kafka`, { env, plan, network });
  const cassandra = new CassandraStack(app, `${prefix}-cassandra`, { env, plan, network });
  const eks = new EksStack(app, `${prefix}-eks`, {
    env,
    plan,
    network,
    kafka,
    cassandra,
    imageDirectory: options.imageDirectory,
    ...(options.charts === undefined ? {} : { charts: options.charts }),
  });
  Tags.of(app).add(experimentTagKey, plan.experimentId);
  Aspects.of(app).add(new DeleteOnTeardown());
  for (const stack of [network, kafka, cassandra, eks]) acknowledgeLibraryFindings(stack);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { network, kafka, cassandra, eks };
}
