/**
 * The versions and images of the third-party software the charts deploy, in one place. Upgrading the
 * Prometheus Operator means: new CRDs on the cluster, `charts/crds/import-crds.ts` rerun, this file updated.
 */
export const prometheusOperatorVersion = "0.93.0";

/** Kubernetes minor version the manifests are validated against (the types of cdk8s-plus-34). */
export const kubernetesVersion = "1.34";

export const images = {
  prometheusOperator: `quay.io/prometheus-operator/prometheus-operator:v${prometheusOperatorVersion}`,
  prometheusConfigReloader: `quay.io/prometheus-operator/prometheus-config-reloader:v${prometheusOperatorVersion}`,
  grafana: "grafana/grafana:12.4.10",
  /** Jaeger v2: the OpenTelemetry-collector-based distribution (v1 reached end of life on 31 Dec 2025). */
  jaeger: "jaegertracing/jaeger:2.20.0",
} as const;

/** The Prometheus Operator custom resources the charts create; typed constructs and schemas exist for these only. */
export const crdKinds = [
  { plural: "prometheuses", kind: "Prometheus" },
  { plural: "servicemonitors", kind: "ServiceMonitor" },
  { plural: "prometheusrules", kind: "PrometheusRule" },
  { plural: "scrapeconfigs", kind: "ScrapeConfig" },
] as const;
