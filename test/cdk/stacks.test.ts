/**
 * Template assertions for every preset (synthesized once each, with cdk-nag's AwsSolutions pack active:
 * an unacknowledged finding would make synth throw), the N → M growth test, CloudFormation limits, and
 * cfn-lint over every template of every preset in one run.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { experimentTagKey } from "../../cdk/experiment-tag.ts";
import { components } from "../../charts/names.ts";
import { kitCharts } from "../../cdk/kit-charts.ts";
import { presets, type PresetName } from "../../cdk/size/size-input.ts";
import { cassandraPorts, kafkaPorts } from "../../cdk/servers/ports.ts";
import { cfnLint, resourcesOfType, synthKit, type CfnTemplate, type Synthesized } from "./kit-synth.ts";

type Resource = CfnTemplate["Resources"][string];
/** How a string inside a manifest's text reads once the manifest is JSON-stringified (quotes escaped). */
const escaped = (text: string) => JSON.stringify(text).slice(1, -1);

const presetNames = Object.keys(presets) as PresetName[];
const kits = new Map<PresetName, Synthesized>();
const templateOf = (kit: Synthesized, stack: "network" | "kafka" | "cassandra" | "eks"): CfnTemplate =>
  kit.templates[`${kit.plan.experimentId}-${stack}.template.json`]!;

beforeAll(() => {
  for (const preset of presetNames) kits.set(preset, synthKit({ preset }, { charts: kitCharts }));
});

describe.each(presetNames)("preset %s", (preset) => {
  const kit = () => kits.get(preset)!;

  it("has one i3 instance per Cassandra node, spread evenly over the three zones at fixed addresses", () => {
    const { plan } = kit();
    const instances = resourcesOfType(templateOf(kit(), "cassandra"), "AWS::EC2::Instance");
    expect(instances).toHaveLength(plan.cassandra.nodes);
    const perZone = new Map<string, number>();
    for (const [id, r] of instances) {
      expect(id).toMatch(/^CassandraNode\d{2}$/);
      const p = r.Properties!;
      expect(p.InstanceType).toBe(plan.cassandra.instanceType);
      expect(p.ImageId).toMatch(/^resolve:ssm:\/aws\/service\/ami-amazon-linux-latest\//);
      expect(p.MetadataOptions).toMatchObject({ HttpTokens: "required" });
      expect(p.KeyName).toBeUndefined();
      expect(p.BlockDeviceMappings).toMatchObject([{ Ebs: { DeleteOnTermination: true, Encrypted: true } }]);
      perZone.set(p.AvailabilityZone as string, (perZone.get(p.AvailabilityZone as string) ?? 0) + 1);
    }
    expect([...perZone.keys()].sort()).toEqual([...plan.availabilityZones].sort());
    for (const n of perZone.values()) expect(n).toBe(plan.cassandra.nodes / 3);
    const ips = instances.map(([, r]) => r.Properties!.PrivateIpAddress);
    expect(new Set(ips).size).toBe(plan.cassandra.nodes);
  });

  it("sizes MSK by the plan: brokers a multiple of the zones, IAM over TLS, open monitoring, owned logs", () => {
    const { plan } = kit();
    const [[, cluster]] = resourcesOfType(templateOf(kit(), "kafka"), "AWS::MSK::Cluster") as [[string, Resource]];
    const p = cluster.Properties!;
    expect(p.NumberOfBrokerNodes).toBe(plan.kafka.brokers);
    expect(plan.kafka.brokers % 3).toBe(0);
    expect(p.BrokerNodeGroupInfo).toMatchObject({ InstanceType: plan.kafka.instanceType });
    expect((p.BrokerNodeGroupInfo as { ClientSubnets: unknown[] }).ClientSubnets).toHaveLength(3);
    expect(p.ClientAuthentication).toEqual({ Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } });
    expect(p.EncryptionInfo).toEqual({ EncryptionInTransit: { ClientBroker: "TLS", InCluster: true } });
    expect(p.OpenMonitoring).toMatchObject({
      Prometheus: { JmxExporter: { EnabledInBroker: true }, NodeExporter: { EnabledInBroker: true } },
    });
    const [[, config]] = resourcesOfType(templateOf(kit(), "kafka"), "AWS::MSK::Configuration") as [[string, Resource]];
    const props = config.Properties!.ServerProperties as string;
    expect(props).toContain("auto.create.topics.enable=false");
    expect(props).toContain("min.insync.replicas=2");
    expect(props).toContain("default.replication.factor=3");
    expect(props).toMatch(/num\.replica\.fetchers=\d+/);
    // The brokers' addresses are read in the EKS stack (cdk/msk-brokers.ts), not exported from here.
    expect(resourcesOfType(templateOf(kit(), "kafka"), "Custom::AWS")).toHaveLength(0);
  });

  it("runs an EKS cluster with a managed node group sized by the plan and Pod Identity for the detector, the load generator and the rebalance Job", () => {
    const { plan } = kit();
    const eks = templateOf(kit(), "eks");
    const [[, nodegroup]] = resourcesOfType(eks, "AWS::EKS::Nodegroup") as [[string, Resource]];
    expect(nodegroup.Properties!.ScalingConfig).toEqual({
      MinSize: plan.eks.workerNodes,
      DesiredSize: plan.eks.workerNodes,
      MaxSize: plan.eks.workerNodes,
    });
    expect(nodegroup.Properties!.InstanceTypes).toEqual([plan.eks.instanceType]);
    expect(resourcesOfType(eks, "AWS::EKS::PodIdentityAssociation")).toHaveLength(3);
    const helm = resourcesOfType(eks, "Custom::AWSCDK-EKS-HelmChart");
    expect(helm.map(([, r]) => r.Properties!.Chart)).toEqual(["prometheus-operator-crds"]);
    // Chart manifests are applied after (and so deleted before) the node group and the CRDs.
    const manifests = resourcesOfType(eks, "Custom::AWSCDK-EKS-KubernetesResource");
    expect(manifests.length).toBeGreaterThanOrEqual(5);
    // Each manifest travels in one kubectl Lambda invocation (262,144-byte payload limit).
    for (const [id, m] of manifests) expect(JSON.stringify(m.Properties!.Manifest).length, id).toBeLessThan(200_000);
    const nodegroupId = resourcesOfType(eks, "AWS::EKS::Nodegroup")[0]![0];
    const helmId = helm[0]![0];
    for (const [, m] of manifests) expect(m.DependsOn).toEqual(expect.arrayContaining([nodegroupId, helmId]));
  });

  it("admits CQL only from the EKS workers (and members), nothing from the internet, and no SSH", () => {
    const network = templateOf(kit(), "network");
    const ingress = resourcesOfType(network, "AWS::EC2::SecurityGroupIngress").map(([, r]) => r.Properties!);
    const inline = resourcesOfType(network, "AWS::EC2::SecurityGroup").flatMap(
      ([, r]) => (r.Properties!.SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? [],
    );
    for (const rule of [...ingress, ...inline]) {
      expect(rule.CidrIp).not.toBe("0.0.0.0/0");
      expect(rule.CidrIpv6).toBeUndefined();
      expect(rule.FromPort === 22 || rule.ToPort === 22).toBe(false);
    }
    const logicalIdOf = (prefix: string) =>
      Object.keys(network.Resources).find((k) => k.startsWith(prefix) && network.Resources[k]!.Type === "AWS::EC2::SecurityGroup")!;
    const cassandraSg = logicalIdOf("CassandraSecurityGroup");
    const workersSg = logicalIdOf("WorkersSecurityGroup");
    const cql = ingress.filter((r) => r.FromPort === cassandraPorts.cql);
    expect(cql.map((r) => r.GroupId)).toEqual(cql.map(() => ({ "Fn::GetAtt": [cassandraSg, "GroupId"] })));
    expect(cql.map((r) => (r.SourceSecurityGroupId as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]).sort()).toEqual(
      [cassandraSg, workersSg].sort(),
    );
    const iam = ingress.filter((r) => r.FromPort === kafkaPorts.mskIam);
    expect(iam.map((r) => (r.SourceSecurityGroupId as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0])).toEqual([workersSg]);
    // Prometheus (a pod on the workers) scrapes the Cassandra exporters and MSK open monitoring.
    const kafkaSg = logicalIdOf("KafkaSecurityGroup");
    const from = (r: Record<string, unknown>) => (r.SourceSecurityGroupId as { "Fn::GetAtt": string[] } | undefined)?.["Fn::GetAtt"][0];
    const to = (r: Record<string, unknown>) => (r.GroupId as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0];
    const scrapes = ingress.filter((r) => from(r) === workersSg).map((r) => [to(r), r.FromPort, r.ToPort]);
    expect(scrapes).toContainEqual([cassandraSg, cassandraPorts.exporter, cassandraPorts.exporter]);
    expect(scrapes).toContainEqual([kafkaSg, kafkaPorts.mskJmxExporter, kafkaPorts.mskNodeExporter]);
  });

  it("enforces NetworkPolicies (vpc-cni add-on with its network policy agent) before the charts are applied", () => {
    const eks = templateOf(kit(), "eks");
    const addons = resourcesOfType(eks, "AWS::EKS::Addon");
    const cni = addons.find(([, r]) => r.Properties!.AddonName === "vpc-cni");
    expect(cni).toBeDefined();
    const [cniId, cniAddon] = cni!;
    expect(JSON.parse(cniAddon.Properties!.ConfigurationValues as string)).toEqual({ enableNetworkPolicy: "true" });
    expect(cniAddon.Properties!.ResolveConflicts).toBe("OVERWRITE");
    for (const [id, m] of resourcesOfType(eks, "Custom::AWSCDK-EKS-KubernetesResource")) {
      if (JSON.stringify(m.Properties!.Manifest).includes("NetworkPolicy")) expect(m.DependsOn, id).toContain(cniId);
    }
  });

  it("gives the pods MSK IAM auth in the stack's region and the detector role's password secret, and a schema Job", () => {
    const { plan } = kit();
    const eks = templateOf(kit(), "eks");
    const pipeline = resourcesOfType(eks, "Custom::AWSCDK-EKS-KubernetesResource")
      .map(([, m]) => JSON.stringify(m.Properties!.Manifest))
      // The manifest holding the schema Job (other charts have Jobs too); names appear JSON-escaped in the text.
      .find((text) => text.includes("batch/v1") && text.includes(escaped(`"app.kubernetes.io/name":"${components.schema}"`)));
    expect(pipeline).toBeDefined();
    for (const fragment of [
      "KAFKA_AUTH",
      "aws-iam",
      "AWS_REGION",
      plan.region,
      "CASSANDRA_USERNAME",
      "CASSANDRA_PASSWORD_SECRET_ARN",
      "DetectorPassword",
    ]) {
      expect(pipeline, fragment).toContain(fragment);
    }
  });

  it("keeps nothing on teardown: no Retain or Snapshot policy, log groups deleted, tagged with the experiment", () => {
    for (const [file, template] of Object.entries(kit().templates)) {
      for (const [id, r] of Object.entries(template.Resources)) {
        const where = `${file} ${id}`;
        expect(["Retain", "Snapshot", "RetainExceptOnCreate"], where).not.toContain(r.DeletionPolicy);
        expect(["Retain", "Snapshot", "RetainExceptOnCreate"], where).not.toContain(r.UpdateReplacePolicy);
        if (r.Type === "AWS::Logs::LogGroup") expect(r.DeletionPolicy, where).toBe("Delete");
      }
    }
    const tagged = (r: Resource) => {
      const tags = r.Properties?.Tags;
      if (Array.isArray(tags)) return tags.some((t: { Key: string }) => t.Key === experimentTagKey);
      return typeof tags === "object" && tags !== null && experimentTagKey in tags;
    };
    for (const [type, stack] of [
      ["AWS::EC2::Instance", "cassandra"],
      ["AWS::MSK::Cluster", "kafka"],
      ["AWS::EC2::VPC", "network"],
      ["AWS::Logs::LogGroup", "network"],
    ] as const) {
      for (const [id, r] of resourcesOfType(templateOf(kit(), stack), type)) expect(tagged(r), `${type} ${id}`).toBe(true);
    }
    const [[, launchTemplate]] = resourcesOfType(templateOf(kit(), "eks"), "AWS::EC2::LaunchTemplate") as [[string, Resource]];
    expect(JSON.stringify(launchTemplate.Properties)).toContain(experimentTagKey);
  });

  it("stays under CloudFormation's limits: 500 resources and 1 MB per template", () => {
    for (const [file, template] of Object.entries(kit().templates)) {
      expect(Object.keys(template.Resources).length, file).toBeLessThan(500);
      expect(kit().templateBytes[file], file).toBeLessThan(1_000_000);
    }
  });
});

describe("growing the Cassandra cluster", () => {
  it.each([
    ["stage-12", "stage-24"],
    ["stage-24", "stage-48"],
  ] as const)("%s → %s leaves every resource of the smaller Cassandra stack byte-identical", (small, large) => {
    const before = templateOf(kits.get(small)!, "cassandra").Resources;
    const after = templateOf(kits.get(large)!, "cassandra").Resources;
    const nodes = Object.keys(before).filter((id) => id.startsWith("CassandraNode"));
    expect(nodes).toHaveLength(kits.get(small)!.plan.cassandra.nodes);
    for (const [id, resource] of Object.entries(before)) {
      expect(JSON.stringify(after[id]), id).toBe(JSON.stringify(resource));
    }
  });
});

describe("growing the experiment's Kafka", () => {
  it("no stage 3 → 48 changes MSK broker storage (MSK refuses a second increase within its cool-down)", () => {
    const storage = presetNames.map((preset) => {
      const [[, cluster]] = resourcesOfType(templateOf(kits.get(preset)!, "kafka"), "AWS::MSK::Cluster") as [[string, Resource]];
      return [
        preset,
        (cluster.Properties!.BrokerNodeGroupInfo as { StorageInfo: { EBSStorageInfo: { VolumeSize: number } } }).StorageInfo.EBSStorageInfo
          .VolumeSize,
      ];
    });
    const brokers = presetNames.map((preset) => kits.get(preset)!.plan.kafka.brokers);
    expect(new Set(brokers).size).toBeGreaterThan(1);
    expect(storage.map(([, gib]) => gib)).toEqual(presetNames.map(() => kits.get("stage-48")!.plan.kafka.storageGiBPerBroker));
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("fails synth on an unacknowledged finding (the pack is really active)", () => {
    const app = new App({ context: { "aws:cdk:disable-asset-staging": true } });
    const stack = new Stack(app, "nag-probe", { env: { region: "us-east-1" } });
    const sg = new ec2.SecurityGroup(stack, "Open", { vpc: new ec2.Vpc(stack, "Vpc", { availabilityZones: ["us-east-1a"] }) });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(9042));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-EC23/);
  });

  it("passes every preset with each acknowledgement carrying a reason", () => {
    const acknowledged = new Map<string, string>();
    for (const kit of kits.values()) {
      const stacks: Stack[] = [kit.stacks.network, kit.stacks.kafka, kit.stacks.cassandra, kit.stacks.eks];
      for (const stack of stacks) {
        for (const c of stack.node.findAll()) {
          for (const m of c.node.metadata) {
            if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
            for (const [id, reason] of Object.entries(m.data as Record<string, unknown>)) {
              if (!id.includes("AwsSolutions")) continue; // aws-cdk-lib's own acknowledgements of its template checks
              expect(typeof reason === "string" && reason.length > 20, `${c.node.path} ${id}`).toBe(true);
              acknowledged.set(`${id.replace(/^\w+::/, "")} @ ${c.node.path.replace(/^[^/]+/, "<stack>")}`, String(reason));
            }
          }
        }
      }
      const failures = kit.validationReport?.pluginReports.flatMap((r) => r.violations) ?? [];
      expect(failures).toEqual([]);
    }
    expect([...acknowledged.keys()].some((k) => k.startsWith("AwsSolutions-EC29"))).toBe(true);
  });
});

describe("cfn-lint", () => {
  it("finds no error in any template of any preset", () => {
    const linter = cfnLint();
    expect(linter, "cfn-lint is needed (pip install cfn-lint into .tools/py)").toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "kit-cfn-lint-"));
    const files: string[] = [];
    for (const [preset, kit] of kits) {
      mkdirSync(join(dir, preset));
      for (const [file, template] of Object.entries(kit.templates)) {
        const path = join(dir, preset, file);
        writeFileSync(path, JSON.stringify(template));
        files.push(path);
      }
    }
    const run = spawnSync(linter!, ["--format", "parseable", "--", ...files], { encoding: "utf8", timeout: 300_000 });
    const lines = run.stdout.split("\n").filter((l) => l.trim() !== "");
    const errors = lines.filter((l) => /:E\d{4}:/.test(l));
    expect(errors.slice(0, 20), `${errors.length} errors; all findings:\n${lines.slice(0, 60).join("\n")}`).toEqual([]);
    // cfn-lint's exit code is a bit mask: 2 = errors (4 warnings, 8 informational); 1 = it failed to run.
    expect(run.status === null ? -1 : run.status & 3, run.stderr).toBe(0);
  }, 300_000);
});
