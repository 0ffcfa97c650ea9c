/**
 * All of the kit's Kubernetes objects, as cdk8s charts added to one cdk8s App. The CDK app applies each chart
 * with `cluster.addCdk8sChart` (each is one manifest, kept under 200 KB for the kubectl Lambda) after the
 * Prometheus Operator CRDs (Helm chart `prometheus-operator-crds`); `npm run synth:k8s` writes them as plain
 * YAML for `kubectl apply` on any cluster. Both read the same size plan.
 */
import { ApiObject, type App, type Chart } from "cdk8s";
import type { SizePlan } from "../cdk/size/size-plan.ts";
import { workloadNamespace } from "../cdk/workload-names.ts";
import { GrafanaChart } from "./grafana-chart.ts";
import { JaegerChart } from "./jaeger-chart.ts";
import { MonitoringChart } from "./monitoring-chart.ts";
import { NamespaceChart } from "./namespace-chart.ts";
import { defaultAppImage, defaultTracingSampleRatio, isUnresolved, type ChartOptions } from "./options.ts";
import { PipelineChart } from "./pipeline-chart.ts";
import { PrometheusOperatorChart } from "./prometheus-operator-chart.ts";
import { checkImageReference, lockedImageDigests, resolveImages } from "./versions.ts";

export type { ChartOptions, AppImage, GrafanaOptions } from "./options.ts";
export type { ImageDigests } from "./versions.ts";
export type { TokenResolver } from "./job-name.ts";

export interface KitCharts {
  readonly namespace: NamespaceChart;
  readonly prometheusOperator: PrometheusOperatorChart;
  /** Needs the Prometheus Operator CRDs installed (it holds the custom resources). */
  readonly monitoring: MonitoringChart;
  readonly jaeger: JaegerChart;
  readonly grafana: GrafanaChart;
  readonly pipeline: PipelineChart;
}

/**
 * The namespace of an experiment's charts: the one the EKS stack's Pod Identity associations name
 * (cdk/workload-names.ts decides it for both).
 */
export const namespaceOf = (plan: SizePlan): string => workloadNamespace(plan);

/**
 * Adds every chart to `app` and returns them. Dependencies (`chart.addDependency`) give the apply order:
 * namespace → operator → monitoring; namespace → Jaeger → Grafana, pipeline. The CDK app should mirror
 * them between the KubernetesManifests (and make `monitoring` depend on the CRD Helm chart).
 */
export function buildCharts(app: App, plan: SizePlan, options: ChartOptions): KitCharts {
  const namespace = namespaceOf(plan);
  const appImage = { ...defaultAppImage, ...options.app };
  if (!isUnresolved(appImage.image)) checkImageReference("app.image", appImage.image);
  // The image lock's digests by default (images.lock.json); digests given here win per image.
  const images = resolveImages({ ...lockedImageDigests(options.imageLock), ...options.imageDigests });
  const ns = new NamespaceChart(app, "namespace", { namespace });
  const prometheusOperator = new PrometheusOperatorChart(app, "prometheus-operator", { namespace, images });
  const monitoring = new MonitoringChart(app, "monitoring", { namespace, plan, endpoints: options.endpoints, images });
  const jaeger = new JaegerChart(app, "jaeger", { namespace, images });
  const grafana = new GrafanaChart(app, "grafana", {
    namespace,
    plan,
    app: appImage,
    images,
    anonymousViewers: options.grafana?.anonymousViewers ?? false,
    resolveTokens: options.resolveTokens,
  });
  const pipeline = new PipelineChart(app, "pipeline", {
    namespace,
    plan,
    endpoints: options.endpoints,
    app: appImage,
    tracingSampleRatio: options.tracingSampleRatio ?? defaultTracingSampleRatio,
    resolveTokens: options.resolveTokens,
    ...(options.autoscaling === undefined ? {} : { autoscaling: options.autoscaling }),
  });
  for (const chart of [prometheusOperator, monitoring, jaeger, grafana, pipeline] as Chart[]) chart.addDependency(ns);
  monitoring.addDependency(prometheusOperator);
  grafana.addDependency(jaeger);
  pipeline.addDependency(jaeger);
  for (const chart of [ns, prometheusOperator, monitoring, jaeger, grafana, pipeline] as Chart[]) serviceAccountsFirst(chart);
  return { namespace: ns, prometheusOperator, monitoring, jaeger, grafana, pipeline };
}

/**
 * Orders each ServiceAccount before the objects in the same chart whose pods use it (cdk8s writes an object
 * after those it depends on). `kubectl apply` creates objects in manifest order: a Job listed before its
 * ServiceAccount had its first pod refused ("serviceaccount not found"), seen in the rehearsal.
 */
function serviceAccountsFirst(chart: Chart): void {
  const objects = chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
  const accounts = new Map(objects.filter((o) => o.kind === "ServiceAccount").map((o) => [o.name, o]));
  for (const o of objects) {
    const spec = (o.toJson() as { spec?: PodSpecHolder }).spec;
    const name = spec?.template?.spec?.serviceAccountName ?? spec?.jobTemplate?.spec?.template?.spec?.serviceAccountName;
    const account = name === undefined ? undefined : accounts.get(name);
    // Only where the account would come later: a dependency reorders its whole group, so none is added elsewhere.
    if (account !== undefined && objects.indexOf(account) > objects.indexOf(o)) o.addDependency(account);
  }
}

type PodSpecHolder = {
  template?: { spec?: { serviceAccountName?: string } };
  jobTemplate?: { spec?: { template?: { spec?: { serviceAccountName?: string } } } };
};
