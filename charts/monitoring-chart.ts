/**
 * Prometheus, run by the operator: the Prometheus custom resource with its ServiceAccount and namespaced RBAC,
 * ServiceMonitors for the kit's Services, ScrapeConfigs for the servers outside the cluster (MSK open
 * monitoring, Cassandra exporters) when their addresses are known, and the alert rules.
 */
import { Chart, type ChartProps } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { cassandraPorts, kafkaPorts } from "../cdk/servers/ports.ts";
import type { SizePlan } from "../cdk/size/size-plan.ts";
import type { WorkloadEndpoints } from "../cdk/workload-endpoints.ts";
import { alertRules } from "./alert-rules.ts";
import {
  Prometheus,
  PrometheusSpecResourcesLimits,
  PrometheusSpecResourcesRequests,
  PrometheusSpecStorageEmptyDirSizeLimit,
} from "./imports/prometheuses.ts";
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from "./imports/prometheusrules.ts";
import { ScrapeConfig } from "./imports/scrapeconfigs.ts";
import { ServiceMonitor } from "./imports/servicemonitors.ts";
import { allowOnly, cidr, clusterDns, kubernetesApi, podsOf, type Peer } from "./network-policy.ts";
import { components, objectLabels, partOf, portNames, ports, selectorLabels, type Component, type Labels } from "./names.ts";
import type { ResolvedImages } from "./versions.ts";
import { restrictedPodSecurityContext } from "./pod-security.ts";

/** Prometheus' image user. */
const prometheusUid = 1000;
/** The kit's monitoring objects carry this label; the Prometheus CR selects exactly those. */
const monitoredBy = { "app.kubernetes.io/part-of": partOf };

export const prometheusSettings = {
  replicas: 1,
  scrapeInterval: "15s",
  retention: "7d",
  // emptyDir storage: no EBS volume outlives the experiment and blocks teardown.
  retentionSize: "8GB",
  emptyDirSizeLimit: "10Gi",
  resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
} as const;

export interface MonitoringChartProps extends ChartProps {
  readonly namespace: string;
  readonly plan: SizePlan;
  readonly endpoints: WorkloadEndpoints;
  readonly images: ResolvedImages;
}

/** What a ServiceMonitor points at, for the chart and for the test that proves it selects a Service. */
export interface MonitorTarget {
  readonly component: Component;
  readonly selector: Labels;
  readonly port: string;
}

export class MonitoringChart extends Chart {
  readonly prometheus: Prometheus;
  readonly serviceMonitors: ServiceMonitor[] = [];
  readonly scrapeConfigs: ScrapeConfig[] = [];
  readonly rules: PrometheusRule;

  constructor(scope: Construct, id: string, props: MonitoringChartProps) {
    super(scope, id, props);
    const { namespace, plan, endpoints } = props;
    const name = components.prometheus;
    const labels = { ...objectLabels(name) };

    new k8s.KubeServiceAccount(this, "service-account", { metadata: { name, namespace, labels } });
    // Namespaced, unlike upstream's ClusterRole: this Prometheus discovers targets in its own namespace only.
    new k8s.KubeRole(this, "role", {
      metadata: { name, namespace, labels },
      rules: [
        { apiGroups: [""], resources: ["services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
      ],
    });
    new k8s.KubeRoleBinding(this, "role-binding", {
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    });

    const s = prometheusSettings;
    this.prometheus = new Prometheus(this, "prometheus", {
      metadata: { name, namespace, labels },
      spec: {
        replicas: s.replicas,
        // Only with a digest (charts/versions.ts): otherwise the operator's own default Prometheus image.
        ...(props.images.prometheus === undefined ? {} : { image: props.images.prometheus }),
        serviceAccountName: name,
        podMetadata: { labels: { ...selectorLabels(name) } },
        securityContext: restrictedPodSecurityContext(prometheusUid),
        scrapeInterval: s.scrapeInterval,
        evaluationInterval: s.scrapeInterval,
        retention: s.retention,
        retentionSize: s.retentionSize,
        storage: { emptyDir: { sizeLimit: PrometheusSpecStorageEmptyDirSizeLimit.fromString(s.emptyDirSizeLimit) } },
        resources: {
          requests: {
            cpu: PrometheusSpecResourcesRequests.fromString(s.resources.requests.cpu),
            memory: PrometheusSpecResourcesRequests.fromString(s.resources.requests.memory),
          },
          limits: { memory: PrometheusSpecResourcesLimits.fromString(s.resources.limits.memory) },
        },
        externalLabels: { experiment: plan.experimentId },
        serviceMonitorSelector: { matchLabels: monitoredBy },
        ruleSelector: { matchLabels: monitoredBy },
        scrapeConfigSelector: { matchLabels: monitoredBy },
      },
    });

    for (const target of monitorTargets()) {
      this.serviceMonitors.push(
        new ServiceMonitor(this, `${target.component}-service-monitor`, {
          metadata: { name: target.component, namespace, labels: { ...objectLabels(target.component), ...monitoredBy } },
          spec: {
            selector: { matchLabels: { ...target.selector } },
            endpoints: [{ port: target.port, interval: s.scrapeInterval }],
          },
        }),
      );
    }

    const staticScrape = (id: string, hosts: readonly string[], port: number, server: string) =>
      new ScrapeConfig(this, id, {
        metadata: { name: id, namespace, labels: { ...monitoredBy, "app.kubernetes.io/managed-by": "cdk8s" } },
        spec: {
          scrapeInterval: s.scrapeInterval,
          staticConfigs: [{ targets: hosts.map((h) => `${h}:${port}`), labels: { server } }],
        },
      });
    if (endpoints.kafkaMonitoringHosts !== undefined && endpoints.kafkaMonitoringHosts.length > 0) {
      const hosts = endpoints.kafkaMonitoringHosts;
      this.scrapeConfigs.push(staticScrape("msk-jmx-exporter", hosts, kafkaPorts.mskJmxExporter, "kafka"));
      this.scrapeConfigs.push(staticScrape("msk-node-exporter", hosts, kafkaPorts.mskNodeExporter, "kafka"));
    }
    if (endpoints.cassandraExporterHosts !== undefined && endpoints.cassandraExporterHosts.length > 0) {
      this.scrapeConfigs.push(staticScrape("cassandra-exporter", endpoints.cassandraExporterHosts, cassandraPorts.exporter, "cassandra"));
    }

    this.rules = new PrometheusRule(this, "rules", {
      metadata: { name: "anomaly-pipeline", namespace, labels: { ...labels, ...monitoredBy } },
      spec: {
        groups: [
          {
            name: "anomaly-pipeline",
            rules: alertRules(plan).map((r) => ({
              alert: r.alert,
              expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr),
              for: r.for,
              labels: { severity: r.severity },
              annotations: { summary: r.summary, description: r.description },
            })),
          },
        ],
      },
    });

    const dataPlane: Peer[] = (endpoints.dataPlaneCidrs ?? []).map(cidr);
    allowOnly(this, namespace, name, {
      ingress: [{ peers: [podsOf(components.grafana)], tcp: [ports.prometheus] }],
      egress: [
        clusterDns,
        kubernetesApi,
        { peers: [podsOf(components.detector), podsOf(components.loadGenerator)], tcp: [ports.app] },
        { peers: [podsOf(components.prometheusOperator)], tcp: [ports.prometheusOperator] },
        { peers: [podsOf(components.jaeger)], tcp: [ports.jaegerMetrics] },
        { peers: dataPlane, tcp: [kafkaPorts.mskJmxExporter, kafkaPorts.mskNodeExporter, cassandraPorts.exporter] },
      ],
    });
  }
}

/** The Services Prometheus scrapes, by the labels and port name their ServiceMonitors select. */
export function monitorTargets(): MonitorTarget[] {
  return [
    { component: components.detector, selector: selectorLabels(components.detector), port: portNames.metrics },
    { component: components.loadGenerator, selector: selectorLabels(components.loadGenerator), port: portNames.metrics },
    { component: components.jaeger, selector: selectorLabels(components.jaeger), port: portNames.metrics },
    {
      component: components.prometheusOperator,
      selector: { ...selectorLabels(components.prometheusOperator), "app.kubernetes.io/component": "controller" },
      port: portNames.http,
    },
  ];
}
