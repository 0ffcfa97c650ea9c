/**
 * The Prometheus Operator: ServiceAccount, Role and binding (plus a one-rule ClusterRole), Deployment and
 * Service, re-expressed from the upstream `example/rbac` manifests. Differences from upstream: everything in the
 * kit's namespace, the operator watches only that namespace (`--namespaces`) and its rights are limited to it,
 * the cluster-scoped names carry the namespace so two experiments can share a cluster, and the kubelet-Service
 * management is off (the kit scrapes no kubelets).
 * The CRDs are not here: they are ~1 MB, so they are installed with the operator's Helm chart
 * `prometheus-operator-crds` (CDK) or by server-side apply (see charts/README.md).
 */
import { Chart, type ChartProps } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { allowOnly, clusterDns, kubernetesApi, podsOf } from "./network-policy.ts";
import { components, objectLabels, portNames, ports, selectorLabels } from "./names.ts";
import { burstableResources, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./pod-security.ts";
import { prometheusOperatorVersion } from "../cdk/versions.ts";
import type { ResolvedImages } from "./versions.ts";

/** The upstream image runs as `nobody`. */
const operatorUid = 65534;

/**
 * The upstream ClusterRole's namespaced rules (example/rbac/prometheus-operator/prometheus-operator-cluster-role.yaml),
 * granted here by a Role in the one namespace the operator watches (`--namespaces`): upstream grants `*` on
 * secrets, configmaps and statefulsets in every namespace, which this operator never touches.
 */
export const prometheusOperatorNamespacedRules: k8s.PolicyRule[] = [
  {
    apiGroups: ["monitoring.coreos.com"],
    resources: [
      "alertmanagers",
      "alertmanagers/finalizers",
      "alertmanagers/status",
      "alertmanagerconfigs",
      "prometheuses",
      "prometheuses/finalizers",
      "prometheuses/status",
      "prometheusagents",
      "prometheusagents/finalizers",
      "prometheusagents/status",
      "thanosrulers",
      "thanosrulers/finalizers",
      "thanosrulers/status",
      "scrapeconfigs",
      "scrapeconfigs/status",
      "servicemonitors",
      "servicemonitors/status",
      "podmonitors",
      "podmonitors/status",
      "probes",
      "probes/status",
      "prometheusrules",
      "prometheusrules/status",
    ],
    verbs: ["*"],
  },
  { apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["*"] },
  { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["*"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["list", "delete"] },
  { apiGroups: [""], resources: ["services", "services/finalizers"], verbs: ["get", "create", "update", "delete"] },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["patch", "create"] },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["endpoints"], verbs: ["get", "create", "update", "delete"] },
];

/**
 * What stays cluster-scoped: `get` on the watched namespace object alone. Without list/watch on namespaces, an
 * operator given `--namespaces` polls each allowed namespace by name instead (its namespace lister falls back
 * to `get`), so it needs neither the list of all namespaces nor a watch on them. Upstream's other cluster rules
 * are left out: `nodes` (list, watch) serve only the kubelet Service (`--kubelet-service`, not set here), and
 * `storageclasses` (get) only the check of a PVC's storage class (this Prometheus uses an emptyDir; the
 * operator skips that check when it may not read them).
 */
export const prometheusOperatorClusterRules = (namespace: string): k8s.PolicyRule[] => [
  { apiGroups: [""], resources: ["namespaces"], resourceNames: [namespace], verbs: ["get"] },
];

export interface PrometheusOperatorChartProps extends ChartProps {
  readonly namespace: string;
  readonly images: ResolvedImages;
}

export class PrometheusOperatorChart extends Chart {
  readonly service: k8s.KubeService;
  readonly deployment: k8s.KubeDeployment;

  constructor(scope: Construct, id: string, props: PrometheusOperatorChartProps) {
    // Not the chart's default namespace: it would also land on the cluster-scoped objects here, which have none
    // (the server drops it). Each namespaced object names its namespace itself.
    super(scope, id, { ...props, namespace: undefined });
    const { namespace, images } = props;
    const name = components.prometheusOperator;
    const selector = { ...selectorLabels(name), "app.kubernetes.io/component": "controller" };
    const labels = { ...objectLabels(name), ...selector, "app.kubernetes.io/version": prometheusOperatorVersion };
    const clusterName = `${namespace}-${name}`;

    new k8s.KubeServiceAccount(this, "service-account", {
      metadata: { name, namespace, labels },
      automountServiceAccountToken: false,
    });
    new k8s.KubeRole(this, "role", { metadata: { name, namespace, labels }, rules: prometheusOperatorNamespacedRules });
    new k8s.KubeRoleBinding(this, "role-binding", {
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    });
    new k8s.KubeClusterRole(this, "cluster-role", {
      metadata: { name: clusterName, labels },
      rules: prometheusOperatorClusterRules(namespace),
    });
    new k8s.KubeClusterRoleBinding(this, "cluster-role-binding", {
      metadata: { name: clusterName, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    });

    this.deployment = new k8s.KubeDeployment(this, "deployment", {
      metadata: { name, namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels, annotations: { "kubectl.kubernetes.io/default-container": name } },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: true,
            nodeSelector: { "kubernetes.io/os": "linux" },
            securityContext: restrictedPodSecurityContext(operatorUid),
            containers: [
              {
                name,
                image: images.prometheusOperator,
                args: [
                  `--prometheus-config-reloader=${images.prometheusConfigReloader}`,
                  `--namespaces=${namespace}`,
                  "--disable-unmanaged-prometheus-configuration=true",
                ],
                env: [{ name: "GOGC", value: "30" }],
                ports: [{ name: portNames.http, containerPort: ports.prometheusOperator, protocol: "TCP" }],
                resources: burstableResources({ cpu: "100m", memory: "100Mi" }, { cpu: "200m", memory: "200Mi" }),
                securityContext: restrictedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, "service", {
      metadata: { name, namespace, labels },
      spec: {
        clusterIp: "None",
        selector,
        ports: [{ name: portNames.http, port: ports.prometheusOperator, targetPort: k8s.IntOrString.fromString(portNames.http) }],
      },
    });

    allowOnly(this, namespace, name, {
      ingress: [{ peers: [podsOf(components.prometheus)], tcp: [ports.prometheusOperator] }],
      egress: [clusterDns, kubernetesApi],
    });
  }
}
