/**
 * The Jobs' names hash their pod templates (charts/job-name.ts). Inside the CDK app those templates hold token
 * strings whose numbers come from a process-wide counter, so the same kit synthesized after other tokens were
 * made got other names, and every deploy re-created the Jobs. Here the kit is synthesized in one process in
 * different orders and after extra tokens: the EKS template's Job names must not move, and must move when the
 * template really changes.
 */
import { Token } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import type { ChartsBuilder } from "../../cdk/eks/chart-manifests.ts";
import { kitCharts } from "../../cdk/kit-charts.ts";
import { synthKit, type Synthesized } from "./kit-synth.ts";

const eksTemplate = (s: Synthesized) => s.templates["anomaly-eks.template.json"]!;

/** The Jobs' names in the EKS stack's manifests: `schema-<hash>`, `grafana-admin-secret-<hash>`. */
function jobNames(s: Synthesized): { schema: string[]; grafanaAdminSecret: string[] } {
  const text = JSON.stringify(eksTemplate(s));
  const named = (component: string) =>
    [...text.matchAll(new RegExp(`\\\\"name\\\\":\\\\"(${component}-[0-9a-f]{10})\\\\"`, "g"))].map((m) => m[1]!);
  return { schema: [...new Set(named("schema"))], grafanaAdminSecret: [...new Set(named("grafana-admin-secret"))] };
}

/** Makes tokens nobody uses, so the kit's own tokens get other numbers than in the synth before. */
function advanceTokenCounter(count: number): void {
  for (let i = 0; i < count; i++) Token.asString({ resolve: () => i });
}

const synth = (preset: string, charts: ChartsBuilder = kitCharts) => synthKit({ preset }, { charts, nag: false });

let first: Synthesized;
let again: Synthesized;

beforeAll(() => {
  first = synth("stage-3");
  synth("stage-12");
  advanceTokenCounter(1000);
  again = synth("stage-3");
});

describe("Job names in the CDK app", () => {
  it("the manifests hold deploy-time tokens", () => {
    // Without tokens in the templates the test would prove nothing; the image URI is one.
    expect(JSON.stringify(eksTemplate(first))).toContain("container-assets");
  });

  it("one schema Job and one admin Secret Job, each named by a hash", () => {
    const names = jobNames(first);
    expect(names.schema).toHaveLength(1);
    expect(names.grafanaAdminSecret).toHaveLength(1);
  });

  it("are the same on every synth of the same kit, whatever was synthesized before", () => {
    expect(jobNames(again)).toEqual(jobNames(first));
  });

  it("change when the pod template really changes: the image, a deploy-time value, the revision", () => {
    const base = jobNames(first);
    const otherImage = jobNames(
      synth("stage-3", (app, input) => kitCharts(app, { ...input, image: { ...input.image, image: `${input.image.image}-debug` } })),
    );
    expect(otherImage.schema).not.toEqual(base.schema);
    expect(otherImage.grafanaAdminSecret).not.toEqual(base.grafanaAdminSecret);
    // Another token in the same place (same text shape, another resource's value): another name.
    const otherSecret = jobNames(
      synth("stage-3", (app, input) =>
        kitCharts(app, {
          ...input,
          endpoints: { ...input.endpoints, cassandraPasswordSecretArn: input.endpoints.cassandraTlsCaSecretArn },
        }),
      ),
    );
    expect(otherSecret.schema).not.toEqual(base.schema);
    expect(otherSecret.grafanaAdminSecret).toEqual(base.grafanaAdminSecret);
    const otherRevision = jobNames(
      synth("stage-3", (app, input) => kitCharts(app, { ...input, image: { ...input.image, revision: `${input.image.revision}x` } })),
    );
    expect(otherRevision.schema).not.toEqual(base.schema);
    expect(otherRevision.grafanaAdminSecret).not.toEqual(base.grafanaAdminSecret);
  });
});
