/** The rehearse command's arguments, and how it reads kubectl's and the operator's output. */
import { describe, expect, it } from "vitest";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import { parseKubectlStderr } from "../../../scripts/rehearsal/apply.ts";
import { stageManifests } from "../../../scripts/rehearsal/manifests.ts";
import { expectedScrapeJobs, operatorDeployment } from "../../../scripts/rehearsal/operator.ts";
import { parseArgs } from "../../../scripts/rehearse.ts";

describe("rehearse arguments", () => {
  it("takes a preset, a smaller --from and scenarios", () => {
    expect(parseArgs(["--preset", "stage-48", "--from", "stage-24"])).toMatchObject({ preset: "stage-48", from: "stage-24" });
    expect(parseArgs(["--preset", "stage-3", "--scenarios", "none"]).scenarios).toEqual([]);
  });

  it.each([
    [["--preset", "stage-7"], /--preset: value "stage-7" is not allowed; allowed: stage-3, stage-6, stage-12, stage-24, stage-48/],
    [
      ["--preset", "stage-24", "--from", "stage-48"],
      /--from: value "stage-48" is not allowed with --preset stage-24; allowed: a smaller stage/,
    ],
    [
      ["--preset", "stage-3", "--scenarios", "drain,chaos"],
      /--scenarios: value "chaos" is not allowed; allowed: rolling-update, drain, zone-lost/,
    ],
    [["--preset", "stage-3", "--prest", "x"], /unknown option '--prest'/],
    [[], /required option '--preset <stage>' not specified/],
  ])("refuses %j naming the flag and what is allowed", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe("kubectl's stderr", () => {
  it("splits server warnings from rejected objects", () => {
    const stderr = [
      'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false',
      'Error from server (Forbidden): error when creating "STDIN": pods "x-1" is forbidden: violates PodSecurity "restricted:latest"',
      'Error from server (Invalid): error when applying patch: Deployment.apps "detector" is invalid: spec.replicas: Invalid value: -1',
    ].join("\n");
    const r = parseKubectlStderr(stderr);
    expect(r.warnings).toEqual(['would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false']);
    expect(r.rejected.map((x) => x.object)).toEqual(["x-1", "detector"]);
  });
});

describe("operator", () => {
  const manifests = stageManifests(sizePlanFrom({ preset: "stage-3" }));

  it("runs with the chart's own Deployment arguments and ServiceAccount", () => {
    const d = operatorDeployment(manifests.find((m) => m.chart === "prometheusOperator")!);
    expect(d.args.some((a) => a.startsWith("--namespaces="))).toBe(true);
    expect(d.serviceAccount).toBe("prometheus-operator");
  });

  it("expects one job per ServiceMonitor endpoint and per ScrapeConfig, in the operator's naming", () => {
    const jobs = expectedScrapeJobs(manifests);
    expect(jobs).toContain("serviceMonitor/anomaly/detector/0");
    expect(jobs).toContain("scrapeConfig/anomaly/cassandra-exporter");
    expect(jobs.length).toBeGreaterThanOrEqual(7);
  });
});
