/**
 * Grafana with its data sources (Prometheus, Jaeger) and the experiment dashboard, all provisioned from
 * ConfigMaps: nothing to click before the first look. The `admin` login's password comes from a Secret made in
 * the cluster (grafana-admin-secret.ts); anonymous viewers only when the option asks for them. Nothing in the
 * cluster needs to connect to Grafana: the user reaches it with `kubectl port-forward svc/grafana 3000`, which
 * enters the pod through the kubelet and is not subject to NetworkPolicy, so its policy admits no peer at all.
 */
import { Chart, type ChartProps } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { stringify } from "yaml";
import type { SizePlan } from "../cdk/size/size-plan.ts";
import { dashboard, dashboardUid, prometheusDatasourceUid } from "./dashboard.ts";
import { grafanaAdmin, grafanaAdminSecretJob } from "./grafana-admin-secret.ts";
import type { TokenResolver } from "./job-name.ts";
import { allowOnly, clusterDns, podsOf } from "./network-policy.ts";
import { singlePodDeployment, singlePodIdentity } from "./single-pod.ts";
import { components, portNames, ports, prometheusOperatedService } from "./names.ts";
import { burstableResources, scratchVolume } from "./pod-security.ts";
import type { AppImage } from "./options.ts";
import type { ResolvedImages } from "./versions.ts";

/** The grafana image's user. */
const grafanaUid = 472;
const provisioningDir = "/etc/grafana/provisioning";
const dashboardsDir = "/etc/grafana/dashboards";
const adminSecretDir = "/etc/grafana/admin";

export const grafanaDatasources = (namespace: string) => ({
  apiVersion: 1,
  datasources: [
    {
      name: "Prometheus",
      uid: prometheusDatasourceUid,
      type: "prometheus",
      access: "proxy",
      url: `http://${prometheusOperatedService}.${namespace}.svc:${ports.prometheus}`,
      isDefault: true,
      editable: false,
      jsonData: { timeInterval: "15s" },
    },
    {
      name: "Jaeger",
      uid: "jaeger",
      type: "jaeger",
      access: "proxy",
      url: `http://${components.jaeger}.${namespace}.svc:${ports.jaegerUi}`,
      editable: false,
    },
  ],
});

export const grafanaDashboardProviders = () => ({
  apiVersion: 1,
  providers: [
    {
      name: "anomaly-kit",
      folder: "Anomaly detection",
      type: "file",
      disableDeletion: true,
      allowUiUpdates: false,
      options: { path: dashboardsDir },
    },
  ],
});

export interface GrafanaChartProps extends ChartProps {
  readonly namespace: string;
  readonly plan: SizePlan;
  /** The kit's image, which runs the Job that makes the admin password Secret. */
  readonly app: AppImage;
  readonly images: ResolvedImages;
  /** Anonymous users may view (GrafanaOptions.anonymousViewers). */
  readonly anonymousViewers: boolean;
  /** For the admin Secret Job's name (ChartOptions.resolveTokens). */
  readonly resolveTokens?: TokenResolver;
}

export class GrafanaChart extends Chart {
  readonly service: k8s.KubeService;
  readonly deployment: k8s.KubeDeployment;
  readonly dashboardConfigMap: k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: GrafanaChartProps) {
    super(scope, id, props);
    const { namespace, plan, app } = props;
    const name = components.grafana;
    const { labels, selector } = singlePodIdentity(this, name, namespace);
    const datasources = new k8s.KubeConfigMap(this, "datasources", {
      metadata: { name: `${name}-datasources`, namespace, labels },
      data: { "datasources.yaml": stringify(grafanaDatasources(namespace)) },
    });
    const providers = new k8s.KubeConfigMap(this, "dashboard-providers", {
      metadata: { name: `${name}-dashboard-providers`, namespace, labels },
      data: { "dashboards.yaml": stringify(grafanaDashboardProviders()) },
    });
    this.dashboardConfigMap = new k8s.KubeConfigMap(this, "dashboards", {
      metadata: { name: `${name}-dashboards`, namespace, labels },
      data: { [`${dashboardUid}.json`]: JSON.stringify(dashboard(plan), null, 1) },
    });

    this.deployment = singlePodDeployment(this, {
      name,
      namespace,
      uid: grafanaUid,
      containers: [
        {
          name,
          image: props.images.grafana,
          env: [
            { name: "GF_SECURITY_ADMIN_USER", value: grafanaAdmin.user },
            // Read from the mounted Secret (Grafana's __FILE convention), so the value is in no env listing.
            { name: "GF_SECURITY_ADMIN_PASSWORD__FILE", value: `${adminSecretDir}/${grafanaAdmin.secretKey}` },
            { name: "GF_AUTH_ANONYMOUS_ENABLED", value: String(props.anonymousViewers) },
            ...(props.anonymousViewers ? [{ name: "GF_AUTH_ANONYMOUS_ORG_ROLE", value: "Viewer" }] : []),
            { name: "GF_LOG_MODE", value: "console" },
            { name: "GF_ANALYTICS_REPORTING_ENABLED", value: "false" },
            { name: "GF_ANALYTICS_CHECK_FOR_UPDATES", value: "false" },
            { name: "GF_PATHS_PROVISIONING", value: provisioningDir },
            { name: "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", value: `${dashboardsDir}/${dashboardUid}.json` },
          ],
          ports: [{ name: portNames.http, containerPort: ports.grafana, protocol: "TCP" }],
          resources: burstableResources({ cpu: "100m", memory: "256Mi" }, { memory: "512Mi" }),
          readinessProbe: { httpGet: { path: "/api/health", port: k8s.IntOrString.fromString(portNames.http) }, periodSeconds: 10 },
          livenessProbe: {
            httpGet: { path: "/api/health", port: k8s.IntOrString.fromString(portNames.http) },
            periodSeconds: 30,
            initialDelaySeconds: 30,
          },
          volumeMounts: [
            { name: "data", mountPath: "/var/lib/grafana" },
            { name: "tmp", mountPath: "/tmp" },
            { name: "logs", mountPath: "/var/log/grafana" },
            { name: "datasources", mountPath: `${provisioningDir}/datasources`, readOnly: true },
            { name: "dashboard-providers", mountPath: `${provisioningDir}/dashboards`, readOnly: true },
            { name: "dashboards", mountPath: dashboardsDir, readOnly: true },
            { name: "admin", mountPath: adminSecretDir, readOnly: true },
          ],
        },
      ],
      volumes: [
        scratchVolume("data", "1Gi"),
        scratchVolume("tmp", "64Mi"),
        scratchVolume("logs", "64Mi"),
        { name: "datasources", configMap: { name: datasources.name } },
        { name: "dashboard-providers", configMap: { name: providers.name } },
        { name: "dashboards", configMap: { name: this.dashboardConfigMap.name } },
        // Not optional: the pod waits (ContainerCreating) until the Job has made the Secret.
        {
          name: "admin",
          secret: { secretName: grafanaAdmin.secretName, items: [{ key: grafanaAdmin.secretKey, path: grafanaAdmin.secretKey }] },
        },
      ],
    });

    this.service = new k8s.KubeService(this, "service", {
      metadata: { name, namespace, labels },
      spec: {
        selector,
        ports: [{ name: portNames.http, port: ports.grafana, targetPort: k8s.IntOrString.fromString(portNames.http), protocol: "TCP" }],
      },
    });

    grafanaAdminSecretJob(this, {
      namespace,
      image: app.image,
      uid: app.uid,
      revision: app.revision ?? "",
      resolveTokens: props.resolveTokens,
    });

    allowOnly(this, namespace, name, {
      // No peer: only the user's port-forward reaches Grafana (see above).
      ingress: [],
      egress: [
        clusterDns,
        { peers: [podsOf(components.prometheus)], tcp: [ports.prometheus] },
        { peers: [podsOf(components.jaeger)], tcp: [ports.jaegerUi] },
      ],
    });
  }
}
