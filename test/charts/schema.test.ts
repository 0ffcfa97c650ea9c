/**
 * Every synthesized object of every preset against the Kubernetes schemas of the cluster's minor (cdk/versions.ts)
 * (kubernetes-validate, strict) and every custom resource against its CRD's schema (charts/crds/schemas), also the
 * detector's KEDA ScaledObject and TriggerAuthentication of every preset with detectorAutoscaling keda.
 * Needs the Python tools: python3 -m venv .tools/py && .tools/py/bin/pip install kubernetes-validate
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { synthesizeManifests } from "../../charts/synth.ts";
import { kubernetesMinor } from "../../cdk/versions.ts";
import { fullOptions, presetManifests, presetNames, type K8sObject } from "./fixtures.ts";

const root = resolve(import.meta.dirname, "../..");
const python = process.env.KUBERNETES_VALIDATE_PYTHON ?? join(root, ".tools/py/bin/python");
const validator = join(import.meta.dirname, "validate_manifests.py");
const schemaDir = join(root, "charts/crds/schemas");
const roleArn = "arn:aws:iam::123456789012:role/detector";
const isKeda = (o: K8sObject) => o.apiVersion.startsWith("keda.sh/");

/** The manifests of a preset with the detector autoscaled by KEDA, with MSK IAM auth (full endpoints) or none. */
function kedaManifests(preset: (typeof presetNames)[number], auth: "aws-iam" | "none") {
  const endpoints = auth === "aws-iam" ? fullOptions.endpoints : { kafkaBrokers: "kafka:9092", cassandraContactPoints: "cassandra:9042" };
  return synthesizeManifests(sizePlanFrom({ preset, detectorAutoscaling: "keda" }), {
    ...fullOptions,
    endpoints,
    autoscaling: { roleArn },
  });
}

interface Result {
  checked: number;
  errors: { file: string; kind: string; name: string; error: string }[];
}

function validate(files: string[]): Result {
  if (!existsSync(python)) {
    throw new Error(
      `${python} is missing: python3 -m venv .tools/py && .tools/py/bin/pip install kubernetes-validate (or set KUBERNETES_VALIDATE_PYTHON)`,
    );
  }
  try {
    return JSON.parse(execFileSync(python, [validator, kubernetesMinor, schemaDir, ...files], { encoding: "utf8" })) as Result;
  } catch (e) {
    const stdout = (e as { stdout?: string }).stdout;
    if (stdout !== undefined && stdout.startsWith("{")) return JSON.parse(stdout) as Result;
    throw e;
  }
}

describe("schema validation", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "charts-schema-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`every object of every preset is valid for Kubernetes ${kubernetesMinor} and its CRD`, () => {
    const files: string[] = [];
    let objects = 0;
    for (const preset of presetNames) {
      for (const m of presetManifests(preset).manifests) {
        const file = join(dir, `${preset}-${m.file}`);
        writeFileSync(file, m.yaml);
        files.push(file);
        objects += m.objects.length;
      }
    }
    const result = validate(files);
    expect(result.errors).toEqual([]);
    expect(result.checked).toBe(objects);
  });

  it("with detectorAutoscaling keda, every preset's KEDA objects are valid for KEDA's CRDs (and their manifests for Kubernetes)", () => {
    const files: string[] = [];
    const kinds: string[] = [];
    let objects = 0;
    for (const preset of presetNames) {
      for (const auth of ["aws-iam", "none"] as const) {
        // The manifest holding the KEDA objects (with the detector Deployment they scale), validated whole.
        for (const m of kedaManifests(preset, auth).filter((m) => (m.objects as K8sObject[]).some(isKeda))) {
          const file = join(dir, `keda-${auth}-${preset}-${m.file}`);
          writeFileSync(file, m.yaml);
          files.push(file);
          objects += m.objects.length;
          kinds.push(...(m.objects as K8sObject[]).filter(isKeda).map((o) => o.kind));
        }
      }
    }
    // Not vacuous: one ScaledObject per preset and auth, one TriggerAuthentication per preset with MSK IAM.
    expect(kinds.filter((k) => k === "ScaledObject")).toHaveLength(presetNames.length * 2);
    expect(kinds.filter((k) => k === "TriggerAuthentication")).toHaveLength(presetNames.length);
    expect(kinds.length).toBe(presetNames.length * 3);
    const result = validate(files);
    expect(result.errors).toEqual([]);
    expect(result.checked).toBe(objects);
  });

  it("the validator rejects the detector's KEDA objects once broken (wrong types, missing or unknown fields)", () => {
    const keda = kedaManifests("stage-3", "aws-iam")
      .flatMap((m) => m.objects as K8sObject[])
      .filter(isKeda);
    const so = keda.find((o) => o.kind === "ScaledObject")!;
    const ta = keda.find((o) => o.kind === "TriggerAuthentication")!;
    type Spec = Record<string, unknown> & { scaleTargetRef: Record<string, unknown>; triggers: { metadata: Record<string, unknown> }[] };
    /** A copy of `o` named `name`, its spec changed by `change`. */
    const broken = (o: K8sObject, name: string, change: (spec: Spec) => void): K8sObject => {
      const copy = structuredClone(o);
      copy.metadata.name = name;
      change(copy.spec as Spec);
      return copy;
    };
    const file = join(dir, "bad-keda.yaml");
    const docs = [
      so,
      ta,
      broken(so, "max-as-string", (spec) => void (spec.maxReplicaCount = String(spec.maxReplicaCount))),
      broken(so, "no-target-name", (spec) => void delete spec.scaleTargetRef.name),
      broken(
        so,
        "numeric-metadata",
        (spec) => void (spec.triggers[0]!.metadata.lagThreshold = Number(spec.triggers[0]!.metadata.lagThreshold)),
      ),
      broken(so, "unknown-field", (spec) => void (spec.maxReplicas = 3)),
      broken(ta, "bad-provider", (spec) => void (spec.podIdentity = { provider: "aws-iam", roleArn })),
    ];
    writeFileSync(file, docs.map((d) => stringify(d)).join("---\n"));
    const result = validate([file]);
    expect(result.checked).toBe(docs.length);
    expect(result.errors.map((e) => `${e.kind}/${e.name}`)).toEqual([
      "ScaledObject/max-as-string",
      "ScaledObject/no-target-name",
      "ScaledObject/numeric-metadata",
      "ScaledObject/unknown-field",
      "TriggerAuthentication/bad-provider",
    ]);
    expect(result.errors.map((e) => e.error)).toEqual([
      expect.stringMatching(/^spec\/maxReplicaCount: '\d+' is not of type 'integer'/),
      expect.stringMatching(/^spec\/scaleTargetRef: 'name' is a required property/),
      expect.stringMatching(/^spec\/triggers\/0\/metadata\/lagThreshold: \d+ is not of type 'string'/),
      expect.stringMatching(/^spec: .*'maxReplicas' was unexpected/),
      expect.stringMatching(/^spec\/podIdentity\/provider: 'aws-iam' is not one of/),
    ]);
  });

  it("the validator rejects unknown fields and wrong types, built-in and custom", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      [
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicass: 3\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}",
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: s}\nspec:\n  selector: {matchLabels: {a: b}}\n  endpoints: [{portName: metrics}]",
        "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: p}\nspec: {replicas: two}",
        "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {name: m}\nspec: {}",
      ].join("\n---\n"),
    );
    const result = validate([file]);
    expect(result.errors.map((e) => `${e.kind}/${e.name}`)).toEqual(["Deployment/d", "ServiceMonitor/s", "Prometheus/p", "PodMonitor/m"]);
    expect(result.errors[1]!.error).toMatch(/'portName' was unexpected/);
    expect(result.errors[3]!.error).toMatch(/no CRD schema/);
  });
});
