/**
 * Jaeger v2 (built on the OpenTelemetry Collector; v1 is end of life): one pod receiving OTLP from the app
 * (gRPC 4317, HTTP 4318), keeping traces in memory with a bound, serving the UI on 16686 and its own metrics
 * on 8888.
 */
import { Chart, type ChartProps } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { stringify } from "yaml";
import { allowOnly, clusterDns, podsOf } from "./network-policy.ts";
import { singlePodDeployment, singlePodIdentity } from "./single-pod.ts";
import { components, portNames, ports } from "./names.ts";
import { burstableResources, scratchVolume } from "./pod-security.ts";
import type { ResolvedImages } from "./versions.ts";

/** The jaeger image's non-root user. */
const jaegerUid = 10001;

export const jaegerSettings = {
  /** Traces kept in memory; the oldest are dropped beyond it. With ~50 spans a trace this fits the memory limit. */
  maxTraces: 50_000,
  resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "2Gi" } },
} as const;

const storeName = "memstore";
const configFile = "config.yaml";
const configDir = "/etc/jaeger";

/** The collector configuration: OTLP in, batch, memory storage, query UI, health check, metrics. */
export function jaegerConfig(): Record<string, unknown> {
  const listen = (port: number) => `0.0.0.0:${port}`;
  return {
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: {
        traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] },
      },
      telemetry: {
        resource: { "service.name": "jaeger" },
        metrics: {
          level: "detailed",
          readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: ports.jaegerMetrics } } } }],
        },
        logs: { level: "info" },
      },
    },
    extensions: {
      healthcheckv2: {
        use_v2: true,
        http: { endpoint: listen(ports.jaegerHealth), status: { enabled: true, path: "/status" } },
      },
      jaeger_query: {
        storage: { traces: storeName },
        http: { endpoint: listen(ports.jaegerUi) },
      },
      jaeger_storage: { backends: { [storeName]: { memory: { max_traces: jaegerSettings.maxTraces } } } },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: listen(ports.jaegerOtlpGrpc) },
          http: { endpoint: listen(ports.jaegerOtlpHttp) },
        },
      },
    },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: storeName } },
  };
}

export interface JaegerChartProps extends ChartProps {
  readonly namespace: string;
  readonly images: ResolvedImages;
}

export class JaegerChart extends Chart {
  readonly service: k8s.KubeService;
  readonly deployment: k8s.KubeDeployment;

  constructor(scope: Construct, id: string, props: JaegerChartProps) {
    super(scope, id, props);
    const { namespace, images } = props;
    const name = components.jaeger;
    const { labels, selector } = singlePodIdentity(this, name, namespace);
    const config = new k8s.KubeConfigMap(this, "config", {
      metadata: { name, namespace, labels },
      data: { [configFile]: stringify(jaegerConfig()) },
    });

    const containerPorts: k8s.ContainerPort[] = [
      { name: portNames.otlpGrpc, containerPort: ports.jaegerOtlpGrpc, protocol: "TCP" },
      { name: portNames.otlpHttp, containerPort: ports.jaegerOtlpHttp, protocol: "TCP" },
      { name: portNames.ui, containerPort: ports.jaegerUi, protocol: "TCP" },
      { name: portNames.metrics, containerPort: ports.jaegerMetrics, protocol: "TCP" },
      { name: portNames.health, containerPort: ports.jaegerHealth, protocol: "TCP" },
    ];
    const health = (periodSeconds: number): k8s.Probe => ({
      httpGet: { path: "/status", port: k8s.IntOrString.fromString(portNames.health) },
      periodSeconds,
      failureThreshold: 3,
    });
    // Memory storage: one pod holds all traces.
    this.deployment = singlePodDeployment(this, {
      name,
      namespace,
      uid: jaegerUid,
      containers: [
        {
          name,
          image: images.jaeger,
          args: [`--config=${configDir}/${configFile}`],
          ports: containerPorts,
          resources: burstableResources(jaegerSettings.resources.requests, jaegerSettings.resources.limits),
          readinessProbe: health(5),
          livenessProbe: health(15),
          volumeMounts: [
            { name: "config", mountPath: configDir, readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
          ],
        },
      ],
      volumes: [{ name: "config", configMap: { name: config.name } }, scratchVolume("tmp", "64Mi")],
    });

    this.service = new k8s.KubeService(this, "service", {
      metadata: { name, namespace, labels },
      spec: {
        selector,
        ports: containerPorts
          .filter((p) => p.name !== portNames.health)
          .map((p) => ({ name: p.name, port: p.containerPort, targetPort: k8s.IntOrString.fromString(p.name!), protocol: "TCP" })),
      },
    });

    const app = [podsOf(components.detector), podsOf(components.loadGenerator)];
    allowOnly(this, namespace, name, {
      ingress: [
        { peers: app, tcp: [ports.jaegerOtlpGrpc, ports.jaegerOtlpHttp] },
        // The UI's API: from Grafana's Jaeger data source. The user's port-forward is not subject to NetworkPolicy.
        { peers: [podsOf(components.grafana)], tcp: [ports.jaegerUi] },
        { peers: [podsOf(components.prometheus)], tcp: [ports.jaegerMetrics] },
      ],
      egress: [clusterDns],
    });
  }
}
