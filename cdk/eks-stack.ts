/**
 * EKS (aws-eks-v2): the cluster with a managed node group sized by the plan, EKS Pod Identity for the
 * detector and load generator, the detector image built from the repo's Dockerfile as an asset, the
 * Prometheus Operator CRDs from their Helm chart, and the cdk8s charts of charts/ applied through
 * `addCdk8sChart`. Each part is a construct of cdk/eks/; this stack picks the versions and sizes and wires the
 * parts together.
 *
 * Teardown order inside this stack: every chart manifest depends on the node group, the add-ons and the CRDs,
 * so CloudFormation deletes the manifests (kubectl delete, while nodes still run the controllers) before the
 * node group and the cluster; the control-plane log group is deleted after the cluster. The whole stack
 * depends on the network stack, so it is gone before the VPC is deleted. What `cdk destroy` cannot see:
 * AWS resources that Kubernetes controllers make (load balancers for `type: LoadBalancer` Services, EBS
 * volumes for PVCs). This cluster has neither the AWS Load Balancer Controller nor the EBS CSI driver, so the
 * charts must use ClusterIP Services and emptyDir volumes; the teardown sweep looks for leftovers by the
 * experiment tag and the `kubernetes.io/cluster/<name>` tag all the same.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KubectlV36Layer } from "@aws-cdk/lambda-layer-kubectl-v36";
import { Stack, type StackProps } from "aws-cdk-lib";
import * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import type * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";
import type { AccessInput } from "./access-input.ts";
import type { CassandraStack } from "./cassandra-stack.ts";
import { cassandraDetectorRole } from "./cassandra-user-data.ts";
import { ChartManifests, type ChartsBuilder } from "./eks/chart-manifests.ts";
import { ClusterAccess, endpointAccessFor } from "./eks/cluster-access.ts";
import { ClusterAddons } from "./eks/cluster-addons.ts";
import { ControlPlane } from "./eks/control-plane.ts";
import { pinnedBuildArgs, readImageLock, type ImageLock } from "./image-lock.ts";
import { Keda } from "./eks/keda.ts";
import { PodIdentities } from "./eks/pod-identities.ts";
import { PrometheusOperatorCrds } from "./eks/prometheus-operator-crds.ts";
import { WorkerNodes } from "./eks/worker-nodes.ts";
import type { KafkaStack } from "./kafka-stack.ts";
import { MskBrokerEndpoints } from "./msk-brokers.ts";
import type { NetworkStack } from "./network-stack.ts";
import { cassandraPorts } from "./servers/ports.ts";
import type { SizePlan } from "./size/size-plan.ts";
import { kedaVersion, kubernetesMinor, prometheusOperatorCrdsChartVersion } from "./versions.ts";
import type { WorkloadEndpoints } from "./workload-endpoints.ts";
import { workloadNamespace } from "./workload-names.ts";

/** The control plane's version (cdk/versions.ts); the kubectl layer (KubectlV36Layer) must be of the same minor. */
export const kubernetesVersion = eks.KubernetesVersion.of(kubernetesMinor);
/** The Prometheus Operator's CRDs, from the chart release that carries the operator version the charts deploy. */
export const prometheusOperatorCrdsChart = {
  chart: "prometheus-operator-crds",
  repository: "https://prometheus-community.github.io/helm-charts",
  version: prometheusOperatorCrdsChartVersion,
} as const;
/**
 * KEDA (size input detectorAutoscaling=keda; cdk/eks/keda.ts), kedacore/charts `keda`, whose chart version is
 * its app version: the release whose CRDs the charts' ScaledObject and TriggerAuthentication are typed from.
 * Its images come by the chart's release tags (charts/versions.ts says why none is pinned here).
 */
export const kedaChart = { chart: "keda", repository: "https://kedacore.github.io/charts", version: kedaVersion } as const;
export const workerRootVolumeGiB = 50;

export interface EksStackProps extends StackProps {
  /** The size plan: worker count and type, the experiment id (cluster name, namespace), the region. */
  readonly plan: SizePlan;
  /** The VPC, the workers' subnets and security group, and the data-plane subnets. */
  readonly network: NetworkStack;
  /** The MSK cluster the workloads use. */
  readonly kafka: KafkaStack;
  /** The Cassandra cluster the workloads use. */
  readonly cassandra: CassandraStack;
  /** Who administers the cluster and from where its API is reachable (cdk/access-input.ts). */
  readonly access: AccessInput;
  /** Directory holding the repo's Dockerfile (the build context). */
  readonly imageDirectory: string;
  /**
   * The digests read from the registries; the Dockerfile's base is built from its digest when it has one.
   * @default images.lock.json
   */
  readonly imageLock?: ImageLock;
  /**
   * Builds the cdk8s charts applied to the cluster (cdk/kit-charts.ts).
   * @default no charts: the cluster, its nodes, add-ons, pod identities and CRDs only
   */
  readonly charts?: ChartsBuilder;
}

export class EksStack extends Stack {
  readonly cluster: eks.Cluster;
  readonly nodegroup: eks.Nodegroup;
  /** The KMS key that envelope-encrypts the cluster's Kubernetes secrets. */
  readonly secretsKey: kms.Key;
  /** The access entry of `access.clusterAdminArn`. */
  readonly clusterAdmin: eks.AccessEntry;
  /** What the charts are given: where the workloads find Kafka and Cassandra (deploy-time tokens). */
  readonly endpoints: WorkloadEndpoints;
  /** One manifest per chart; none without `charts`. */
  readonly chartManifests: readonly eks.KubernetesManifest[];

  constructor(scope: Construct, id: string, props: EksStackProps) {
    super(scope, id, props);
    const { plan, network, kafka, cassandra, access } = props;

    // The parts are made in this order because the template lists resources in construct order.
    const controlPlane = new ControlPlane(this, "ControlPlane", {
      clusterName: `${plan.experimentId}-eks`,
      version: kubernetesVersion,
      kubectlLayer: KubectlV36Layer,
      vpc: network.vpc,
      subnets: network.workerSubnets(),
      endpointAccess: endpointAccessFor(access),
    });
    this.cluster = controlPlane.cluster;
    this.secretsKey = controlPlane.secretsKey;
    const cluster = this.cluster;
    this.clusterAdmin = new ClusterAccess(this, "ClusterAccess", { cluster, clusterAdminArn: access.clusterAdminArn }).clusterAdmin;

    this.nodegroup = new WorkerNodes(this, "WorkerNodes", {
      cluster,
      instanceType: plan.eks.instanceType,
      count: plan.eks.workerNodes,
      subnets: network.workerSubnets(),
      securityGroup: network.workersSecurityGroup,
      rootVolumeGiB: workerRootVolumeGiB,
    }).nodegroup;
    const addons = new ClusterAddons(this, "Addons", { cluster, nodes: this.nodegroup });

    const identities = new PodIdentities(this, "PodIdentities", {
      cluster,
      namespace: workloadNamespace(plan),
      agent: addons.podIdentityAgent,
      kafkaClusterName: kafka.clusterName,
      cassandraPasswordSecretArn: cassandra.detectorSecret.secretArn,
      cassandraTlsCaSecretArn: cassandra.caCertificateSecret.secretArn,
    });

    const brokers = new MskBrokerEndpoints(this, "MskBrokers", {
      clusterArn: kafka.clusterArn,
      clusterName: kafka.clusterName,
      brokers: plan.kafka.brokers,
    });

    // The Dockerfile's base by the image lock's digest, once npm run pin-images has read it.
    const buildArgs = pinnedBuildArgs(readFileSync(join(props.imageDirectory, "Dockerfile"), "utf8"), props.imageLock ?? readImageLock());
    const image = new ecrAssets.DockerImageAsset(this, "AppImage", {
      directory: props.imageDirectory,
      ...(buildArgs === undefined ? {} : { buildArgs }),
      platform: ecrAssets.Platform.LINUX_AMD64,
      exclude: ["node_modules", ".git", ".tools", ".local", "cdk.out", "results", "test"],
    });
    // Pulls need no grant: the node role's AmazonEC2ContainerRegistryReadOnly covers the asset repository.

    const crds = new PrometheusOperatorCrds(this, "PrometheusOperatorCrds", {
      cluster,
      chart: prometheusOperatorCrdsChart,
      nodes: this.nodegroup,
    });

    this.endpoints = {
      kafkaBrokers: brokers.bootstrapBrokers,
      cassandraContactPoints: cassandra.contactPoints.map((ip) => `${ip}:${cassandraPorts.cql}`).join(","),
      cassandraLocalDataCenter: cassandra.datacenter,
      // MSK: TLS + IAM auth with the pods' EKS Pod Identity credentials; Cassandra: the detector role.
      kafkaAuth: "aws-iam",
      awsRegion: plan.region,
      cassandraUsername: cassandraDetectorRole,
      cassandraPasswordSecretArn: cassandra.detectorSecret.secretArn,
      cassandraTlsCaSecretArn: cassandra.caCertificateSecret.secretArn,
      cassandraExporterHosts: cassandra.nodes.map((n) => n.privateIp),
      kafkaMonitoringHosts: brokers.brokerHosts,
      dataPlaneCidrs: [...network.kafkaSubnets(), ...network.cassandraSubnets()].map((s) => s.ipv4CidrBlock),
    };

    const keda =
      plan.detector.autoscaling === "keda"
        ? new Keda(this, "Keda", {
            cluster,
            chart: kedaChart,
            nodes: this.nodegroup,
            agent: addons.podIdentityAgent,
            detectorRole: identities.roles.detector,
          })
        : undefined;

    this.chartManifests =
      props.charts === undefined
        ? []
        : new ChartManifests(this, "Charts", {
            cluster,
            charts: props.charts,
            plan,
            endpoints: this.endpoints,
            image: { image: image.imageUri, revision: image.imageTag },
            detectorRoleArn: identities.roles.detector.roleArn,
            after: [crds.release, this.nodegroup, addons.podIdentityAgent, addons.vpcCni, ...(keda === undefined ? [] : [keda.release])],
          }).manifests;
  }
}
