/**
 * An experiment's plan: each stage's resources and hourly cost, and the estimate for running every stage
 * for a given time. A total that needs a missing price is partial (a lower bound), never silently low.
 */
import { costExclusions, hourlyCost, type CostAssumptions, type HourlyCost } from "./cost-model.ts";
import { priceListFor } from "./price-list.ts";
import { stageResources, type StageResources } from "./stage-resources.ts";
import type { Stage } from "./stages.ts";
import type { SizePlan } from "../../cdk/size/size-plan.ts";

export interface PlannedStage {
  readonly name: string;
  readonly plan: SizePlan;
  readonly resources: StageResources;
  readonly hourly: HourlyCost;
  /** Hours billed for this stage: run time plus overhead (deploy, warm-up, teardown). */
  readonly hours: number;
  /** hourly.perHour × hours; a lower bound when hourly.partial. */
  readonly cost: number;
}

export interface ExperimentPlan {
  readonly hoursPerStage: number;
  readonly overheadHoursPerStage: number;
  readonly priceList: { readonly region: string; readonly asOf: string; readonly source: string } | undefined;
  readonly stages: readonly PlannedStage[];
  readonly total: { readonly cost: number; readonly partial: boolean; readonly missing: readonly string[] };
  readonly largest: { readonly ec2StandardVcpus: number; readonly mskBrokers: number; readonly stage: string };
  readonly excludes: readonly string[];
}

export interface ExperimentPlanOptions extends CostAssumptions {
  readonly hoursPerStage: number;
  readonly overheadHoursPerStage?: number | undefined;
}

export function planExperiment(stages: readonly Stage[], options: ExperimentPlanOptions): ExperimentPlan {
  if (stages.length === 0) throw new Error("an experiment needs at least one stage");
  if (!(options.hoursPerStage > 0)) throw new Error(`hours per stage must be > 0 (got ${options.hoursPerStage})`);
  const overhead = options.overheadHoursPerStage ?? 0;
  if (!(overhead >= 0)) throw new Error(`overhead hours per stage must be >= 0 (got ${overhead})`);
  const planned = stages.map((s): PlannedStage => {
    const hourly = hourlyCost(s.plan, options);
    const hours = options.hoursPerStage + overhead;
    return { name: s.name, plan: s.plan, resources: stageResources(s.plan), hourly, hours, cost: hourly.perHour * hours };
  });
  const missing = [...new Set(planned.flatMap((s) => s.hourly.missing))];
  const byVcpus = planned.reduce((a, b) => (b.resources.ec2StandardVcpus > a.resources.ec2StandardVcpus ? b : a));
  const prices = priceListFor(planned[0]!.plan.region);
  return {
    hoursPerStage: options.hoursPerStage,
    overheadHoursPerStage: overhead,
    priceList: prices && { region: prices.region, asOf: prices.asOf, source: prices.source },
    stages: planned,
    total: { cost: planned.reduce((sum, s) => sum + s.cost, 0), partial: missing.length > 0, missing },
    largest: {
      ec2StandardVcpus: byVcpus.resources.ec2StandardVcpus,
      mskBrokers: Math.max(...planned.map((s) => s.resources.mskBrokers)),
      stage: byVcpus.name,
    },
    excludes: costExclusions,
  };
}
