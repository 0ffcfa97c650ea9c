/**
 * The pinned versions of everything the rehearsal builds, in one place. The build cache is keyed by these, so
 * changing one here rebuilds exactly that component on the next `npm run rehearse`.
 */
import { prometheusOperatorVersion } from "../../charts/versions.ts";

/** A Go component the rehearsal builds with `go install` through a generated wrapper module. */
export interface GoComponent {
  /** Cache folder name: `<name>-<version>`. */
  readonly name: string;
  readonly version: string;
  /** The module that holds the commands, required by the generated wrapper module at `v<version>`. */
  readonly module: string;
  /** Main packages (relative to the module) and the binary name each builds to in the component's bin folder. */
  readonly commands: Readonly<Record<string, string>>;
  /**
   * Version of each module the main module replaces by a folder of its own repository (Kubernetes' staging
   * modules, etcd's api/client/pkg, the operator's apis/client): `go install` refuses such modules, so a wrapper
   * module repeats each of those replaces with the module at this version.
   */
  readonly localReplaceVersion: string;
}

/**
 * Kubernetes release of the control plane. Its minor must be the one the EKS stack targets (cdk/eks-stack.ts
 * `kubernetesVersion`; test/scripts/rehearsal/build.test.ts holds them together); the patch is the newest 1.36 release
 * the Go module proxy served when this was pinned.
 */
export const kubernetesRelease = "1.36.3";

/** The staging modules (k8s.io/api, client-go, ...) are tagged v0.<minor>.<patch> for Kubernetes 1.<minor>.<patch>. */
const stagingVersion = `v0.${kubernetesRelease.split(".").slice(1).join(".")}`;

/**
 * etcd 3.6: 3.4 (Debian's) lacks the watch progress notifications the 1.36 API server's watch cache asks for,
 * so pod status lags by tens of seconds and rollouts crawl.
 */
export const etcdRelease = "3.6.16";

/** kwok simulates the kubelets: nodes heartbeat and pods go Running without any container. */
export const kwokRelease = "0.8.0";

/** A component whose module, and every module it replaces by a folder, carry its release's tag. */
const tagged = (name: string, version: string, module: string, commands: GoComponent["commands"]): GoComponent => ({
  name,
  version,
  module,
  commands,
  localReplaceVersion: `v${version}`,
});

/** The version (tag) of a component's module. */
export const moduleVersionOf = (c: GoComponent): string => `v${c.version}`;

export const goComponents: readonly GoComponent[] = [
  {
    name: "kubernetes",
    version: kubernetesRelease,
    module: "k8s.io/kubernetes",
    // kubectl from the same release: the tool the EKS stack applies manifests with, at the server's version.
    commands: {
      "cmd/kube-apiserver": "kube-apiserver",
      "cmd/kube-controller-manager": "kube-controller-manager",
      "cmd/kube-scheduler": "kube-scheduler",
      "cmd/kubectl": "kubectl",
    },
    localReplaceVersion: stagingVersion,
  },
  tagged("etcd", etcdRelease, "go.etcd.io/etcd/server/v3", { ".": "etcd" }),
  tagged("kwok", kwokRelease, "sigs.k8s.io/kwok", { "cmd/kwok": "kwok" }),
  tagged("prometheus-operator", prometheusOperatorVersion, "github.com/prometheus-operator/prometheus-operator", { "cmd/operator": "prometheus-operator" }),
];

