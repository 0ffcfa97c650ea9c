/**
 * A stage's manifests as the EKS stack puts them on the cluster: the same charts (charts/index.ts) with the
 * endpoints the EKS stack passes (cdk/kit-charts.ts), where each deploy-time value is a stand-in of the same
 * shape (documentation-range addresses, an invalid-domain broker list: nothing is ever connected to), in the
 * order of the charts' dependencies, which the EKS stack mirrors between its KubernetesManifests.
 */
import { App, Chart } from "cdk8s";
import { cassandraPorts } from "../../cdk/servers/ports.ts";
import { cassandraDetectorRole } from "../../cdk/servers/cassandra-auth-setup.ts";
import type { SizePlan } from "../../cdk/size/size-plan.ts";
import { buildCharts, type ChartOptions, type KitCharts } from "../../charts/index.ts";
import { checkAppConfigs, type SynthesizedManifest } from "../../charts/synth.ts";

/** MSK's IAM-auth port (the EKS stack's bootstrap string is of this port). */
const mskIamPort = 9098;

/** Stand-ins for the EKS stack's deploy-time endpoints (tokens there), sized by the plan. */
export function rehearsalOptions(plan: SizePlan, revision = "rehearsal-1"): ChartOptions {
  const brokerHosts = Array.from({ length: plan.kafka.brokers }, (_, i) => `b-${i + 1}.rehearsal.kafka.${plan.region}.amazonaws.invalid`);
  // 192.0.2.0/24 (TEST-NET-1) and 198.51.100.0/24 (TEST-NET-2): documentation addresses, nothing answers there.
  const cassandraIps = Array.from({ length: plan.cassandra.nodes }, (_, i) => `192.0.2.${i + 1}`);
  return {
    endpoints: {
      kafkaBrokers: brokerHosts.map((h) => `${h}:${mskIamPort}`).join(","),
      cassandraContactPoints: cassandraIps
        .slice(0, 3)
        .map((ip) => `${ip}:${cassandraPorts.cql}`)
        .join(","),
      cassandraLocalDataCenter: plan.region,
      kafkaAuth: "aws-iam",
      awsRegion: plan.region,
      cassandraUsername: cassandraDetectorRole,
      cassandraPasswordSecretArn: `arn:aws:secretsmanager:${plan.region}:000000000000:secret:rehearsal-detector`,
      cassandraExporterHosts: cassandraIps,
      kafkaMonitoringHosts: brokerHosts,
      dataPlaneCidrs: ["192.0.2.0/24", "198.51.100.0/24"],
    },
    app: { image: `000000000000.dkr.ecr.${plan.region}.amazonaws.com/anomaly-kit:${revision}`, revision },
  };
}

export interface ChartManifest extends SynthesizedManifest {
  readonly dependsOn: readonly (keyof KitCharts)[];
}

/** The charts in an order where each comes after the charts it depends on (the EKS stack's order). */
export function stageManifests(plan: SizePlan, options: ChartOptions = rehearsalOptions(plan)): ChartManifest[] {
  const charts = buildCharts(new App(), plan, options);
  const nameOf = new Map<Chart, keyof KitCharts>((Object.keys(charts) as (keyof KitCharts)[]).map((k) => [charts[k], k]));
  const manifests = new Map<keyof KitCharts, ChartManifest>();
  for (const [chart, name] of nameOf) {
    const dependsOn = chart.node.dependencies.flatMap((d) => (d instanceof Chart && nameOf.has(d) ? [nameOf.get(d)!] : []));
    manifests.set(name, {
      chart: name,
      file: `${chart.node.id}.yaml`,
      objects: chart.toJson() as Record<string, unknown>[],
      yaml: "",
      dependsOn,
    });
  }
  const ordered: ChartManifest[] = [];
  const visit = (name: keyof KitCharts, path: readonly string[]): void => {
    if (ordered.some((m) => m.chart === name)) return;
    if (path.includes(name)) throw new Error(`chart dependencies form a cycle: ${[...path, name].join(" -> ")}`);
    const m = manifests.get(name)!;
    for (const d of m.dependsOn) visit(d, [...path, name]);
    ordered.push(m);
  };
  for (const name of manifests.keys()) visit(name, []);
  checkAppConfigs(ordered);
  return ordered;
}

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export const refOf = (o: Record<string, unknown>): ObjectRef => {
  const m = o.metadata as { name: string; namespace?: string };
  return { apiVersion: String(o.apiVersion), kind: String(o.kind), name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}) };
};

export const refKey = (r: ObjectRef): string => `${r.kind}/${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
