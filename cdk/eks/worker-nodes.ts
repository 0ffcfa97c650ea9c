/**
 * The workers: one managed node group of a fixed size (the size plan's), launched from a template that keeps
 * pods off the instance's credentials (IMDSv2 with a hop limit of 1: pods get theirs from EKS Pod Identity)
 * and gives every node an encrypted gp3 root volume.
 */
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import type { Construct } from "constructs";
import { ParentScoped } from "./parent-scoped.ts";

export interface WorkerNodesProps {
  /** The cluster the node group joins. */
  readonly cluster: eks.Cluster;
  /** EC2 instance type of every worker. */
  readonly instanceType: string;
  /** Number of workers: the node group's minimum, desired and maximum size alike. */
  readonly count: number;
  /** Subnets the workers are launched in. */
  readonly subnets: ec2.ISubnet[];
  /** The workers' security group (the one the data stores admit); the cluster security group is added to it. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Size of each worker's root volume, GiB. */
  readonly rootVolumeGiB: number;
}

export class WorkerNodes extends ParentScoped {
  readonly nodegroup: eks.Nodegroup;

  constructor(scope: Construct, id: string, props: WorkerNodesProps) {
    super(scope, id);
    const launchTemplate = new ec2.LaunchTemplate(this.parent, "WorkerLaunchTemplate", {
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      securityGroup: props.securityGroup,
      blockDevices: [
        {
          deviceName: "/dev/xvda",
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });
    // With a launch template's security groups, EKS no longer adds the cluster security group itself.
    launchTemplate.connections.addSecurityGroup(props.cluster.clusterSecurityGroup);

    this.nodegroup = props.cluster.addNodegroupCapacity("Workers", {
      instanceTypes: [new ec2.InstanceType(props.instanceType)],
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      minSize: props.count,
      desiredSize: props.count,
      maxSize: props.count,
      subnets: { subnets: props.subnets },
      launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
    });
  }
}
