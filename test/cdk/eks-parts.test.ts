/**
 * The EKS stack is composed of parts (cdk/eks/), each making its resources at the stack's scope: a deployed
 * stack must keep every logical id, or CloudFormation replaces the resource (the cluster with it). The ids
 * below are those the stack had before it was split; a new resource adds its id here, a renamed one is a
 * replacement and has to be meant.
 */
import { KubectlV36Layer } from "@aws-cdk/lambda-layer-kubectl-v36";
import { App, CfnResource, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import { ApiObject, Chart } from "cdk8s";
import { beforeAll, describe, expect, it } from "vitest";
import { ChartManifests, type ChartsBuilder } from "../../cdk/eks/chart-manifests.ts";
import { ParentScoped } from "../../cdk/eks/parent-scoped.ts";
import { kubernetesVersion } from "../../cdk/eks-stack.ts";
import { kitCharts } from "../../cdk/kit-charts.ts";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { synthKit, type CfnTemplate, type Synthesized } from "./kit-synth.ts";

const deployedLogicalIds = [
  "ControlPlaneLogs95F30E24",
  "SecretsKey317DCF94",
  "KubectlLayer600207B5",
  "ClusterRoleFA261979",
  "ClusterControlPlaneSecurityGroupD274242C",
  "ClusterEB0386A7",
  "ClusterKubectlReadyBarrier200052AF",
  "ClusterKubectlProviderHandlerServiceRoleB460AA6D",
  "ClusterKubectlProviderHandlerServiceRoleDefaultPolicy77317198",
  "ClusterKubectlProviderHandler2E05C68A",
  "ClusterKubectlProviderHandlerLogGroup3ECFC1AD",
  "ClusterKubectlProviderAwsCliLayer24064B0B",
  "ClusterKubectlProviderframeworkonEventServiceRoleFD0BA8C5",
  "ClusterKubectlProviderframeworkonEventServiceRoleDefaultPolicyA4F24629",
  "ClusterKubectlProviderframeworkonEvent68E0CF80",
  "ClusterKubectlProviderframeworkonEventLogGroup6586722A",
  "ClusterClusterAdminRoleAccessF2BFF759",
  "ClusterClusterAdmin08C009FD",
  "ClusterNodegroupWorkersNodeGroupRole96870201",
  "ClusterNodegroupWorkersA3EA85B0",
  "ClusterchartPrometheusOperatorCrds745BE472",
  "Clusternamespace6E203CD9",
  "Clusterprometheusoperator84702716",
  "Clustermonitoring60F8EDA0",
  "ClusterjaegerCBFEC738",
  "ClustergrafanaEE54C470",
  "Clusterpipeline5D56ABE3",
  "WorkerLaunchTemplateA05EAA22",
  "PodIdentityAgentD8D3AD08",
  "VpcCniEC2AF11A",
  "DetectorRoleD78BA036",
  "DetectorRoleDefaultPolicy6E72798E",
  "DetectorPodIdentity",
  "LoadgenRole043F0DCA",
  "LoadgenRoleDefaultPolicy6D28B2E2",
  "LoadgenPodIdentity",
  // Added with the partition rebalance Job (its own role and Pod Identity association), after the split.
  "RebalancerRoleD79DA699",
  "RebalancerRoleDefaultPolicy9C700BD9",
  "RebalancerPodIdentity",
  "MskBrokersHandlerLogsB42B2AA0",
  "MskBrokersBootstrapBrokers818D3E20",
  "MskBrokersBootstrapBrokersCustomResourcePolicy3230B1A6",
  "MskBrokersBrokerNodes652E8C87",
  "MskBrokersBrokerNodesCustomResourcePolicyBF4EA9A4",
  "AWS679f53fac002430cb0da5b7982bd2287ServiceRoleC1EA0FF2",
  "AWS679f53fac002430cb0da5b7982bd22872D164C4C",
];

let kit: Synthesized;
beforeAll(() => {
  kit = synthKit({ preset: "stage-3", experimentId: "parts" }, { charts: kitCharts, nag: false });
});

describe("EKS stack parts", () => {
  it("keep the logical ids, in the order, of the stack before it was split into parts", () => {
    const template = kit.templates["parts-eks.template.json"]!;
    expect(Object.keys(template.Resources)).toEqual(deployedLogicalIds);
  });

  it("add no construct level of their own: each part's node is empty, its resources are the stack's children", () => {
    const stack = kit.stacks.eks;
    const parts = stack.node.children.filter((c) => c instanceof ParentScoped);
    expect(parts.map((p) => p.node.id)).toEqual([
      "ControlPlane",
      "ClusterAccess",
      "WorkerNodes",
      "Addons",
      "PodIdentities",
      "PrometheusOperatorCrds",
      "Charts",
    ]);
    for (const part of parts) expect(part.node.children, part.node.id).toEqual([]);
    for (const id of ["Cluster", "SecretsKey", "WorkerLaunchTemplate", "PodIdentityAgent", "DetectorRole", "LoadgenPodIdentity"]) {
      expect(stack.node.tryFindChild(id), id).toBeDefined();
    }
  });
});

describe("ChartManifests", () => {
  /** Two charts, `second` applied after `first` (a chart dependency), each with one ConfigMap. */
  const twoCharts: ChartsBuilder = (app) => {
    const first = new Chart(app, "first");
    const second = new Chart(app, "second");
    for (const chart of [first, second])
      new ApiObject(chart, "config", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: chart.node.id } });
    second.addDependency(first);
    return [first, second];
  };

  function synth(): { template: CfnTemplate; manifests: readonly eks.KubernetesManifest[]; after: CfnResource } {
    const app = new App({ context: { "aws:cdk:disable-asset-staging": true } });
    const stack = new Stack(app, "manifests-probe", { env: { region: "us-east-1" } });
    const vpc = new ec2.Vpc(stack, "Vpc", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    const cluster = new eks.Cluster(stack, "Cluster", {
      version: kubernetesVersion,
      vpc,
      endpointAccess: eks.EndpointAccess.PRIVATE,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      kubectlProviderOptions: { kubectlLayer: new KubectlV36Layer(stack, "KubectlLayer") },
    });
    const after = new CfnResource(stack, "Before", { type: "AWS::CloudFormation::WaitConditionHandle" });
    const { manifests } = new ChartManifests(stack, "Charts", {
      cluster,
      charts: twoCharts,
      plan: sizePlanFrom({ preset: "stage-3" }),
      endpoints: { kafkaBrokers: "kafka:9092", cassandraContactPoints: "cassandra:9042" },
      image: { image: "registry.example/app:1", revision: "1" },
      detectorRoleArn: "arn:aws:iam::111122223333:role/detector",
      after: [after],
    });
    return { template: app.synth().getStackByName(stack.stackName).template as CfnTemplate, manifests, after };
  }

  it("applies each chart as one manifest, after `after` and after the manifests of the charts it depends on", () => {
    const { template, manifests, after } = synth();
    const [first, second] = manifests.map((m) => Stack.of(m).getLogicalId(m.node.defaultChild as CfnResource));
    expect(manifests.map((m) => m.node.id)).toEqual(["first", "second"]);
    const dependsOn = (id: string) => [template.Resources[id]!.DependsOn ?? []].flat();
    const afterId = Stack.of(after).getLogicalId(after);
    expect(dependsOn(first!)).toContain(afterId);
    expect(dependsOn(first!)).not.toContain(second);
    expect(dependsOn(second!)).toEqual(expect.arrayContaining([afterId, first]));
    expect(JSON.stringify(template.Resources[second!]!.Properties!.Manifest)).toContain("ConfigMap");
  });
});
