/**
 * EKS (aws-eks-v2): the cluster with a managed node group sized by the plan, EKS Pod Identity for the
 * detector and load generator, the detector image built from the repo's Dockerfile as an asset, the
 * Prometheus Operator CRDs from their Helm chart (the kubectl Lambda's 262,144-byte payload limit rules out
 * applying the ~1 MB CRDs as a manifest), and the cdk8s charts of charts/ applied through `addCdk8sChart`.
 *
 * Teardown order inside this stack: every chart manifest depends on the node group and the CRDs, so
 * CloudFormation deletes the manifests (kubectl delete, while nodes still run the controllers) before the
 * node group and the cluster; the control-plane log group is deleted after the cluster. The whole stack
 * depends on the network stack, so it is gone before the VPC is deleted. What `cdk destroy` cannot see:
 * AWS resources that Kubernetes controllers make (load balancers for `type: LoadBalancer` Services, EBS
 * volumes for PVCs). This cluster has neither the AWS Load Balancer Controller nor the EBS CSI driver, so the
 * charts must use ClusterIP Services and emptyDir volumes; the teardown sweep looks for leftovers by the
 * experiment tag and the `kubernetes.io/cluster/<name>` tag all the same.
 *
 * Access (cdk/access-input.ts): the API endpoint is private unless the user names public CIDRs, and the
 * principal the user names gets an access entry with the cluster-admin policy (CloudFormation, not the
 * person deploying, is the cluster's creator). Kubernetes secrets are envelope-encrypted with a KMS key of
 * this stack, which `cdk destroy` schedules for deletion (a key pending deletion is not billed).
 */
import { KubectlV36Layer } from "@aws-cdk/lambda-layer-kubectl-v36";
import { CfnResource, Duration, RemovalPolicy, Stack, Validations, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as cdk8s from "cdk8s";
import type { Construct } from "constructs";
import type { AccessInput } from "./access-input.ts";
import type { CassandraStack } from "./cassandra-stack.ts";
import { cassandraDetectorRole } from "./cassandra-user-data.ts";
import type { KafkaStack } from "./kafka-stack.ts";
import { MskBrokerEndpoints } from "./msk-brokers.ts";
import type { NetworkStack } from "./network-stack.ts";
import { ownedLogGroup } from "./owned-log-group.ts";
import type { SizePlan } from "./size/size-plan.ts";
import {
  detectorStatements,
  loadgenStatements,
  mskArns,
  serviceAccounts,
  workloadNamespace,
} from "./workload-identity.ts";

export const kubernetesVersion = eks.KubernetesVersion.V1_36;
/** Prometheus Operator CRDs chart 31.0.0 carries the CRDs of operator v0.93.0. */
export const prometheusOperatorCrdsChart = {
  chart: "prometheus-operator-crds",
  repository: "https://prometheus-community.github.io/helm-charts",
  version: "31.0.0",
} as const;
export const workerRootVolumeGiB = 50;
/** The `vpc-cni` add-on's configuration: enforce NetworkPolicies (the add-on's network policy agent). */
export const vpcCniConfiguration = { enableNetworkPolicy: "true" } as const;
/** KMS's shortest deletion window: after `cdk destroy` the key waits this long, unbilled, then is gone. */
export const secretsKeyPendingWindow = Duration.days(7);

/** Private only without named CIDRs; else public for those CIDRs and private for the VPC (nodes, kubectl). */
export const endpointAccessFor = (access: AccessInput): eks.EndpointAccess =>
  access.apiAccessCidrs.length === 0
    ? eks.EndpointAccess.PRIVATE
    : eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...access.apiAccessCidrs);

/** What the charts need to know about the infrastructure; deploy-time values are CloudFormation tokens. */
export interface WorkloadEndpoints {
  readonly region: string;
  readonly namespace: string;
  readonly serviceAccounts: typeof serviceAccounts;
  /** Container image (ECR URI) of the detector and load generator. */
  readonly image: string;
  /** The image's tag (its asset hash): known at synth, unlike the URI; changes with the image's content. */
  readonly imageTag: string;
  /** SASL/IAM over TLS bootstrap string (`host:9098,…`): the clients authenticate with MSK IAM auth. */
  readonly kafkaBootstrapBrokers: string;
  /** Every MSK broker's hostname (Prometheus scrapes each broker's open-monitoring exporters). */
  readonly kafkaBrokerHosts: readonly string[];
  readonly cassandraContactPoints: readonly string[];
  /** Every Cassandra node's address (Prometheus scrapes each node's exporter). */
  readonly cassandraNodeAddresses: readonly string[];
  /** CIDR blocks of the Kafka and Cassandra subnets (the pods' NetworkPolicy egress). */
  readonly dataPlaneCidrs: readonly string[];
  readonly cassandraLocalDatacenter: string;
  readonly cassandraUsername: string;
  /** Secrets Manager ARN of the detector role's password (the app reads it with its pod credentials). */
  readonly cassandraPasswordSecretArn: string;
  /** Secrets Manager ARN of the Cassandra cluster's CA certificate (public), which the app trusts for TLS. */
  readonly cassandraTlsCaSecretArn: string;
}

/** charts/index.ts's entry point: builds the cdk8s charts for this plan and these endpoints. */
export type ChartsBuilder = (app: cdk8s.App, plan: SizePlan, endpoints: WorkloadEndpoints) => readonly cdk8s.Chart[];

export interface EksStackProps extends StackProps {
  readonly plan: SizePlan;
  readonly network: NetworkStack;
  readonly kafka: KafkaStack;
  readonly cassandra: CassandraStack;
  readonly access: AccessInput;
  /** Directory holding the repo's Dockerfile (the build context). */
  readonly imageDirectory: string;
  readonly charts?: ChartsBuilder;
}

export class EksStack extends Stack {
  readonly cluster: eks.Cluster;
  readonly nodegroup: eks.Nodegroup;
  readonly secretsKey: kms.Key;
  readonly clusterAdmin: eks.AccessEntry;
  readonly endpoints: WorkloadEndpoints;
  readonly chartManifests: eks.KubernetesManifest[] = [];

  constructor(scope: Construct, id: string, props: EksStackProps) {
    super(scope, id, props);
    const { plan, network, kafka, cassandra, access } = props;
    const namespace = workloadNamespace(plan);
    const clusterName = `${plan.experimentId}-eks`;

    // EKS creates /aws/eks/<name>/cluster itself; made here first, it is owned and deleted with the stack.
    const controlPlaneLogs = ownedLogGroup(this, "ControlPlaneLogs", `/aws/eks/${clusterName}/cluster`);

    this.secretsKey = new kms.Key(this, "SecretsKey", {
      description: `Envelope encryption of the Kubernetes secrets of ${clusterName}`,
      enableKeyRotation: true,
      pendingWindow: secretsKeyPendingWindow,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.cluster = new eks.Cluster(this, "Cluster", {
      clusterName,
      version: kubernetesVersion,
      vpc: network.vpc,
      vpcSubnets: [{ subnets: network.workerSubnets() }],
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      endpointAccess: endpointAccessFor(access),
      secretsEncryptionKey: this.secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      kubectlProviderOptions: { kubectlLayer: new KubectlV36Layer(this, "KubectlLayer") },
    });
    this.cluster.node.addDependency(controlPlaneLogs);
    this.clusterAdmin = this.cluster.grantClusterAdmin("ClusterAdmin", access.clusterAdminArn);

    const launchTemplate = new ec2.LaunchTemplate(this, "WorkerLaunchTemplate", {
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      securityGroup: network.workersSecurityGroup,
      blockDevices: [
        {
          deviceName: "/dev/xvda",
          volume: ec2.BlockDeviceVolume.ebs(workerRootVolumeGiB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });
    // With a launch template's security groups, EKS no longer adds the cluster security group itself.
    launchTemplate.connections.addSecurityGroup(this.cluster.clusterSecurityGroup);

    this.nodegroup = this.cluster.addNodegroupCapacity("Workers", {
      instanceTypes: [new ec2.InstanceType(plan.eks.instanceType)],
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      minSize: plan.eks.workerNodes,
      desiredSize: plan.eks.workerNodes,
      maxSize: plan.eks.workerNodes,
      subnets: { subnets: network.workerSubnets() },
      launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
    });

    const podIdentityAgent = new eks.Addon(this, "PodIdentityAgent", {
      cluster: this.cluster,
      addonName: "eks-pod-identity-agent",
    });
    podIdentityAgent.node.addDependency(this.nodegroup);

    // The VPC CNI as a managed add-on, with its network policy agent on: without it EKS ignores the charts'
    // NetworkPolicies (deny by default, then one allow list per workload). The cluster starts with a
    // self-managed vpc-cni; OVERWRITE lets the add-on take over its fields.
    const vpcCni = new eks.Addon(this, "VpcCni", {
      cluster: this.cluster,
      addonName: "vpc-cni",
      configurationValues: vpcCniConfiguration,
    });
    (vpcCni.node.defaultChild as CfnResource).addPropertyOverride("ResolveConflicts", "OVERWRITE");
    vpcCni.node.addDependency(this.nodegroup);

    const arns = mskArns(this, kafka.clusterName);
    const nagArns = mskArns(this, kafka.clusterName, "<AWS::AccountId>");
    // The same statements rendered with cdk-nag's placeholder for the account, to name the findings.
    const nagResources = {
      detector: detectorStatements(nagArns, "").flatMap((st) => st.resources).filter((r) => /:(topic|group)\//.test(r)),
      loadgen: loadgenStatements(nagArns).flatMap((st) => st.resources).filter((r) => /:(topic|group)\//.test(r)),
    };
    const podRole = (name: keyof typeof serviceAccounts, statements: iam.PolicyStatement[]) => {
      const role = new iam.Role(this, `${name[0]!.toUpperCase()}${name.slice(1)}Role`, {
        assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com"),
        description: `Pod Identity of ${namespace}/${serviceAccounts[name]}`,
      });
      role.assumeRolePolicy?.addStatements(
        new iam.PolicyStatement({
          actions: ["sts:TagSession"],
          principals: [new iam.ServicePrincipal("pods.eks.amazonaws.com")],
        }),
      );
      for (const s of statements) role.addToPolicy(s);
      const association = new eks.CfnPodIdentityAssociation(this, `${name[0]!.toUpperCase()}${name.slice(1)}PodIdentity`, {
        clusterName: this.cluster.clusterName,
        namespace,
        serviceAccount: serviceAccounts[name],
        roleArn: role.roleArn,
      });
      association.node.addDependency(podIdentityAgent);
      Validations.of(role).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::${nagArns.cluster}]`,
          reason: "MSK appends a UUID assigned at creation to cluster ARNs; every other part of the ARN is fixed.",
        },
        ...nagResources[name].map((r) => ({
          id: `AwsSolutions-IAM5[Resource::${r}]`,
          reason: "Topic and group ARNs carry the MSK cluster's UUID (unknown before creation); the names are exact.",
        })),
      );
      return role;
    };
    podRole("detector", detectorStatements(arns, cassandra.detectorSecret.secretArn, cassandra.caCertificateSecret.secretArn));
    podRole("loadgen", loadgenStatements(arns));

    const brokers = new MskBrokerEndpoints(this, "MskBrokers", {
      clusterArn: kafka.clusterArn,
      clusterName: kafka.clusterName,
      brokers: plan.kafka.brokers,
    });

    const image = new ecrAssets.DockerImageAsset(this, "AppImage", {
      directory: props.imageDirectory,
      platform: ecrAssets.Platform.LINUX_AMD64,
      exclude: ["node_modules", ".git", ".tools", ".local", "cdk.out", "results", "test"],
    });
    // Pulls need no grant: the node role's AmazonEC2ContainerRegistryReadOnly covers the asset repository.

    const crds = this.cluster.addHelmChart("PrometheusOperatorCrds", {
      ...prometheusOperatorCrdsChart,
      release: "prometheus-operator-crds",
      namespace: "kube-system",
      wait: true,
    });
    crds.node.addDependency(this.nodegroup);

    this.endpoints = {
      region: plan.region,
      namespace,
      serviceAccounts,
      image: image.imageUri,
      imageTag: image.imageTag,
      kafkaBootstrapBrokers: brokers.bootstrapBrokers,
      kafkaBrokerHosts: brokers.brokerHosts,
      cassandraContactPoints: cassandra.contactPoints,
      cassandraNodeAddresses: cassandra.nodes.map((n) => n.privateIp),
      dataPlaneCidrs: [...network.kafkaSubnets(), ...network.cassandraSubnets()].map((s) => s.ipv4CidrBlock),
      cassandraLocalDatacenter: cassandra.datacenter,
      cassandraUsername: cassandraDetectorRole,
      cassandraPasswordSecretArn: cassandra.detectorSecret.secretArn,
      cassandraTlsCaSecretArn: cassandra.caCertificateSecret.secretArn,
    };

    if (props.charts !== undefined) {
      const k8sApp = new cdk8s.App();
      const manifests = new Map<cdk8s.Chart, eks.KubernetesManifest>();
      for (const chart of props.charts(k8sApp, plan, this.endpoints)) {
        const manifest = this.cluster.addCdk8sChart(chart.node.id, chart);
        manifest.node.addDependency(crds, this.nodegroup, podIdentityAgent, vpcCni);
        manifests.set(chart, manifest);
        this.chartManifests.push(manifest);
      }
      // The charts' own order (namespace first, CRs after their operator) between their manifests.
      for (const [chart, manifest] of manifests) {
        for (const dependency of chart.node.dependencies) {
          const other = dependency instanceof cdk8s.Chart ? manifests.get(dependency) : undefined;
          if (other !== undefined) manifest.node.addDependency(other);
        }
      }
    }
  }
}
