/**
 * After a stage is ready on AWS, the runner spreads the partitions over every broker (new ones included) and
 * reads back who leads what. The runner's machine cannot reach MSK (private subnets, IAM auth from pods), so
 * it does it the way it does everything in the cluster: through the Kubernetes API, with a Job
 * (charts/rebalance-job.ts) that runs the app's `rebalance` command with the detector's image and Kafka
 * settings, and whose termination message carries the read-back.
 */
import type { RebalanceSummary } from "../../app/kafka/rebalance-command.ts";
import { checkLeaderBalance } from "../../app/kafka/leader-balance.ts";
import { topics } from "../../app/topology.ts";
import { waitFor } from "../../app/retry.ts";
import { components } from "../../charts/names.ts";
import { rebalanceJobManifests, type K8sManifest } from "../../charts/rebalance-job.ts";
import type { KubeApi } from "./readiness.ts";
import type { LeaderBalanceReadBack } from "./stage-runner.ts";

interface DetectorDeployment {
  spec: {
    template: {
      spec: {
        securityContext?: { runAsUser?: number };
        containers: { name: string; image: string; env?: { name: string; value?: string; valueFrom?: unknown }[] }[];
      };
    };
  };
}
interface JobStatus {
  status?: { succeeded?: number; failed?: number; conditions?: { type: string; status: string; message?: string }[] };
}
interface PodList {
  items: { status?: { containerStatuses?: { state?: { terminated?: { exitCode: number; message?: string } } }[] } }[];
}

const collectionPath = (m: K8sManifest, ns: string) =>
  m.kind === "Job"
    ? `/apis/batch/v1/namespaces/${encodeURIComponent(ns)}/jobs`
    : `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts`;

/** Judges the pipeline topics' leaders per broker from a rebalance's read-back (the 1.5x rule). */
export function judgeReadBack(
  summary: RebalanceSummary,
  source: string,
  judged: readonly string[] = [topics.events, topics.checks, topics.deadLetter],
): LeaderBalanceReadBack {
  const problems = judged.flatMap((t) => {
    const leaders = summary.leaders[t];
    if (leaders === undefined) return [`topic ${t}: not in the rebalance's read-back`];
    const check = checkLeaderBalance(t, new Map(Object.entries(leaders).map(([b, n]) => [Number(b), n])));
    return check.problem === undefined ? [] : [check.problem];
  });
  return {
    brokers: [...summary.brokers],
    reassigned: summary.reassigned,
    leadersBefore: summary.leadersBefore,
    leadersPerBroker: summary.leaders,
    problems,
    source,
  };
}

export async function runRebalanceJob(
  kube: KubeApi,
  namespace: string,
  name: string,
  o: { readonly timeoutMs: number; readonly sleep: (ms: number) => Promise<void>; readonly onWait: (what: string) => void },
): Promise<LeaderBalanceReadBack> {
  const ns = encodeURIComponent(namespace);
  const detector = await kube.get<DetectorDeployment>(`/apis/apps/v1/namespaces/${ns}/deployments/${components.detector}`);
  const pod = detector.spec.template.spec;
  const container = pod.containers.find((c) => c.name === components.detector) ?? pod.containers[0];
  if (container === undefined)
    throw new Error(`deployment ${namespace}/${components.detector}: no container to take the image and settings from`);
  const env = (container.env ?? []).filter((e) => e.valueFrom === undefined).map((e) => ({ name: e.name, value: e.value ?? "" }));
  const manifests = rebalanceJobManifests({ namespace, name, image: container.image, uid: pod.securityContext?.runAsUser ?? 1000, env });
  for (const m of manifests) {
    try {
      await kube.request("POST", collectionPath(m, namespace), m);
    } catch (err) {
      // The ServiceAccount outlives a stage: made by the first one.
      if (!(m.kind === "ServiceAccount" && err instanceof Error && /HTTP 409/.test(err.message))) throw err;
    }
  }
  let state = "";
  await waitFor(
    async () => {
      const job = await kube.get<JobStatus>(`/apis/batch/v1/namespaces/${ns}/jobs/${encodeURIComponent(name)}`);
      const failed = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
      if (failed !== undefined)
        throw new Error(
          `rebalance Job ${namespace}/${name} failed (${failed.message ?? "no message"}); see kubectl logs -n ${namespace} job/${name}`,
        );
      state = `succeeded ${job.status?.succeeded ?? 0}, failed pods ${job.status?.failed ?? 0}`;
      return (job.status?.succeeded ?? 0) > 0;
    },
    {
      what: `rebalance Job ${namespace}/${name}`,
      timeoutMs: o.timeoutMs,
      intervalMs: 10_000,
      sleep: o.sleep,
      onWait: () => o.onWait(`rebalance Job (${state})`),
      detail: () => state,
    },
  );
  const pods = await kube.get<PodList>(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`job-name=${name}`)}`);
  const message = pods.items
    .flatMap((p) => p.status?.containerStatuses ?? [])
    .map((s) => s.state?.terminated)
    .find((t) => t?.exitCode === 0)?.message;
  if (message === undefined || message === "")
    throw new Error(`rebalance Job ${namespace}/${name}: its pod left no termination message (the read-back)`);
  return judgeReadBack(JSON.parse(message) as RebalanceSummary, `rebalance Job ${name} (metadata after the reassignment)`);
}
