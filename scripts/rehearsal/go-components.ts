/**
 * The Go components the rehearsal builds, at the versions of cdk/versions.ts. The build cache is keyed by
 * those, so changing one there rebuilds exactly that component on the next `npm run rehearse`.
 */
import { etcdVersion, kubernetesRelease, kwokVersion, prometheusOperatorVersion } from "../../cdk/versions.ts";

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

/** The staging modules (k8s.io/api, client-go, ...) are tagged v0.<minor>.<patch> for Kubernetes 1.<minor>.<patch>. */
const stagingVersion = `v0.${kubernetesRelease.split(".").slice(1).join(".")}`;

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
  tagged("etcd", etcdVersion, "go.etcd.io/etcd/server/v3", { ".": "etcd" }),
  tagged("kwok", kwokVersion, "sigs.k8s.io/kwok", { "cmd/kwok": "kwok" }),
  tagged("prometheus-operator", prometheusOperatorVersion, "github.com/prometheus-operator/prometheus-operator", {
    "cmd/operator": "prometheus-operator",
  }),
];
