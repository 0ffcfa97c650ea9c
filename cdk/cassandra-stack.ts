/**
 * Cassandra on i3: one EC2 instance per node, placed by cassandra-nodes.ts (stable logical id, zone = rack,
 * fixed address, seeds known at synth), configured by cassandra-user-data.ts. Instances are L1
 * `AWS::EC2::Instance` resources so each node is exactly one resource whose properties depend only on its
 * index: growing N → M adds resources and changes none (the growth test checks it byte for byte).
 *
 * The AMI is Amazon Linux 2023, resolved by EC2 at launch (`resolve:ssm:`): the template text never changes
 * when AWS publishes a new AMI, so an update cannot replace (and wipe) a running node.
 */
import { RemovalPolicy, Stack, Validations, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { CassandraNodeRoles } from "./cassandra-node-roles.ts";
import { cassandraInstanceName, cassandraNodePlacements, type CassandraNodePlacement } from "./cassandra-nodes.ts";
import { cassandraSecretTags, cassandraUserData, compressedUserData } from "./cassandra-user-data.ts";
import type { NetworkStack } from "./network-stack.ts";
import { cassandraInstanceTypes } from "./size/instance-types.ts";
import type { SizePlan } from "./size/size-plan.ts";

export const cassandraAmiParameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
export const cassandraRootVolumeGiB = 30;

export interface CassandraStackProps extends StackProps {
  readonly plan: SizePlan;
  readonly network: NetworkStack;
}

export class CassandraStack extends Stack {
  readonly nodes: readonly CassandraNodePlacement[];
  readonly instances: readonly ec2.CfnInstance[];
  /** Contact points for clients: the seeds (one per zone); the driver discovers the rest. */
  readonly contactPoints: readonly string[];
  readonly datacenter: string;
  readonly clusterName: string;
  readonly detectorSecret: secretsmanager.Secret;
  /** The cluster CA's certificate (public), which node 0 publishes once the set-up has ended; clients read it. */
  readonly caCertificateSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: CassandraStackProps) {
    super(scope, id, props);
    const { plan, network } = props;
    const subnets = network.cassandraSubnets();
    this.nodes = cassandraNodePlacements(
      plan.cassandra.nodes,
      plan.availabilityZones,
      subnets.map((s) => s.ipv4CidrBlock),
    );
    const seeds = this.nodes.filter((n) => n.isSeed).map((n) => n.privateIp);
    this.contactPoints = seeds;
    this.datacenter = plan.region;
    this.clusterName = `${plan.experimentId}-cassandra`;

    const passwordSecret = (name: string, description: string) =>
      new secretsmanager.Secret(this, name, {
        description,
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const adminSecret = passwordSecret("AdminPassword", "Cassandra admin superuser password");
    this.detectorSecret = passwordSecret("DetectorPassword", "Cassandra password of the detector role");
    // Made by the cluster, not the template: both start as a random placeholder, which node 0 replaces with
    // the CA it generates at its first boot (key + certificate) and, after the set-up, the certificate alone.
    const caSecret = passwordSecret("ClusterCa", "Cassandra cluster CA (key and certificate), made by node 0 at its first boot");
    this.caCertificateSecret = passwordSecret(
      "ClusterCaCertificate",
      "Cassandra cluster CA certificate (public), published by node 0 after its set-up",
    );
    for (const secret of [adminSecret, this.detectorSecret, caSecret, this.caCertificateSecret]) {
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason: "The cluster lives for one experiment (hours); rotating would need a rotation Lambda with CQL access for no gain.",
      });
    }

    // Node 0 alone may write the CA secrets (cassandra-node-roles.ts); the others only read them.
    const roles = new CassandraNodeRoles(this, {
      adminPassword: adminSecret,
      detectorPassword: this.detectorSecret,
      ca: caSecret,
      caCertificate: this.caCertificateSecret,
    });

    const instanceType = cassandraInstanceTypes[plan.cassandra.instanceType];
    const subnetOfZone = new Map(plan.availabilityZones.map((z, i) => [z, subnets[i]!]));
    this.instances = this.nodes.map((node) => {
      const userData = cassandraUserData({
        node,
        seeds,
        clusterName: this.clusterName,
        region: plan.region,
        vcpus: instanceType.vcpus,
        memoryGiB: instanceType.memoryGiB,
        datacenter: this.datacenter,
        replicationFactor: plan.cassandra.replicationFactor,
      });
      const instance = new ec2.CfnInstance(this, node.logicalId, {
        imageId: `resolve:ssm:${cassandraAmiParameter}`,
        instanceType: plan.cassandra.instanceType,
        availabilityZone: node.availabilityZone,
        subnetId: subnetOfZone.get(node.availabilityZone)!.subnetId,
        privateIpAddress: node.privateIp,
        securityGroupIds: [network.cassandraSecurityGroup.securityGroupId],
        iamInstanceProfile: roles.profileOf(node.index).ref,
        userData: compressedUserData(userData),
        ebsOptimized: true,
        monitoring: true,
        // Instance tags in the metadata: the user data reads its secrets' ARNs there (cassandraSecretTags).
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled" },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: { volumeSize: cassandraRootVolumeGiB, volumeType: "gp3", encrypted: true, deleteOnTermination: true },
          },
        ],
        propagateTagsToVolumeOnCreation: true,
        tags: [
          { key: "Name", value: cassandraInstanceName(plan.experimentId, node.index) },
          { key: cassandraSecretTags.adminPassword, value: adminSecret.secretArn },
          { key: cassandraSecretTags.detectorPassword, value: this.detectorSecret.secretArn },
          { key: cassandraSecretTags.ca, value: caSecret.secretArn },
          { key: cassandraSecretTags.caCertificate, value: this.caCertificateSecret.secretArn },
        ],
      });
      instance.overrideLogicalId(node.logicalId);
      // cfn-lint's schema wants `ami-…` here; EC2 also takes `resolve:ssm:<parameter>` (resolved at launch).
      instance.cfnOptions.metadata = { "cfn-lint": { config: { ignore_checks: ["E1152"] } } };
      // The role's policy (secrets read) must be attached before the node looks for its secrets.
      instance.node.addDependency(roles.roleOf(node.index));
      Validations.of(instance).acknowledge(
        {
          id: "AwsSolutions-EC29",
          reason: "Termination protection would block teardown; every experiment must be destroyable in one command.",
        },
        {
          id: "CloudFormation-Validate::E1152",
          reason: "EC2 accepts `resolve:ssm:<parameter>` as ImageId (resolved at launch), which keeps the template stable.",
        },
      );
      return instance;
    });
  }
}
