/**
 * Manifests applied a second time, unchanged, must not report "configured": nothing in them may differ from
 * the object the API server stores. The server drops empty lists and empty optional objects (omitempty) and
 * writes resource quantities back as canonical strings ("2", "500m", "2Gi"), so the manifests must already
 * say exactly that. The canonical forms are checked here independently of the charts' own formatter.
 */
import { describe, expect, it } from "vitest";
import { cpuQuantity, memoryQuantity } from "../../charts/pod-security.ts";
import { presetManifests, presetNames, type K8sObject } from "./fixtures.ts";

type Finding = { object: string; path: string; value: unknown };

/** Empty objects the API server keeps: a NetworkPolicy's required `podSelector: {}` (it selects every pod). */
const keptEmptyObjects = new Set(["NetworkPolicy:spec.podSelector"]);

const binarySuffixes = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/** True when `text` is the API server's canonical form of a CPU quantity. */
function canonicalCpu(text: string): boolean {
  const whole = /^[1-9]\d*$/.exec(text);
  if (whole) return true;
  const milli = /^([1-9]\d*)m$/.exec(text);
  return milli !== null && Number(milli[1]) % 1000 !== 0;
}

/** True when `text` is the canonical form of a byte quantity: the largest binary suffix that is exact. */
function canonicalBytes(text: string): boolean {
  const m = /^([1-9]\d*)(Ki|Mi|Gi|Ti|Pi|Ei)$/.exec(text);
  if (m === null) return false;
  return Number(m[1]) % 1024 !== 0 || m[2] === binarySuffixes.at(-1);
}

function walk(object: K8sObject, visit: (path: string[], value: unknown) => void): void {
  const go = (value: unknown, path: string[]) => {
    visit(path, value);
    if (Array.isArray(value)) value.forEach((v, i) => go(v, [...path, String(i)]));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) go(v, [...path, k]);
  };
  go(object, []);
}

function findings(objects: readonly K8sObject[]) {
  const empty: Finding[] = [];
  const quantities: Finding[] = [];
  for (const o of objects) {
    const name = `${o.kind}/${o.metadata.name}`;
    // ConfigMap data are opaque strings; the walk never enters them.
    walk(o, (path, value) => {
      const at = path.join(".");
      if (Array.isArray(value) && value.length === 0) empty.push({ object: name, path: at, value });
      if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) {
        const general = `${o.kind}:${path.filter((p) => !/^\d+$/.test(p)).join(".")}`;
        if (!keptEmptyObjects.has(general)) empty.push({ object: name, path: at, value });
      }
      const parent = path.at(-2);
      const key = path.at(-1);
      const isResource = (parent === "requests" || parent === "limits") && path.at(-3) === "resources";
      if ((isResource && key !== undefined) || key === "sizeLimit") {
        quantities.push({ object: name, path: `${at}:${key === "cpu" ? "cpu" : "bytes"}`, value });
      }
    });
  }
  return { empty, quantities };
}

describe.each(presetNames)("re-applying preset %s unchanged", (preset) => {
  const { objects } = presetManifests(preset);
  const { empty, quantities } = findings(objects);

  it("writes no empty list or empty object the API server would drop (e.g. a NetworkPolicy's `ingress: []`)", () => {
    expect(empty).toEqual([]);
  });

  it("gives no namespace to cluster-scoped objects (the server has none to return)", () => {
    const clusterScoped = objects.filter((o) => ["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(o.kind));
    expect(clusterScoped.length).toBeGreaterThanOrEqual(3);
    expect(clusterScoped.filter((o) => o.metadata.namespace !== undefined).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  it("writes every CPU and memory quantity as the string the API server returns", () => {
    // The walk finds the quantities (at least the detector's and the load generator's requests and limits).
    expect(quantities.length).toBeGreaterThanOrEqual(8);
    const wrong = quantities.filter((q) => {
      if (typeof q.value !== "string") return true;
      return q.path.endsWith(":cpu") ? !canonicalCpu(q.value) : !canonicalBytes(q.value);
    });
    expect(wrong).toEqual([]);
  });
});

describe("quantity formatting", () => {
  it("whole cores as an integer string, the rest in millicores; memory with the largest exact binary suffix", () => {
    const cores = [0.1, 0.25, 0.5, 1, 1.5, 2, 4, 16, 2.001];
    for (const c of cores) expect(canonicalCpu(cpuQuantity(c)), String(c)).toBe(true);
    // Read back: the quantity means the same number of cores.
    for (const c of cores) {
      const q = cpuQuantity(c);
      expect(q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q), q).toBeCloseTo(c, 6);
    }
    for (const mib of [64, 256, 512, 1000, 1024, 1536, 2048, 3072, 1024 * 1024]) {
      const q = memoryQuantity(mib);
      expect(canonicalBytes(q), q).toBe(true);
      const [, n, suffix] = /^(\d+)(\w\w)$/.exec(q)!;
      expect(Number(n) * 1024 ** (binarySuffixes.indexOf(suffix!) - 1), q).toBe(mib);
    }
    expect(() => cpuQuantity(0)).toThrow(/cpu: value 0/);
    expect(() => cpuQuantity(0.0005)).toThrow(/steps of 0.001/);
    expect(() => memoryQuantity(1.5)).toThrow(/memoryMiB: value 1.5/);
  });
});
