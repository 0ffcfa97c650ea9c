/**
 * The Prometheus Operator watches one namespace, so its rights stop there: a Role in that namespace for
 * everything it manages (secrets, configmaps, statefulsets, the monitoring custom resources), and a ClusterRole
 * only for `get` on that one namespace object (what its namespace poller needs without list/watch).
 */
import { describe, expect, it } from "vitest";
import { components } from "../../charts/names.ts";
import { find, podSpecOf, presetManifests, presetNames, type K8sObject } from "./fixtures.ts";

type Rule = { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] };
type Binding = K8sObject & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace?: string }[] };

const rulesOf = (o: K8sObject) => (o as K8sObject & { rules: Rule[] }).rules;

describe.each(presetNames)("preset %s: the operator's RBAC", (preset) => {
  const { plan, objects } = presetManifests(preset);
  const namespace = plan.experimentId;
  const operator = { kind: "ServiceAccount", name: components.prometheusOperator, namespace };
  const bindingsOf = (kind: "RoleBinding" | "ClusterRoleBinding") =>
    objects
      .filter((o): o is Binding => o.kind === kind)
      .filter((b) => b.subjects.some((s) => s.kind === operator.kind && s.name === operator.name && s.namespace === namespace));

  it("is cluster-wide only for get on its own namespace", () => {
    const clusterRoles = bindingsOf("ClusterRoleBinding").map((b) => {
      expect(b.roleRef.kind).toBe("ClusterRole");
      return find(objects, "ClusterRole", b.roleRef.name);
    });
    expect(clusterRoles).toHaveLength(1);
    expect(rulesOf(clusterRoles[0]!)).toEqual([{ apiGroups: [""], resources: ["namespaces"], resourceNames: [namespace], verbs: ["get"] }]);
    // No other ClusterRole in the kit at all.
    expect(objects.filter((o) => o.kind === "ClusterRole").map((o) => o.metadata.name)).toEqual([clusterRoles[0]!.metadata.name]);
  });

  it("manages secrets, configmaps, statefulsets and the monitoring resources through a Role in the watched namespace", () => {
    const [binding, ...more] = bindingsOf("RoleBinding");
    expect(more).toEqual([]);
    expect(binding!.metadata.namespace).toBe(namespace);
    expect(binding!.roleRef.kind).toBe("Role");
    const role = find(objects, "Role", binding!.roleRef.name);
    expect(role.metadata.namespace).toBe(namespace);
    const grants = (group: string, resource: string, verb: string) =>
      rulesOf(role).some(
        (r) =>
          (r.apiGroups ?? []).includes(group) &&
          (r.resources ?? []).includes(resource) &&
          (r.verbs.includes(verb) || r.verbs.includes("*")),
      );
    for (const [group, resource, verb] of [
      ["", "secrets", "create"],
      ["", "configmaps", "update"],
      ["apps", "statefulsets", "create"],
      ["", "services", "create"],
      ["monitoring.coreos.com", "prometheuses", "watch"],
      ["monitoring.coreos.com", "prometheuses/status", "update"],
      ["monitoring.coreos.com", "servicemonitors", "list"],
      ["monitoring.coreos.com", "scrapeconfigs", "list"],
      ["monitoring.coreos.com", "prometheusrules", "list"],
      ["events.k8s.io", "events", "create"],
    ] as const) {
      expect(grants(group, resource, verb), `${group}/${resource} ${verb}`).toBe(true);
    }
    // The Prometheus it runs and every monitor it reads are in that namespace.
    for (const kind of ["Prometheus", "ServiceMonitor", "PrometheusRule", "ScrapeConfig"]) {
      for (const o of objects.filter((x) => x.kind === kind)) expect(o.metadata.namespace, `${kind}/${o.metadata.name}`).toBe(namespace);
    }
  });

  it("watches exactly that namespace and runs no kubelet controller (which would need nodes)", () => {
    const args = podSpecOf(find(objects, "Deployment", components.prometheusOperator)).containers[0]!.args as string[];
    expect(args.filter((a) => a.startsWith("--namespaces="))).toEqual([`--namespaces=${namespace}`]);
    expect(args.some((a) => a.startsWith("--kubelet-service"))).toBe(false);
  });
});
