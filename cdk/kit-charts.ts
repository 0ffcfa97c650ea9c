/**
 * The one module of cdk/ that imports charts/: the ChartsBuilder that cdk/main.ts plugs into the EKS stack.
 * The stack hands over the charts' own endpoints type (cdk/workload-endpoints.ts) and image fields, so nothing
 * is renamed here. Deploy-time values (bootstrap brokers, image URI) stay CDK tokens inside the manifests; the
 * stack's token resolver only names the Jobs (charts/job-name.ts).
 */
import type { Chart } from "cdk8s";
import { buildCharts } from "../charts/index.ts";
import type { ChartsBuilder } from "./eks/chart-manifests.ts";

export const kitCharts: ChartsBuilder = (app, { plan, endpoints, image, resolveTokens, detectorRoleArn }) =>
  Object.values(buildCharts(app, plan, { endpoints, app: image, resolveTokens, autoscaling: { roleArn: detectorRoleArn } })) as Chart[];
