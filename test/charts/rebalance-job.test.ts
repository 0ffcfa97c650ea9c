/**
 * The rebalance Job the AWS runner creates after a stage is ready: its objects against the Kubernetes schemas
 * (kubernetes-validate, strict), and the runner's judgement of the Job's read-back (the 1.5x rule).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { serviceAccounts } from "../../cdk/workload-names.ts";
import { components, selectorLabels } from "../../charts/names.ts";
import { rebalanceJobManifests } from "../../charts/rebalance-job.ts";
import { kubernetesMinor } from "../../cdk/versions.ts";
import { judgeReadBack } from "../../scripts/experiment/rebalance-job-run.ts";

const root = resolve(import.meta.dirname, "../..");
const python = process.env.KUBERNETES_VALIDATE_PYTHON ?? join(root, ".tools/py/bin/python");
const manifests = rebalanceJobManifests({
  namespace: "exp-1",
  name: "partition-rebalance-stage-6-abc",
  image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:rev",
  uid: 1000,
  env: [{ name: "KAFKA_BROKERS", value: "b-1:9098" }],
});

describe("rebalance Job", () => {
  it(`its ServiceAccount and Job are valid for Kubernetes ${kubernetesMinor}`, () => {
    const dir = mkdtempSync(join(tmpdir(), "rebalance-job-"));
    try {
      const file = join(dir, "rebalance.yaml");
      writeFileSync(file, manifests.map((m) => stringify(m)).join("---\n"));
      const out = JSON.parse(
        execFileSync(
          python,
          [join(import.meta.dirname, "validate_manifests.py"), kubernetesMinor, join(root, "charts/crds/schemas"), file],
          { encoding: "utf8" },
        ),
      ) as {
        checked: number;
        errors: unknown[];
      };
      expect(out).toEqual({ checked: 2, errors: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs `rebalance` as the rebalancer ServiceAccount, under the schema Job's NetworkPolicy", () => {
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      `ServiceAccount/${serviceAccounts.rebalancer}`,
      "Job/partition-rebalance-stage-6-abc",
    ]);
    const job = manifests[1] as unknown as {
      spec: {
        template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: { args: string[] }[] } };
      };
    };
    expect(job.spec.template.spec.serviceAccountName).toBe(serviceAccounts.rebalancer);
    expect(job.spec.template.spec.containers[0]!.args).toEqual(["rebalance"]);
    expect(job.spec.template.metadata.labels).toMatchObject(selectorLabels(components.schema));
  });
});

describe("the runner's judgement of the read-back", () => {
  const even = { "1": 4, "2": 4, "3": 4, "4": 4, "5": 4, "6": 4 };
  const summary = (events: Record<string, number>) => ({
    brokers: [1, 2, 3, 4, 5, 6],
    reassigned: 36,
    leadersBefore: {},
    leaders: { events, checks: even, "events-dead-letter": even },
    problems: [],
  });

  it("passes an even spread", () => {
    expect(judgeReadBack(summary(even), "test").problems).toEqual([]);
  });

  it("fails a stage whose busiest broker leads more than 1.5x the least, naming both", () => {
    expect(judgeReadBack(summary({ "1": 6, "2": 6, "3": 6, "4": 2, "5": 2, "6": 2 }), "test").problems).toEqual([
      "topic events: broker 1 leads 6 partitions, 3.00x broker 4's 2; allowed: at most 1.5x",
    ]);
  });
});
