/**
 * Names, labels and ports the charts share, so a Service, the ServiceMonitor that selects it and the
 * NetworkPolicy that lets Prometheus reach it all read the same constant.
 */
import { appHttpPort } from "../app/topology.ts";
import { serviceAccounts } from "../cdk/workload-names.ts";

/** The `app.kubernetes.io/part-of` value of everything the kit deploys; the Prometheus CR selects monitors by it. */
export const partOf = "anomaly-kit";

/**
 * The workloads, by their `app.kubernetes.io/name` label (also their object names). The detector's and load
 * generator's are their ServiceAccounts' names, which EKS Pod Identity binds to IAM roles.
 */
export const components = {
  detector: serviceAccounts.detector,
  loadGenerator: serviceAccounts.loadgen,
  /** The one-off Job that creates the topics, keyspace and table before the detectors start. */
  schema: "schema",
  prometheusOperator: "prometheus-operator",
  prometheus: "prometheus",
  grafana: "grafana",
  /** The one-off Job that creates Grafana's admin password Secret in the cluster. */
  grafanaAdminSecret: "grafana-admin-secret",
  jaeger: "jaeger",
} as const;
export type Component = (typeof components)[keyof typeof components];

export type Labels = Readonly<Record<string, string>>;

/** The labels a workload's pods carry and its Service/Deployment select on. */
export const selectorLabels = (component: Component): Labels => ({
  "app.kubernetes.io/name": component,
  "app.kubernetes.io/part-of": partOf,
});

/** Selector labels plus the labels that only describe (they never take part in selection). */
export const objectLabels = (component: Component, extra: Labels = {}): Labels => ({
  ...selectorLabels(component),
  "app.kubernetes.io/managed-by": "cdk8s",
  ...extra,
});

/** Named container/Service ports. A ServiceMonitor names its port; these names are the contract. */
export const portNames = {
  metrics: "metrics",
  http: "http",
  otlpGrpc: "otlp-grpc",
  otlpHttp: "otlp-http",
  ui: "ui",
  health: "health",
} as const;

export const ports = {
  /** The app's /metrics, /healthz, /readyz (app/topology.ts). */
  app: appHttpPort,
  prometheusOperator: 8080,
  prometheus: 9090,
  grafana: 3000,
  jaegerOtlpGrpc: 4317,
  jaegerOtlpHttp: 4318,
  jaegerUi: 16686,
  jaegerMetrics: 8888,
  jaegerHealth: 13133,
  dns: 53,
  kubernetesApi: [443, 6443],
} as const;

/** The Service the operator creates for every Prometheus CR (headless, port 9090 "web"). */
export const prometheusOperatedService = "prometheus-operated";

/** Where the app sends its traces: Jaeger's OTLP/HTTP receiver (the app uses the OTLP/HTTP exporter). */
export const jaegerOtlpHttpUrl = (namespace: string): string => `http://${components.jaeger}.${namespace}.svc:${ports.jaegerOtlpHttp}`;
