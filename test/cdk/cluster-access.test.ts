/**
 * The EKS stack's joints with the people and servers around it: the named principal is a
 * cluster admin, the API endpoint is private or limited to named CIDRs (checked by the kit's own validation
 * plugin, since cdk-nag's EKS rules miss aws-eks-v2), secrets are envelope-encrypted with a key that leaves
 * nothing billing, and the MSK brokers' hostnames reach Prometheus' scrape configs.
 */
import { App, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import { beforeAll, describe, expect, it } from "vitest";
import { EndpointAccessChecks, openEndpointReason, publicEndpointRule } from "../../cdk/endpoint-access-check.ts";
import { secretsKeyPendingWindow } from "../../cdk/eks/control-plane.ts";
import { kubernetesVersion } from "../../cdk/eks-stack.ts";
import { kitCharts } from "../../cdk/kit-charts.ts";
import { brokersPerListNodesCall, MskBrokerEndpoints } from "../../cdk/msk-brokers.ts";
import { kafkaPorts } from "../../cdk/servers/ports.ts";
import { limits } from "../../cdk/size/size-input.ts";
import { resourcesOfType, synthKit, testAccess, type CfnTemplate, type Synthesized } from "./kit-synth.ts";

type Resource = CfnTemplate["Resources"][string];

let limited: Synthesized;
let privateOnly: Synthesized;
const eksOf = (kit: Synthesized) => kit.templates[`${kit.plan.experimentId}-eks.template.json`]!;
const kafkaOf = (kit: Synthesized) => kit.templates[`${kit.plan.experimentId}-kafka.template.json`]!;
const only = (t: CfnTemplate, type: string): [string, Resource] => {
  const found = resourcesOfType(t, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const vpcConfigOf = (kit: Synthesized) =>
  only(eksOf(kit), "AWS::EKS::Cluster")[1].Properties!.ResourcesVpcConfig as Record<string, unknown>;

beforeAll(() => {
  // Six brokers, so "one hostname per broker" is not the default three.
  limited = synthKit({ cassandraNodes: "3", kafkaBrokers: "6", experimentId: "access" }, { charts: kitCharts });
  privateOnly = synthKit({ cassandraNodes: "3", experimentId: "private", apiAccessCidrs: undefined }, { charts: kitCharts });
});

describe("cluster admin access entry", () => {
  it("gives the named principal the cluster-admin policy at cluster scope, beside the kubectl provider's entry", () => {
    const eksTemplate = eksOf(limited);
    const cluster = only(eksTemplate, "AWS::EKS::Cluster")[1];
    expect(cluster.Properties!.AccessConfig).toMatchObject({ AuthenticationMode: "API" });
    const entries = resourcesOfType(eksTemplate, "AWS::EKS::AccessEntry").map(([, r]) => r.Properties!);
    const admin = entries.filter((p) => p.PrincipalArn === testAccess.clusterAdminArn);
    expect(admin).toHaveLength(1);
    expect(admin[0]!.AccessPolicies).toEqual([
      {
        AccessScope: { Type: "cluster" },
        PolicyArn: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"]] },
      },
    ]);
    expect(entries.length).toBe(2);
  });
});

describe("API endpoint", () => {
  it("is public only for the named CIDRs (and private for the VPC) when apiAccessCidrs is given", () => {
    const config = vpcConfigOf(limited);
    expect(config.EndpointPublicAccess).toBe(true);
    expect(config.EndpointPrivateAccess).toBe(true);
    expect(config.PublicAccessCidrs).toEqual(testAccess.apiAccessCidrs.split(","));
  });

  it("is private only when no CIDR is named", () => {
    const config = vpcConfigOf(privateOnly);
    expect(config.EndpointPublicAccess).toBe(false);
    expect(config.EndpointPrivateAccess).toBe(true);
    expect(config.PublicAccessCidrs).toBeUndefined();
  });

  it("passes the kit's endpoint check in both forms", () => {
    expect(openEndpointReason(vpcConfigOf(limited))).toBeUndefined();
    expect(openEndpointReason(vpcConfigOf(privateOnly))).toBeUndefined();
  });

  it.each([
    ["no ResourcesVpcConfig at all (CloudFormation's defaults)", undefined],
    ["public access without CIDRs", { EndpointPublicAccess: true }],
    ["0.0.0.0/0 among named CIDRs", { EndpointPublicAccess: true, PublicAccessCidrs: ["203.0.113.0/24", "0.0.0.0/0"] }],
  ])("flags an endpoint open to the internet: %s", (_, config) => {
    expect(openEndpointReason(config)).toMatch(/0\.0\.0\.0\/0/);
  });

  it("fails synth of an aws-eks-v2 cluster with the default (public, 0.0.0.0/0) endpoint", () => {
    const app = new App({ context: { "aws:cdk:disable-asset-staging": true } });
    const stack = new Stack(app, "endpoint-probe", { env: { region: "us-east-1" } });
    const vpc = new ec2.Vpc(stack, "Vpc", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    new eks.Cluster(stack, "Open", {
      version: kubernetesVersion,
      vpc,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
    });
    Validations.of(app).addPlugins(new EndpointAccessChecks());
    expect(() => app.synth()).toThrow(new RegExp(publicEndpointRule));
  });

  it.each([
    ["private", eks.EndpointAccess.PRIVATE],
    ["public for one named CIDR", eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom("203.0.113.0/24")],
  ])("lets the same cluster synthesize with a %s endpoint", (_, endpointAccess) => {
    const app = new App({ context: { "aws:cdk:disable-asset-staging": true } });
    const stack = new Stack(app, "endpoint-probe", { env: { region: "us-east-1" } });
    const vpc = new ec2.Vpc(stack, "Vpc", { availabilityZones: ["us-east-1a", "us-east-1b"] });
    new eks.Cluster(stack, "Closed", {
      version: kubernetesVersion,
      vpc,
      endpointAccess,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
    });
    Validations.of(app).addPlugins(new EndpointAccessChecks());
    expect(() => app.synth()).not.toThrow();
  });
});

describe("Kubernetes secrets encryption", () => {
  it("envelope-encrypts secrets with a rotating KMS key of the stack, scheduled for deletion on destroy", () => {
    const eksTemplate = eksOf(limited);
    const [keyId, key] = only(eksTemplate, "AWS::KMS::Key");
    expect(key.Properties!.EnableKeyRotation).toBe(true);
    expect(key.Properties!.PendingWindowInDays).toBe(secretsKeyPendingWindow.toDays());
    expect(key.DeletionPolicy).toBe("Delete");
    expect(key.UpdateReplacePolicy).toBe("Delete");
    const cluster = only(eksTemplate, "AWS::EKS::Cluster")[1];
    expect(cluster.Properties!.EncryptionConfig).toEqual([
      { Provider: { KeyArn: { "Fn::GetAtt": [keyId, "Arn"] } }, Resources: ["secrets"] },
    ]);
  });
});

describe("MSK brokers read in the EKS stack", () => {
  const sdkCall = (r: Resource) => JSON.stringify(r.Properties!.Create);
  /** A Custom::AWS call as an object; each deploy-time value inside it reads `<LogicalId.Attribute>`. */
  const parsedSdkCall = (r: Resource) => {
    const create = r.Properties!.Create as string | { "Fn::Join": [string, unknown[]] };
    const text =
      typeof create === "string"
        ? create
        : create["Fn::Join"][1]
            .map((part) => {
              if (typeof part === "string") return part;
              const [id, attribute] = (part as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"];
              return `<${id}.${attribute}>`;
            })
            .join("");
    return JSON.parse(text) as { parameters: Record<string, unknown>; outputPaths: string[] };
  };

  it("leaves no custom resource in the Kafka stack; the EKS stack reads bootstrap string and nodes from the cluster ARN", () => {
    expect(resourcesOfType(kafkaOf(limited), "Custom::AWS")).toEqual([]);
    const calls = resourcesOfType(eksOf(limited), "Custom::AWS").map(([, r]) => sdkCall(r));
    expect(calls.filter((c) => c.includes('\\"action\\":\\"getBootstrapBrokers\\"'))).toHaveLength(1);
    expect(calls.filter((c) => c.includes('\\"action\\":\\"listNodes\\"'))).toHaveLength(1);
    for (const call of calls) expect(call).toContain("Fn::ImportValue");
    const policies = resourcesOfType(eksOf(limited), "AWS::IAM::Policy").map(([, r]) => JSON.stringify(r.Properties!.PolicyDocument));
    const actions = policies.flatMap((p) => [...p.matchAll(/"(kafka:[A-Za-z]+)"/g)].map((m) => m[1]));
    expect(actions.sort()).toEqual(["kafka:GetBootstrapBrokers", "kafka:ListNodes"]);
  });

  it("reads one hostname per planned broker and scrapes each broker's JMX and node exporters", () => {
    const { plan } = limited;
    const [nodesId, nodes] = resourcesOfType(eksOf(limited), "Custom::AWS").find(([, r]) => sdkCall(r).includes("listNodes"))!;
    const call = sdkCall(nodes);
    for (let i = 0; i < plan.kafka.brokers; i++) expect(call).toContain(`NodeInfoList.${i}.BrokerNodeInfo.Endpoints.0`);
    expect(call).not.toContain(`NodeInfoList.${plan.kafka.brokers}.`);
    const scrape = resourcesOfType(eksOf(limited), "Custom::AWSCDK-EKS-KubernetesResource")
      .map(([, m]) => JSON.stringify(m.Properties!.Manifest))
      .find((text) => text.includes("msk-jmx-exporter"));
    expect(scrape).toBeDefined();
    for (let i = 0; i < plan.kafka.brokers; i++) {
      const host = JSON.stringify({ "Fn::GetAtt": [nodesId, `NodeInfoList.${i}.BrokerNodeInfo.Endpoints.0`] });
      expect(scrape!.split(host).length - 1, `broker ${i}`).toBe(2); // the JMX and the node exporter
    }
    expect(scrape).toContain(`:${kafkaPorts.mskJmxExporter}`);
    expect(scrape).toContain(`:${kafkaPorts.mskNodeExporter}`);
  });

  it("pages ListNodes for the most brokers a plan allows: disjoint pages chained by NextToken, one hostname per broker", () => {
    const brokers = limits.kafkaBrokers.max;
    const app = new App({ context: { "aws:cdk:disable-asset-staging": true } });
    const stack = new Stack(app, "brokers-probe", { env: { region: "us-east-1" } });
    const endpoints = new MskBrokerEndpoints(stack, "MskBrokers", {
      clusterArn: "arn:aws:kafka:us-east-1:111122223333:cluster/probe-kafka/0000-1111",
      clusterName: "probe-kafka",
      brokers,
    });
    const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
    const pages = resourcesOfType(template, "Custom::AWS")
      .filter(([, r]) => sdkCall(r).includes("listNodes"))
      .map(([id, r]) => ({ id, call: parsedSdkCall(r) }));
    expect(pages).toHaveLength(Math.ceil(brokers / brokersPerListNodesCall));
    const hostPaths = pages.flatMap((p) => p.call.outputPaths.filter((o) => o !== "NextToken"));
    expect(hostPaths).toHaveLength(brokers);
    for (const p of pages) expect(p.call.outputPaths.length).toBeLessThanOrEqual(brokersPerListNodesCall + 1);
    for (const [i, p] of pages.entries()) {
      expect(p.call.parameters.MaxResults).toBe(brokersPerListNodesCall);
      if (i === 0) expect(p.call.parameters.NextToken).toBeUndefined();
      else expect(p.call.parameters.NextToken).toBe(`<${pages[i - 1]!.id}.NextToken>`);
    }
    const hosts = stack.resolve(endpoints.brokerHosts) as unknown[];
    expect(new Set(hosts.map((h) => JSON.stringify(h))).size).toBe(brokers);
  });
});
