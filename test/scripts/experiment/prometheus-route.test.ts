/**
 * The AWS runner's route to Prometheus is one the synthesized NetworkPolicies allow. The old route, the API
 * server's service proxy, connects from the control plane's network interfaces (addresses in the cluster's
 * subnets, not pods) and the Prometheus policy admits only Grafana's pods on 9090: denied, which is why the
 * runner moved to `kubectl port-forward`. A port-forward is carried by the kubelet into the pod's network
 * namespace (not filtered by NetworkPolicy), so what must hold for it is that it resolves:
 * Service → its selector matches the Prometheus pods → its target port is a container port of theirs.
 */
import { describe, expect, it } from "vitest";
import { vpcCidr } from "../../../cdk/network-stack.ts";
import { components, ports, selectorLabels } from "../../../charts/names.ts";
import { prometheusRoute, portForwardArgs } from "../../../scripts/experiment/prometheus-route.ts";
import { find, presetManifests, type K8sObject } from "../../charts/fixtures.ts";
import {
  ingressAllowed,
  operatorGoverningService,
  operatorPrometheusPod,
  selects,
  type PodModel,
  type ServiceModel,
} from "./network-policy-eval.ts";

interface Route {
  readonly kind: string;
  readonly service: string;
  readonly portName: string;
}

/** The route the runner used before: GET /api/v1/namespaces/<ns>/services/prometheus-operated:web/proxy/… */
const serviceProxyRoute: Route = { kind: "service-proxy", service: prometheusRoute.service, portName: prometheusRoute.portName };

/** Addresses the control plane's interfaces can have: EKS places them in the cluster's subnets, inside the VPC. */
function controlPlaneAddresses(cidr: string): string[] {
  const [base, bits] = cidr.split("/") as [string, string];
  const start = base.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
  return [0.1, 0.35, 0.6, 0.85].map((f) => toIp(start + Math.floor(size * f) + 10));
}

type Resolution =
  { readonly ok: true; readonly pod: PodModel; readonly containerPort: number } | { readonly ok: false; readonly why: string };

function resolvePortForward(route: Route, services: readonly ServiceModel[], pods: readonly PodModel[]): Resolution {
  const service = services.find((s) => s.name === route.service);
  if (service === undefined) return { ok: false, why: `no Service ${route.service}` };
  const port = service.ports.find((p) => p.name === route.portName);
  if (port === undefined) return { ok: false, why: `Service ${service.name} has no port named ${route.portName}` };
  const selected = pods.filter((p) => p.namespace === service.namespace && selects({ matchLabels: service.selector }, p.labels));
  if (selected.length === 0) return { ok: false, why: `Service ${service.name}'s selector matches no pod` };
  const pod = selected[0]!;
  const target = pod.containerPorts.find((c) =>
    typeof port.targetPort === "string" ? c.name === port.targetPort : c.containerPort === port.targetPort,
  );
  if (target === undefined) return { ok: false, why: `target port ${port.targetPort} is no container port of the selected pod` };
  return { ok: true, pod, containerPort: target.containerPort };
}

/** Is the route usable against these manifests? A service proxy is a connection from the control plane. */
function evaluateRoute(route: Route, objects: readonly K8sObject[]): { ok: boolean; why: string } {
  const cr = find(objects, "Prometheus", components.prometheus);
  const pod = operatorPrometheusPod(cr);
  const service = operatorGoverningService(cr);
  const resolved = resolvePortForward(route, [service], [pod]);
  if (!resolved.ok) return resolved;
  if (route.kind === "port-forward")
    return { ok: true, why: `port-forward to container port ${resolved.containerPort} (kubelet, inside the pod's network namespace)` };
  const denied = controlPlaneAddresses(vpcCidr).filter(
    (ip) => !ingressAllowed(objects, pod, { kind: "address", ip }, resolved.containerPort).allowed,
  );
  return denied.length === 0
    ? { ok: true, why: "control plane admitted" }
    : { ok: false, why: `denied from the control plane's addresses ${denied.join(", ")} on ${resolved.containerPort}` };
}

describe.each(["stage-3", "stage-48"] as const)("Prometheus route, %s", (preset) => {
  const { objects } = presetManifests(preset);
  const cr = find(objects, "Prometheus", components.prometheus);
  const pod = operatorPrometheusPod(cr);

  it("the evaluator admits what the policy allows: Grafana's pods on Prometheus' port, and nothing else from a pod", () => {
    const verdict = ingressAllowed(
      objects,
      pod,
      { kind: "pod", namespace: pod.namespace, labels: selectorLabels(components.grafana) },
      ports.prometheus,
    );
    expect(verdict).toEqual({ allowed: true, selectingPolicies: ["deny-all", components.prometheus] });
    const detector = { kind: "pod", namespace: pod.namespace, labels: selectorLabels(components.detector) } as const;
    expect(ingressAllowed(objects, pod, detector, ports.prometheus).allowed).toBe(false);
  });

  it("(a) the old service-proxy route is denied: it comes from control-plane addresses, which no rule admits", () => {
    for (const ip of controlPlaneAddresses(vpcCidr)) {
      expect(ingressAllowed(objects, pod, { kind: "address", ip }, ports.prometheus).allowed, ip).toBe(false);
    }
    expect(evaluateRoute(serviceProxyRoute, objects)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/^denied from the control plane/) as unknown,
    });
  });

  it("(b) the runner's route is a port-forward that resolves: Service → selected Prometheus pod → its container port", () => {
    const resolved = resolvePortForward(prometheusRoute, [operatorGoverningService(cr)], [pod]);
    expect(resolved).toMatchObject({ ok: true, containerPort: ports.prometheus });
    expect(evaluateRoute(prometheusRoute, objects).ok).toBe(true);
  });

  it("the kubectl arguments name that Service and port in the experiment's namespace, on loopback", () => {
    const args = portForwardArgs(prometheusRoute, pod.namespace, "/w/kubeconfig", 0);
    expect(args).toEqual([
      "port-forward",
      "--kubeconfig=/w/kubeconfig",
      "--namespace",
      pod.namespace,
      "--address=127.0.0.1",
      `service/${prometheusRoute.service}`,
      `0:${prometheusRoute.portName}`,
    ]);
  });
});
