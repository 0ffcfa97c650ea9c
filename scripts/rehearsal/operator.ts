/**
 * The real Prometheus Operator, run as a local process with the arguments of the chart's own Deployment and
 * with the rights of the chart's ServiceAccount (the admin certificate impersonates it), so the chart's RBAC
 * and the operator's flags are what is exercised. Its pod on the simulated nodes runs nothing.
 */
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { binary } from "./build.ts";
import type { Cluster } from "./cluster.ts";
import type { ChartManifest } from "./manifests.ts";
import { freePort } from "../free-port.ts";
import { start, type Started } from "./processes.ts";

interface Container {
  name: string;
  args?: string[];
}

/** The operator Deployment's container args and ServiceAccount, read from the synthesized chart. */
export function operatorDeployment(m: ChartManifest): { args: string[]; serviceAccount: string; namespace: string } {
  const d = m.objects.find((o) => o.kind === "Deployment") as
    { metadata: { namespace: string }; spec: { template: { spec: { serviceAccountName: string; containers: Container[] } } } } | undefined;
  if (d === undefined) throw new Error(`chart ${m.chart}: no Deployment of the operator in it`);
  const spec = d.spec.template.spec;
  return { args: spec.containers[0]?.args ?? [], serviceAccount: spec.serviceAccountName, namespace: d.metadata.namespace };
}

export async function startOperator(cluster: Cluster, m: ChartManifest, logDir: string): Promise<Started> {
  const { args, serviceAccount, namespace } = operatorDeployment(m);
  const webPort = await freePort("127.0.0.1");
  return start(
    "prometheus-operator",
    binary("prometheus-operator"),
    [
      ...args,
      `--apiserver=${cluster.server}`,
      `--ca-file=${cluster.pki.caCert}`,
      `--cert-file=${cluster.pki.adminCert}`,
      `--key-file=${cluster.pki.adminKey}`,
      `--as=system:serviceaccount:${namespace}:${serviceAccount}`,
      // Later flags win: loopback only, on a free port, whatever the chart's pod listens on.
      `--web.listen-address=127.0.0.1:${webPort}`,
    ],
    logDir,
  );
}

/** Scrape job names in the operator's generated Prometheus configuration (Secret prometheus-<name>). */
export async function generatedScrapeJobs(cluster: Cluster, namespace: string, prometheusName: string): Promise<string[] | undefined> {
  const r = await cluster.kubectl.run(["get", "secret", `prometheus-${prometheusName}`, "-n", namespace, "-o", "json"]);
  if (r.code !== 0) return undefined;
  const data = (JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {};
  const gz = data["prometheus.yaml.gz"];
  if (gz === undefined) return undefined;
  const config = parse(gunzipSync(Buffer.from(gz, "base64")).toString("utf8")) as { scrape_configs?: { job_name: string }[] };
  return (config.scrape_configs ?? []).map((s) => s.job_name).sort();
}

/**
 * The jobs the operator should generate from the charts: one per ServiceMonitor endpoint
 * (`serviceMonitor/<ns>/<name>/<i>`) and one per ScrapeConfig (`scrapeConfig/<ns>/<name>`), the operator's
 * naming, for the monitors the Prometheus CR selects (all of the kit's are; checked by the manifest tests).
 */
export function expectedScrapeJobs(manifests: readonly ChartManifest[]): string[] {
  const jobs: string[] = [];
  for (const o of manifests.flatMap((m) => m.objects)) {
    const meta = o.metadata as { name: string; namespace: string };
    if (o.kind === "ServiceMonitor") {
      const endpoints = ((o.spec as { endpoints?: unknown[] }).endpoints ?? []).length;
      for (let i = 0; i < endpoints; i++) jobs.push(`serviceMonitor/${meta.namespace}/${meta.name}/${i}`);
    } else if (o.kind === "ScrapeConfig") {
      jobs.push(`scrapeConfig/${meta.namespace}/${meta.name}`);
    }
  }
  return jobs.sort();
}
