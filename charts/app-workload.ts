/**
 * One of the app's two workloads (the detector or the load generator): a ServiceAccount without an API token,
 * a Deployment of restricted pods spread over zones, and a headless Service whose named metrics port the
 * ServiceMonitor selects.
 */
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { objectLabels, portNames, ports, selectorLabels, type Component } from "./names.ts";
import { guaranteedResources, restrictedContainerSecurityContext, restrictedPodSecurityContext, scratchVolume } from "./pod-security.ts";

/** Seconds the preStop hook waits before SIGTERM, so the pod leaves the Service endpoints first. */
export const preStopSeconds = 5;
/** Seconds Kubernetes waits after the app's own drain budget before it kills the process. */
export const terminationMarginSeconds = 10;

export interface AppWorkloadProps {
  readonly namespace: string;
  readonly component: Component;
  readonly replicas: number;
  readonly image: string;
  readonly args: readonly string[];
  readonly uid: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly env: Readonly<Record<string, string>>;
  /** Env vars set per pod from the pod's own fields (downward API): name → field path, e.g. metadata.name. */
  readonly envFromPod?: Readonly<Record<string, string>>;
  /** How long the app's SIGTERM drain may take (its own setting). */
  readonly drainSeconds: number;
  /**
   * Mount the ServiceAccount token: EKS Pod Identity needs it to hand the pod AWS credentials. The account has
   * no Kubernetes RBAC bindings, so the token grants nothing in the cluster.
   */
  readonly mountServiceAccountToken: boolean;
}

export interface AppWorkload {
  readonly serviceAccount: k8s.KubeServiceAccount;
  readonly deployment: k8s.KubeDeployment;
  readonly service: k8s.KubeService;
}

const httpProbe = (path: string, periodSeconds: number, failureThreshold: number): k8s.Probe => ({
  httpGet: { path, port: k8s.IntOrString.fromString(portNames.metrics) },
  periodSeconds,
  failureThreshold,
  timeoutSeconds: 2,
});

export function appWorkload(scope: Construct, props: AppWorkloadProps): AppWorkload {
  const { namespace, component } = props;
  const labels = { ...objectLabels(component) };
  const selector = { ...selectorLabels(component) };

  const serviceAccount = new k8s.KubeServiceAccount(scope, `${component}-service-account`, {
    metadata: { name: component, namespace, labels },
    automountServiceAccountToken: false,
  });

  const spread = (topologyKey: string): k8s.TopologySpreadConstraint => ({
    topologyKey,
    maxSkew: 1,
    // Soft: a zone with less free CPU must not leave pods pending; the scheduler still spreads them.
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
  });

  const deployment = new k8s.KubeDeployment(scope, `${component}-deployment`, {
    metadata: { name: component, namespace, labels },
    spec: {
      replicas: props.replicas,
      selector: { matchLabels: selector },
      // Never more pods than planned: a surplus detector would find no partition (and might never be ready),
      // a surplus load generator would send above the planned rate. One pod at a time, like the PDB.
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(0), maxUnavailable: k8s.IntOrString.fromNumber(1) },
      },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: component,
          automountServiceAccountToken: props.mountServiceAccountToken,
          securityContext: restrictedPodSecurityContext(props.uid),
          terminationGracePeriodSeconds: preStopSeconds + props.drainSeconds + terminationMarginSeconds,
          topologySpreadConstraints: [spread("topology.kubernetes.io/zone"), spread("kubernetes.io/hostname")],
          containers: [
            {
              name: component,
              image: props.image,
              args: [...props.args],
              ports: [{ name: portNames.metrics, containerPort: ports.app, protocol: "TCP" }],
              env: [
                ...Object.entries(props.env).map(([name, value]) => ({ name, value })),
                ...Object.entries(props.envFromPod ?? {}).map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { fieldPath } } })),
              ],
              resources: guaranteedResources(props.cpu, props.memoryMiB),
              securityContext: restrictedContainerSecurityContext(),
              startupProbe: httpProbe("/healthz", 2, 30),
              livenessProbe: httpProbe("/healthz", 10, 3),
              readinessProbe: httpProbe("/readyz", 5, 2),
              lifecycle: { preStop: { sleep: { seconds: preStopSeconds } } },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [scratchVolume("tmp", "64Mi")],
        },
      },
    },
  });

  const service = new k8s.KubeService(scope, `${component}-service`, {
    metadata: { name: component, namespace, labels },
    spec: {
      // Headless: nothing calls the app through it; it exists so Prometheus finds every pod's metrics port.
      clusterIp: "None",
      selector,
      ports: [{ name: portNames.metrics, port: ports.app, targetPort: k8s.IntOrString.fromString(portNames.metrics), protocol: "TCP" }],
    },
  });

  return { serviceAccount, deployment, service };
}
