/**
 * All of the kit's Kubernetes objects, as cdk8s charts added to one cdk8s App. The CDK app applies each chart
 * with `cluster.addCdk8sChart` (each is one manifest, kept under 200 KB for the kubectl Lambda) after the
 * Prometheus Operator CRDs (Helm chart `prometheus-operator-crds`); `npm run synth:k8s` writes them as plain
 * YAML for `kubectl apply` on any cluster. Both read the same size plan.
 */
import type { App, Chart } from "cdk8s";
import type { SizePlan } from "../cdk/size/size-plan.ts";
import { GrafanaChart } from "./grafana-chart.ts";
import { JaegerChart } from "./jaeger-chart.ts";
import { MonitoringChart } from "./monitoring-chart.ts";
import { NamespaceChart } from "./namespace-chart.ts";
import { defaultAppImage, defaultTracingSampleRatio, isUnresolved, type ChartOptions } from "./options.ts";
import { PipelineChart } from "./pipeline-chart.ts";
import { PrometheusOperatorChart } from "./prometheus-operator-chart.ts";
import { checkImageReference, resolveImages } from "./versions.ts";

export type { ChartOptions, PipelineEndpoints, AppImage, GrafanaOptions } from "./options.ts";
export type { ImageDigests } from "./versions.ts";

export interface KitCharts {
  readonly namespace: NamespaceChart;
  readonly prometheusOperator: PrometheusOperatorChart;
  /** Needs the Prometheus Operator CRDs installed (it holds the custom resources). */
  readonly monitoring: MonitoringChart;
  readonly jaeger: JaegerChart;
  readonly grafana: GrafanaChart;
  readonly pipeline: PipelineChart;
}

/** The namespace of an experiment: its id, so two experiments can share a cluster. */
export const namespaceOf = (plan: SizePlan): string => plan.experimentId;

/**
 * Adds every chart to `app` and returns them. Dependencies (`chart.addDependency`) give the apply order:
 * namespace → operator → monitoring; namespace → Jaeger → Grafana, pipeline. The CDK app should mirror
 * them between the KubernetesManifests (and make `monitoring` depend on the CRD Helm chart).
 */
export function buildCharts(app: App, plan: SizePlan, options: ChartOptions): KitCharts {
  const namespace = namespaceOf(plan);
  const appImage = { ...defaultAppImage, ...options.app };
  if (!isUnresolved(appImage.image)) checkImageReference("app.image", appImage.image);
  const images = resolveImages(options.imageDigests);
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
  });
  const pipeline = new PipelineChart(app, "pipeline", {
    namespace,
    plan,
    endpoints: options.endpoints,
    app: appImage,
    tracingSampleRatio: options.tracingSampleRatio ?? defaultTracingSampleRatio,
  });
  for (const chart of [prometheusOperator, monitoring, jaeger, grafana, pipeline] as Chart[]) chart.addDependency(ns);
  monitoring.addDependency(prometheusOperator);
  grafana.addDependency(jaeger);
  pipeline.addDependency(jaeger);
  return { namespace: ns, prometheusOperator, monitoring, jaeger, grafana, pipeline };
}
