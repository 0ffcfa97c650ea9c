/**
 * KEDA in the EKS stack (size input detectorAutoscaling=keda): the Helm release pinned to kedaChart, its
 * operator's Pod Identity role allowed only to assume the detector role (whose trust admits it), the charts'
 * ScaledObject naming that role, applied after the release; absent by default. cdk-nag and cfn-lint pass.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kedaNamespace, kedaOperatorServiceAccount } from "../../cdk/eks/keda.ts";
import { kedaChart } from "../../cdk/eks-stack.ts";
import { kitCharts } from "../../cdk/kit-charts.ts";
import { cfnLint, resourcesOfType, synthKit, type CfnTemplate, type Synthesized } from "./kit-synth.ts";

type Resource = CfnTemplate["Resources"][string];
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: Record<string, unknown> };

let off: Synthesized;
let on: Synthesized;
const eksOf = (kit: Synthesized) => kit.templates[`${kit.plan.experimentId}-eks.template.json`]!;
const idOf = (t: CfnTemplate, prefix: string, type: string) => {
  const ids = resourcesOfType(t, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids, `${prefix} (${type})`).toHaveLength(1);
  return ids[0]!;
};
const getAtt = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });
const dependsOn = (r: Resource) => [r.DependsOn ?? []].flat();
/** A manifest's text with its CloudFormation expressions kept as JSON (the role ARN is a GetAtt inside a Join). */
const manifestText = (r: Resource) => JSON.stringify(r.Properties!.Manifest);

beforeAll(() => {
  off = synthKit({ preset: "stage-3" }, { charts: kitCharts });
  on = synthKit({ preset: "stage-3", detectorAutoscaling: "keda" }, { charts: kitCharts });
});

describe("KEDA in the EKS stack", () => {
  it("is not there by default: no release, no operator identity, no ScaledObject", () => {
    const eks = eksOf(off);
    expect(off.plan.detector.autoscaling).toBe("off");
    expect(resourcesOfType(eks, "Custom::AWSCDK-EKS-HelmChart").map(([, r]) => r.Properties!.Chart)).not.toContain(kedaChart.chart);
    expect(resourcesOfType(eks, "AWS::EKS::PodIdentityAssociation").map(([, r]) => r.Properties!.Namespace)).not.toContain(kedaNamespace);
    for (const [, m] of resourcesOfType(eks, "Custom::AWSCDK-EKS-KubernetesResource"))
      expect(manifestText(m)).not.toContain("ScaledObject");
  });

  it("installs the pinned chart in its namespace with the operator's ServiceAccount named, after its identity", () => {
    const eks = eksOf(on);
    const releases = resourcesOfType(eks, "Custom::AWSCDK-EKS-HelmChart").filter(([, r]) => r.Properties!.Chart === kedaChart.chart);
    expect(releases).toHaveLength(1);
    const [, release] = releases[0]!;
    expect(release.Properties).toMatchObject({
      Version: kedaChart.version,
      Repository: kedaChart.repository,
      Namespace: kedaNamespace,
      CreateNamespace: true,
      Wait: true,
    });
    expect(JSON.parse(release.Properties!.Values as string)).toEqual({
      serviceAccount: { operator: { name: kedaOperatorServiceAccount } },
    });
    const association = idOf(eks, "KedaOperatorPodIdentity", "AWS::EKS::PodIdentityAssociation");
    expect(eks.Resources[association]!.Properties).toMatchObject({
      Namespace: kedaNamespace,
      ServiceAccount: kedaOperatorServiceAccount,
      RoleArn: getAtt(idOf(eks, "KedaOperatorRole", "AWS::IAM::Role")),
    });
    expect(dependsOn(release)).toContain(association);
    expect(dependsOn(release)).toContain(resourcesOfType(eks, "AWS::EKS::Nodegroup")[0]![0]);
  });

  it("lets the operator assume the detector role and nothing else, and the detector role trusts only it besides Pod Identity", () => {
    const eks = eksOf(on);
    const operatorRole = idOf(eks, "KedaOperatorRole", "AWS::IAM::Role");
    const detectorRole = idOf(eks, "DetectorRole", "AWS::IAM::Role");
    const policiesOf = (role: string) =>
      resourcesOfType(eks, "AWS::IAM::Policy").filter(([, p]) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: role }]));
    const operatorStatements = policiesOf(operatorRole).flatMap(
      ([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    expect(operatorStatements).toEqual([{ Effect: "Allow", Action: ["sts:AssumeRole", "sts:TagSession"], Resource: getAtt(detectorRole) }]);
    expect(eks.Resources[operatorRole]!.Properties!.ManagedPolicyArns).toBeUndefined();

    // CDK merges trust statements with the same actions; flattened: who may do what.
    const trustOf = (t: CfnTemplate, role: string) =>
      (t.Resources[role]!.Properties!.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement.flatMap((st) =>
        Object.entries(st.Principal ?? {}).flatMap(([kind, value]) =>
          [value].flat().flatMap((who) => [st.Action].flat().map((action) => `${st.Effect} ${kind}:${JSON.stringify(who)} ${action}`)),
        ),
      );
    const pods = 'Service:"pods.eks.amazonaws.com"';
    const keda = `AWS:${JSON.stringify(getAtt(operatorRole))}`;
    expect(trustOf(eks, detectorRole).sort()).toEqual(
      [
        `Allow ${pods} sts:AssumeRole`,
        `Allow ${pods} sts:TagSession`,
        `Allow ${keda} sts:AssumeRole`,
        `Allow ${keda} sts:TagSession`,
      ].sort(),
    );
    // Without it, the trust is Pod Identity's alone.
    expect(trustOf(eksOf(off), idOf(eksOf(off), "DetectorRole", "AWS::IAM::Role")).sort()).toEqual([
      `Allow ${pods} sts:AssumeRole`,
      `Allow ${pods} sts:TagSession`,
    ]);
  });

  it("applies the ScaledObject after the release, naming the detector role, with the Deployment's replicas left to KEDA", () => {
    const eks = eksOf(on);
    const release = resourcesOfType(eks, "Custom::AWSCDK-EKS-HelmChart").find(([, r]) => r.Properties!.Chart === kedaChart.chart)![0];
    const manifests = resourcesOfType(eks, "Custom::AWSCDK-EKS-KubernetesResource");
    for (const [id, m] of manifests) expect(dependsOn(m), id).toContain(release);
    const withScaledObject = manifests.filter(([, m]) => manifestText(m).includes('\\"kind\\":\\"ScaledObject\\"'));
    expect(withScaledObject).toHaveLength(1);
    const text = manifestText(withScaledObject[0]![1]);
    expect(text).toContain('\\"kind\\":\\"TriggerAuthentication\\"');
    expect(text).toContain(JSON.stringify(getAtt(idOf(eks, "DetectorRole", "AWS::IAM::Role"))));
  });

  it("passes cdk-nag and cfn-lint", () => {
    expect(on.validationReport?.pluginReports.flatMap((r) => r.violations) ?? []).toEqual([]);
    const linter = cfnLint();
    expect(linter, "cfn-lint is needed (pip install cfn-lint into .tools/py)").toBeDefined();
    const file = join(mkdtempSync(join(tmpdir(), "kit-keda-lint-")), "eks.template.json");
    writeFileSync(file, JSON.stringify(eksOf(on)));
    const run = spawnSync(linter!, ["--format", "parseable", "--", file], { encoding: "utf8", timeout: 300_000 });
    const errors = run.stdout.split("\n").filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect(run.status === null ? -1 : run.status & 3, run.stderr).toBe(0);
  }, 300_000);
});
