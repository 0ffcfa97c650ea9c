/**
 * The supervised port-forward to Prometheus (scripts/experiment/prometheus-route.ts), with a stand-in for
 * kubectl (a real child process that listens and prints kubectl's "Forwarding from" line): it gives the local
 * URL, restarts a forward that ended on the same local port, and stops for good when told.
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { PortForwarder, prometheusRoute } from "../../../scripts/experiment/prometheus-route.ts";

const fakeKubectl = fileURLToPath(new URL("./fixtures/fake-kubectl-port-forward.mjs", import.meta.url));
let forwarder: PortForwarder | undefined;
afterEach(() => forwarder?.stop());

describe("PortForwarder", () => {
  it("forwards, restarts on the same local port when the forward ends, and reports the restart", { timeout: 20_000 }, async () => {
    const restarts: string[] = [];
    forwarder = new PortForwarder({
      route: prometheusRoute,
      namespace: "exp-a",
      kubeconfig: "/w/kubeconfig",
      command: fakeKubectl,
      restartDelayMs: 100,
      onRestart: (exit) => restarts.push(exit),
    });
    const url = await forwarder.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const first = (await (await fetch(`${url}/args`)).json()) as { args: string[] };
    expect(first.args).toEqual([
      "port-forward",
      "--kubeconfig=/w/kubeconfig",
      "--namespace",
      "exp-a",
      "--address=127.0.0.1",
      "service/prometheus-operated",
      "0:web",
    ]);

    await fetch(`${url}/die`);
    // Until the forward is back, url() waits for it; then the same URL answers again.
    let again = "";
    for (let i = 0; i < 100 && restarts.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    again = await forwarder.url();
    expect(again).toBe(url);
    const second = (await (await fetch(`${again}/args`)).json()) as { args: string[] };
    expect(second.args.at(-1)).toBe(`${new URL(url).port}:web`);
    expect(forwarder.restarts).toBe(1);
    expect(restarts).toHaveLength(1);

    forwarder.stop();
    await expect(forwarder.url()).rejects.toThrow(/stopped/);
  });
});
