/**
 * How the AWS runner reads the cluster's Prometheus: `kubectl port-forward` to the operator's governing Service.
 *
 * Not the API server's service proxy (/api/v1/namespaces/<ns>/services/<svc>:web/proxy): that connection
 * comes from the control plane's network interfaces in the cluster's subnets, and the Prometheus
 * NetworkPolicy (charts/monitoring-chart.ts) admits only Grafana's pods on 9090, so it is denied. A
 * port-forward is carried by the kubelet into the pod's own network namespace, where NetworkPolicy does not
 * filter, so the policy stays as strict as it is. The Kubernetes API itself is still read through
 * `kubectl proxy`. test/scripts/experiment/prometheus-route.test.ts checks both claims against the synthesized charts.
 *
 * A port-forward binds one pod and ends when that pod goes away (Prometheus restarted, rescheduled): the
 * forwarder below restarts it on the same local port, so the runner's URL stays the same.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { prometheusOperatedService } from "../../charts/names.ts";

/** The port name the Prometheus Operator gives Prometheus' container and its governing Service (spec.portName unset). */
export const operatorPrometheusPortName = "web";

export interface PortForwardRoute {
  readonly kind: "port-forward";
  /** The Service kubectl resolves to one of its ready pods. */
  readonly service: string;
  /** The Service port, by name; kubectl maps it to the pod's container port through the Service's targetPort. */
  readonly portName: string;
}

/** The route the AWS runner uses to Prometheus (data, so the manifest test checks exactly this). */
export const prometheusRoute: PortForwardRoute = {
  kind: "port-forward",
  service: prometheusOperatedService,
  portName: operatorPrometheusPortName,
};

/** The arguments of `kubectl port-forward` for a route; `localPort` 0 lets kubectl choose. */
export const portForwardArgs = (route: PortForwardRoute, namespace: string, kubeconfig: string, localPort: number): string[] => [
  "port-forward",
  `--kubeconfig=${kubeconfig}`,
  "--namespace",
  namespace,
  "--address=127.0.0.1",
  `service/${route.service}`,
  `${localPort}:${route.portName}`,
];

export interface PortForwardOptions {
  readonly route: PortForwardRoute;
  readonly namespace: string;
  readonly kubeconfig: string;
  /** The kubectl binary (tests give a stand-in that prints kubectl's "Forwarding from" line). */
  readonly command?: string;
  readonly restartDelayMs?: number;
  readonly startTimeoutMs?: number;
  readonly onRestart?: (exit: string, restarts: number) => void;
}

/** One supervised `kubectl port-forward`: restarted, on the same local port, whenever it exits until stopped. */
export class PortForwarder {
  readonly #o: PortForwardOptions;
  #child: ChildProcess | undefined;
  #port = 0;
  #ready: Promise<string> | undefined;
  #stopped = false;
  restarts = 0;

  constructor(o: PortForwardOptions) {
    this.#o = o;
  }

  /** The local base URL (http://127.0.0.1:<port>), once the forward listens; restarts a dead one first. */
  url(): Promise<string> {
    if (this.#stopped) return Promise.reject(new Error("port-forward stopped"));
    this.#ready ??= this.#attempt(() => this.#start());
    return this.#ready;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#child !== undefined && this.#child.exitCode === null) this.#child.kill("SIGTERM");
    this.#child = undefined;
  }

  /** A failed start is forgotten, so the next url() tries again. */
  #attempt(f: () => Promise<string>): Promise<string> {
    const p = f();
    p.catch(() => {
      if (this.#ready === p) this.#ready = undefined;
    });
    return p;
  }

  #start(): Promise<string> {
    const { route, namespace, kubeconfig } = this.#o;
    const args = portForwardArgs(route, namespace, kubeconfig, this.#port);
    const child = spawn(this.#o.command ?? "kubectl", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    let out = "";
    const started = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `kubectl ${args.join(" ")}: no "Forwarding from" after ${(this.#o.startTimeoutMs ?? 60_000) / 1000} s: ${out.slice(-300)}`,
            ),
          ),
        this.#o.startTimeoutMs ?? 60_000,
      );
      const onData = (c: Buffer) => {
        out += c.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
        if (m) {
          clearTimeout(timer);
          this.#port = Number(m[1]);
          resolve(`http://127.0.0.1:${this.#port}`);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward: ${err.message}`));
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward exited (${code ?? signal}) before forwarding: ${out.slice(-300)}`));
      });
    });
    child.on("exit", (code, signal) => {
      if (this.#stopped || this.#child !== child) return;
      // The pod went away or the connection broke: the next url() starts a new forward on the same port.
      this.restarts++;
      this.#o.onRestart?.(`${code ?? signal}: ${out.trim().split("\n").at(-1) ?? ""}`, this.restarts);
      const delay = this.#o.restartDelayMs ?? 1_000;
      this.#ready = this.#attempt(() =>
        new Promise((resolve) => setTimeout(resolve, delay)).then(() =>
          this.#stopped ? Promise.reject(new Error("port-forward stopped")) : this.#start(),
        ),
      );
    });
    return started;
  }
}
