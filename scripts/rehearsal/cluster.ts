/**
 * One throw-away Kubernetes control plane on loopback ports: etcd, kube-apiserver (RBAC, the default admission
 * plugins, PodSecurity among them), kube-controller-manager, kube-scheduler, and kwok, which plays every
 * kubelet: it keeps the simulated nodes' leases and moves scheduled pods to Running/Ready (Job pods to
 * Succeeded) without any container. Nothing here listens on other than 127.0.0.1; all state lives in `dir`.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binary, goBinary } from "./build.ts";
import { Kubectl } from "./kubectl.ts";
import { makePki, writeKubeconfig, type Pki } from "./pki.ts";
import { waitFor } from "../../app/retry.ts";
import { freePort } from "../free-port.ts";
import { start, stop, type Started } from "./processes.ts";
import { goComponents, moduleVersionOf } from "./go-components.ts";

/**
 * Settings where the rehearsal departs from a default to keep its scenarios short; each is named in the report.
 * - nodeMonitorGracePeriod: a node whose lease is not renewed for this long becomes NotReady (EKS: 40-50 s).
 * - podEvictionTolerationSeconds: how long pods stay on a NotReady/unreachable node before they are evicted
 *   (the DefaultTolerationSeconds admission plugin; Kubernetes' default is 300 s).
 */
export const compressedTimings = {
  nodeMonitorGracePeriodSeconds: 20,
  podEvictionTolerationSeconds: 30,
  nodeLeaseDurationSeconds: 40,
} as const;

/** Fake (never contacted) address ranges the control plane needs for Services and pods. */
const serviceClusterIpRange = "10.96.0.0/16";
const podCidr = "10.244.0.0/16";

/** kwok's annotation for nodes it manages (its documented default). */
export const kwokNodeAnnotation = { key: "kwok.x-k8s.io/node", value: "fake" } as const;

export interface Cluster {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly pki: Pki;
  readonly kubectl: Kubectl;
  readonly processes: Started[];
  /** Seconds from the first process start to the API server ready. */
  readonly controlPlaneReadySeconds: number;
  /** Restarts kwok managing only the nodes the label selector selects (the rest stop heartbeating). */
  readonly restartKwok: (labelSelector: string) => Promise<void>;
}

/** Folder of a module in the Go module cache (downloaded by the build; read-only there). */
export function moduleDir(module: string, version: string): string {
  const out = execFileSync(goBinary(), ["mod", "download", "-json", `${module}@${version}`], {
    encoding: "utf8",
    env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" },
  });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`moduleDir: go mod download ${module}@${version} gave no folder`);
  return dir;
}

function kwokModuleDir(): string {
  const kwok = goComponents.find((c) => c.name === "kwok")!;
  return moduleDir(kwok.module, moduleVersionOf(kwok));
}

/**
 * kwok's own stages from its module (same version as the binary): nodes initialise at once and keep leases;
 * pods become Ready at once, Job pods Succeed, deleted pods go at once (the "fast" set, no simulated delays).
 */
function kwokConfig(path: string): void {
  const stages = join(kwokModuleDir(), "kustomize", "stage");
  const files = [
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
  ];
  writeFileSync(path, files.map((f) => readFileSync(join(stages, f), "utf8").trim()).join("\n---\n") + "\n");
}

export async function startCluster(dir: string, log: (line: string) => void): Promise<Cluster> {
  const started = Date.now();
  const logs = join(dir, "logs");
  mkdirSync(logs, { recursive: true });
  const pki = makePki(dir);
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = (await Promise.all(
    Array.from({ length: 6 }, () => freePort("127.0.0.1")),
  )) as [number, number, number, number, number, number];
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = join(dir, "admin.kubeconfig");
  writeKubeconfig(kubeconfig, server, pki);
  const processes: Started[] = [];

  processes.push(
    start(
      "etcd",
      binary("etcd"),
      [
        "--name=rehearsal",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=rehearsal=http://127.0.0.1:${etcdPeer}`,
        // A throw-away store on a shared disk: durability buys nothing here.
        "--unsafe-no-fsync",
        "--log-level=warn",
      ],
      logs,
    ),
  );
  log(`etcd on 127.0.0.1:${etcdClient}`);

  processes.push(
    start(
      "kube-apiserver",
      binary("kube-apiserver"),
      [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, "apiserver-certs")}`,
        `--tls-cert-file=${pki.serverCert}`,
        `--tls-private-key-file=${pki.serverKey}`,
        `--client-ca-file=${pki.caCert}`,
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc",
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        `--service-cluster-ip-range=${serviceClusterIpRange}`,
        // The default "kubernetes" Service endpoints would carry the loopback address, which the API refuses.
        "--endpoint-reconciler-type=none",
        `--default-not-ready-toleration-seconds=${compressedTimings.podEvictionTolerationSeconds}`,
        `--default-unreachable-toleration-seconds=${compressedTimings.podEvictionTolerationSeconds}`,
        "--v=1",
      ],
      logs,
    ),
  );
  const kubectl = new Kubectl(kubeconfig);
  let lastReply = "";
  await waitFor(
    async () => {
      const r = await kubectl.run(["get", "--raw", "/readyz"], undefined, 10_000);
      lastReply = (r.stderr || r.stdout).trim();
      return r.code === 0 && r.stdout.trim() === "ok";
    },
    { what: "kube-apiserver /readyz", timeoutMs: 120_000, intervalMs: 500, detail: () => `last reply: ${lastReply}` },
  );
  const controlPlaneReadySeconds = (Date.now() - started) / 1000;
  log(`kube-apiserver ready on ${server} after ${controlPlaneReadySeconds.toFixed(1)} s`);

  // Both controllers: the admin kubeconfig for everything, loopback only, one instance (no leader election).
  const controllerFlags = (port: number) => [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    "--leader-elect=false",
  ];
  processes.push(
    start(
      "kube-controller-manager",
      binary("kube-controller-manager"),
      [
        ...controllerFlags(kcmPort),
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-cidr=${podCidr}`,
        `--service-cluster-ip-range=${serviceClusterIpRange}`,
        `--node-monitor-grace-period=${compressedTimings.nodeMonitorGracePeriodSeconds}s`,
        // The default set: without a cloud provider or signing keys the cloud and CSR controllers stay idle.
        "--controllers=*",
        "--v=1",
      ],
      logs,
    ),
  );
  processes.push(start("kube-scheduler", binary("kube-scheduler"), [...controllerFlags(schedPort), "--v=1"], logs));
  const kwokConfigPath = join(dir, "kwok.yaml");
  kwokConfig(kwokConfigPath);
  const kwokArgs = (labelSelector?: string) => [
    `--config=${kwokConfigPath}`,
    `--kubeconfig=${kubeconfig}`,
    "--manage-all-nodes=false",
    `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation.key}=${kwokNodeAnnotation.value}`,
    ...(labelSelector ? [`--manage-nodes-with-label-selector=${labelSelector}`] : []),
    `--node-lease-duration-seconds=${compressedTimings.nodeLeaseDurationSeconds}`,
    `--cidr=${podCidr}`,
    "--node-ip=127.0.0.1",
    `--server-address=127.0.0.1:${kwokPort}`,
  ];
  let kwok = start("kwok", binary("kwok"), kwokArgs(), logs);
  processes.push(kwok);
  /** Restarts kwok managing only the nodes `labelSelector` selects: the others stop heartbeating, as if gone. */
  const restartKwok = async (labelSelector: string): Promise<void> => {
    await stop(kwok);
    kwok = start("kwok", binary("kwok"), kwokArgs(labelSelector), logs);
    processes.push(kwok);
  };
  log(`kube-controller-manager, kube-scheduler and kwok started (logs in ${logs})`);
  return { dir, kubeconfig, server, pki, kubectl, processes, controlPlaneReadySeconds, restartKwok };
}
