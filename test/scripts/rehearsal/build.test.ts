/** The generated wrapper modules the rehearsal builds, at the versions of cdk/versions.ts. */
import { describe, expect, it } from "vitest";
import { kubernetesRelease } from "../../../cdk/versions.ts";
import { cacheRoot, parseReplaces, wrapperGoMod } from "../../../scripts/rehearsal/build.ts";
import { goComponents } from "../../../scripts/rehearsal/go-components.ts";

const kubernetesGoMod = `module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tk8s.io/api v0.0.0
\tgithub.com/x/y v1.2.3 // indirect
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go // client
\tgithub.com/x/y => github.com/x/y v1.2.4
)

replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY
`;

describe("rehearsal build", () => {
  it("reads replace directives in block and single-line form, comments dropped", () => {
    expect(parseReplaces(kubernetesGoMod)).toEqual([
      { from: "k8s.io/api", to: "./staging/src/k8s.io/api" },
      { from: "k8s.io/client-go", to: "./staging/src/k8s.io/client-go" },
      { from: "github.com/x/y", to: "github.com/x/y v1.2.4" },
      { from: "go.etcd.io/etcd", to: "./FORBIDDEN_DEPENDENCY" },
    ]);
  });

  it("the wrapper repeats each folder replace as the published staging module at the pinned version", () => {
    const k8s = goComponents.find((c) => c.name === "kubernetes")!;
    const mod = wrapperGoMod(k8s, kubernetesGoMod);
    expect(mod).toContain(`require k8s.io/kubernetes v${kubernetesRelease}`);
    expect(mod).toContain(`\tk8s.io/api => k8s.io/api v0.${kubernetesRelease.split(".").slice(1).join(".")}`);
    expect(mod).toContain(`\tk8s.io/client-go => k8s.io/client-go v0.${kubernetesRelease.split(".").slice(1).join(".")}`);
    expect(mod).toContain("\tgithub.com/x/y => github.com/x/y v1.2.4");
    expect(mod).toContain("godebug default=go1.26");
    expect(mod).not.toContain("FORBIDDEN_DEPENDENCY");
  });

  it("caches outside the clone, under XDG_CACHE_HOME when set", () => {
    expect(cacheRoot({ XDG_CACHE_HOME: "/var/cache/x" })).toBe("/var/cache/x/anomaly-kit/rehearsal");
    expect(cacheRoot({ HOME: "/home/u" })).toMatch(/\.cache\/anomaly-kit\/rehearsal$/);
  });
});
