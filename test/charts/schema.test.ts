/**
 * Every synthesized object of every preset against the Kubernetes schemas of the target version
 * (kubernetes-validate, strict) and every custom resource against its CRD's schema (charts/crds/schemas).
 * Needs the Python tools: python3 -m venv .tools/py && .tools/py/bin/pip install kubernetes-validate
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubernetesVersion } from "../../charts/versions.ts";
import { presetManifests, presetNames } from "./fixtures.ts";

const root = resolve(import.meta.dirname, "../..");
const python = process.env.KUBERNETES_VALIDATE_PYTHON ?? join(root, ".tools/py/bin/python");
const validator = join(import.meta.dirname, "validate_manifests.py");
const schemaDir = join(root, "charts/crds/schemas");

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
    return JSON.parse(execFileSync(python, [validator, kubernetesVersion, schemaDir, ...files], { encoding: "utf8" })) as Result;
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

  it(`every object of every preset is valid for Kubernetes ${kubernetesVersion} and its CRD`, () => {
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
    expect(result.errors.map((e) => `${e.kind}/${e.name}`)).toEqual([
      "Deployment/d",
      "ServiceMonitor/s",
      "Prometheus/p",
      "PodMonitor/m",
    ]);
    expect(result.errors[1]!.error).toMatch(/'portName' was unexpected/);
    expect(result.errors[3]!.error).toMatch(/no CRD schema/);
  });
});
