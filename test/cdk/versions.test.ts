/**
 * One version table (cdk/versions.ts): what the kit deploys, builds and runs agrees with it — the synthesized
 * stacks, the charts' images, the rehearsal's components, the packages whose names carry a Kubernetes minor and
 * the Dockerfile's base (the image lock is held to the charts' tags in test/scripts/images/pin-images.test.ts) —
 * and no other source writes one of its releases out by hand.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { dockerfileBase } from "../../cdk/image-lock.ts";
import { kitStackNames } from "../../cdk/stack-names.ts";
import * as versions from "../../cdk/versions.ts";
import { goComponents } from "../../scripts/rehearsal/go-components.ts";
import { presetManifests } from "../charts/fixtures.ts";
import { repoRoot, resourcesOfType, synthKit, type CfnTemplate, type Synthesized } from "./kit-synth.ts";

const {
  cassandraVersion,
  cdk8sPlusApiLevel,
  etcdVersion,
  grafanaVersion,
  jaegerVersion,
  kedaVersion,
  kubernetesMinor,
  kubernetesRelease,
  kwokVersion,
  minorOf,
  mskKafkaVersion,
  prometheusOperatorCrdsChartVersion,
  prometheusOperatorVersion,
} = versions;

const read = (file: string): string => readFileSync(join(repoRoot, file), "utf8");
/** "1.36" → "36": the form package names carry (cdk8s-plus-34, lambda-layer-kubectl-v36). */
const minorNumber = (majorMinor: string): string => majorMinor.split(".")[1]!;

describe("the version table", () => {
  it("derives the cluster's minor from the release, and names an API level no newer than the cluster", () => {
    expect(kubernetesRelease).toMatch(/^1\.\d+\.\d+$/);
    expect(kubernetesMinor).toBe(minorOf(kubernetesRelease));
    expect(Number(minorNumber(cdk8sPlusApiLevel))).toBeLessThanOrEqual(Number(minorNumber(kubernetesMinor)));
  });
});

describe("the synthesized stacks", () => {
  let kit: Synthesized;
  const template = (stack: keyof ReturnType<typeof kitStackNames>): CfnTemplate =>
    kit.templates[`${kitStackNames(kit.plan.experimentId)[stack]}.template.json`]!;

  beforeAll(() => {
    kit = synthKit({ preset: "stage-3", detectorAutoscaling: "keda" }, { nag: false });
  });

  it("run the table's Kubernetes minor on EKS", () => {
    const clusters = resourcesOfType(template("eks"), "AWS::EKS::Cluster");
    expect(clusters).toHaveLength(1);
    expect(clusters[0]![1].Properties!.Version).toBe(kubernetesMinor);
  });

  it("install the operator's CRDs chart and KEDA at the table's releases", () => {
    const releases = Object.fromEntries(
      resourcesOfType(template("eks"), "Custom::AWSCDK-EKS-HelmChart").map(([, r]) => [
        r.Properties!.Chart as string,
        r.Properties!.Version,
      ]),
    );
    expect(releases).toMatchObject({ "prometheus-operator-crds": prometheusOperatorCrdsChartVersion, keda: kedaVersion });
  });

  it("run the table's Kafka line on MSK and download the table's Cassandra on the nodes", () => {
    const [[, msk]] = resourcesOfType(template("kafka"), "AWS::MSK::Cluster") as [[string, CfnTemplate["Resources"][string]]];
    expect(msk.Properties!.KafkaVersion).toBe(mskKafkaVersion);
    for (const [, config] of resourcesOfType(template("kafka"), "AWS::MSK::Configuration")) {
      expect(config.Properties!.KafkaVersionsList).toEqual([mskKafkaVersion]);
    }
    const userData = resourcesOfType(template("cassandra"), "AWS::EC2::Instance").map(([, r]) =>
      gunzipSync(Buffer.from(r.Properties!.UserData as string, "base64")).toString("utf8"),
    );
    expect(userData.length).toBeGreaterThan(0);
    for (const script of userData) expect(script.includes(`apache-cassandra-${cassandraVersion}-bin.tar.gz`)).toBe(true);
  });
});

describe("the charts", () => {
  const objects = presetManifests("stage-3").objects;
  const text = JSON.stringify(objects);

  it("run the third-party images at the table's releases", () => {
    for (const image of [
      `quay.io/prometheus-operator/prometheus-operator:v${prometheusOperatorVersion}`,
      `quay.io/prometheus-operator/prometheus-config-reloader:v${prometheusOperatorVersion}`,
      `grafana/grafana:${grafanaVersion}`,
      `jaegertracing/jaeger:${jaegerVersion}`,
    ]) {
      expect(text, image).toContain(image);
    }
  });

  it("pin the namespace's Pod Security profile at the API level the charts are typed for", () => {
    const namespace = objects.find((o) => o.kind === "Namespace")!;
    expect(namespace.metadata.labels!["pod-security.kubernetes.io/enforce-version"]).toBe(`v${cdk8sPlusApiLevel}`);
  });

  it("are typed by the one cdk8s-plus line of the table's API level", () => {
    const manifest = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const packages = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    expect(packages.filter((p) => p.startsWith("cdk8s-plus-"))).toEqual([`cdk8s-plus-${minorNumber(cdk8sPlusApiLevel)}`]);
  });
});

describe("the CDK's kubectl", () => {
  it("is the layer package of the cluster's minor, the one the EKS stack imports", () => {
    const layer = `@aws-cdk/lambda-layer-kubectl-v${minorNumber(kubernetesMinor)}`;
    const manifest = JSON.parse(read("package.json")) as { devDependencies: Record<string, string> };
    expect(Object.keys(manifest.devDependencies).filter((p) => p.startsWith("@aws-cdk/lambda-layer-kubectl"))).toEqual([layer]);
    const imports = ts.preProcessFile(read("cdk/eks-stack.ts"), true, true).importedFiles.map((f) => f.fileName);
    expect(imports.filter((f) => f.startsWith("@aws-cdk/lambda-layer-kubectl"))).toEqual([layer]);
  });
});

describe("the rehearsal", () => {
  it("builds the table's Kubernetes release, operator, etcd and kwok", () => {
    expect(Object.fromEntries(goComponents.map((c) => [c.name, c.version]))).toEqual({
      kubernetes: kubernetesRelease,
      etcd: etcdVersion,
      kwok: kwokVersion,
      "prometheus-operator": prometheusOperatorVersion,
    });
  });
});

describe("files that cannot import the table", () => {
  it("the Dockerfile's Node base is the major .nvmrc names", () => {
    const base = dockerfileBase(read("Dockerfile"))!;
    expect(base.reference).toMatch(new RegExp(`^node:${read(".nvmrc").trim()}(-|$)`));
  });
});

describe("no source writes a release of the table by hand", () => {
  const releases = Object.entries(versions).filter((e): e is [string, string] => typeof e[1] === "string" && /^\d+\.\d+\.\d+$/.test(e[1]));
  const sources = ts.sys
    .readDirectory(repoRoot, [".ts"], undefined, ["app/**/*", "cdk/**/*", "charts/**/*", "scripts/**/*"])
    .map((f) => f.slice(repoRoot.length + 1))
    .filter((f) => f !== "cdk/versions.ts" && !f.startsWith("charts/imports/"));

  it("reads the table's releases and the sources", () => {
    expect(releases.map(([name]) => name)).toEqual(
      expect.arrayContaining(["kubernetesRelease", "kafkaVersion", "cassandraVersion", "kedaVersion"]),
    );
    expect(sources).toContain("cdk/eks-stack.ts");
  });

  it("imports each from cdk/versions.ts instead", () => {
    const found = sources.flatMap((file) =>
      read(file)
        .split("\n")
        .flatMap((line, i) =>
          releases
            .filter(([, release]) => new RegExp(`(^|[^\\d.])${release.replaceAll(".", "\\.")}([^\\d]|$)`).test(line))
            .map(([name, release]) => `${file}:${i + 1}: ${release} (${name})`),
        ),
    );
    expect(found).toEqual([]);
  });
});
