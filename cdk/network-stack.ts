/**
 * The VPC: three explicit availability zones (offline synth, no lookups), one NAT gateway, and four
 * subnet groups per zone — public (NAT, nothing else), `workers` (EKS nodes and pods, large: the VPC CNI
 * gives every pod an address), `kafka` (MSK brokers) and `cassandra` (Cassandra nodes at fixed addresses,
 * nothing else, so no ENI can take a node's address first).
 *
 * Security groups shared across stacks live here too, so the rule "CQL only from EKS workers" needs no
 * cross-stack reference from the data stacks to the EKS stack (that would make a cycle: the EKS stack reads
 * the data stacks' endpoints).
 */
import { Stack, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type { Construct } from "constructs";
import type { SizePlan } from "./size/size-plan.ts";
import { cassandraPorts, kafkaPorts } from "./servers/ports.ts";
import { ownedLogGroup } from "./owned-log-group.ts";

export const subnetGroups = { public: "public", workers: "workers", kafka: "kafka", cassandra: "cassandra" } as const;

export const vpcCidr = "10.40.0.0/16";

export interface NetworkStackProps extends StackProps {
  readonly plan: SizePlan;
}

export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  /** Attached to every EKS worker node (and so to every pod: the VPC CNI gives pods the node's groups). */
  readonly workersSecurityGroup: ec2.SecurityGroup;
  readonly cassandraSecurityGroup: ec2.SecurityGroup;
  readonly kafkaSecurityGroup: ec2.SecurityGroup;
  private readonly zones: readonly string[];

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { plan } = props;
    this.zones = plan.availabilityZones;

    this.vpc = new ec2.Vpc(this, "Vpc", {
      ipAddresses: ec2.IpAddresses.cidr(vpcCidr),
      availabilityZones: [...plan.availabilityZones],
      // One NAT: egress is package installs, chart and image pulls — ECR, S3, SSM and logs go through endpoints.
      natGateways: 1,
      subnetConfiguration: [
        { name: subnetGroups.public, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: subnetGroups.workers, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
        { name: subnetGroups.kafka, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
        // Cassandra nodes only, at fixed addresses: nothing else may take an address here.
        { name: subnetGroups.cassandra, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: false,
    });
    // The default security group is unused; the custom resource that would strip its rules costs a Lambda.
    // Nothing is ever placed in it.

    this.vpc.addFlowLog("FlowLog", {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(ownedLogGroup(this, "FlowLogGroup")),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    // Endpoints where they save NAT traffic: image layers (S3 gateway, free), ECR, SSM Session Manager,
    // CloudWatch Logs and STS (pod credentials). Each interface endpoint costs per AZ-hour; these carry the bulk.
    this.vpc.addGatewayEndpoint("S3", { service: ec2.GatewayVpcEndpointAwsService.S3 });
    const interfaceEndpoints = {
      EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Sts: ec2.InterfaceVpcEndpointAwsService.STS,
    };
    const endpointSg = new ec2.SecurityGroup(this, "EndpointSecurityGroup", {
      vpc: this.vpc,
      description: "Interface endpoints: HTTPS from inside the VPC",
      allowAllOutbound: false,
    });
    endpointSg.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(443), "HTTPS from the VPC");
    for (const [name, service] of Object.entries(interfaceEndpoints)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: { subnetGroupName: subnetGroups.workers },
        securityGroups: [endpointSg],
        privateDnsEnabled: true,
        open: false,
      });
    }

    this.workersSecurityGroup = new ec2.SecurityGroup(this, "WorkersSecurityGroup", {
      vpc: this.vpc,
      description: "EKS worker nodes and their pods: client of Cassandra and Kafka",
      allowAllOutbound: true,
    });
    this.cassandraSecurityGroup = new ec2.SecurityGroup(this, "CassandraSecurityGroup", {
      vpc: this.vpc,
      description: "Cassandra nodes: CQL from EKS workers, storage between nodes, metrics to Prometheus",
      allowAllOutbound: true,
    });
    this.kafkaSecurityGroup = new ec2.SecurityGroup(this, "KafkaSecurityGroup", {
      vpc: this.vpc,
      description: "MSK brokers: IAM-authenticated TLS clients and open monitoring from EKS workers",
      allowAllOutbound: false,
    });

    const cassandra = this.cassandraSecurityGroup;
    const workers = this.workersSecurityGroup;
    cassandra.addIngressRule(workers, ec2.Port.tcp(cassandraPorts.cql), "CQL from EKS workers and pods");
    cassandra.addIngressRule(workers, ec2.Port.tcp(cassandraPorts.exporter), "Prometheus scrape of the node exporter");
    cassandra.addIngressRule(cassandra, ec2.Port.tcp(cassandraPorts.storage), "Inter-node storage and gossip (TLS-less, private)");
    // The bootstrap plan (cassandra-user-data.ts) lets a joining node wait for its predecessor's CQL port to
    // open, which Cassandra opens only once the node has finished joining. A TCP probe between members.
    cassandra.addIngressRule(cassandra, ec2.Port.tcp(cassandraPorts.cql), "CQL between members (join-order probe)");

    const kafka = this.kafkaSecurityGroup;
    kafka.addIngressRule(workers, ec2.Port.tcp(kafkaPorts.mskIam), "Kafka TLS + IAM from EKS workers and pods");
    kafka.addIngressRule(
      workers,
      ec2.Port.tcpRange(kafkaPorts.mskJmxExporter, kafkaPorts.mskNodeExporter),
      "Prometheus scrape of MSK open monitoring",
    );
    kafka.addIngressRule(kafka, ec2.Port.allTcp(), "Broker to broker replication");
    kafka.addEgressRule(kafka, ec2.Port.allTcp(), "Broker to broker replication");
  }

  /** The subnets of a group, one per zone, in the plan's zone order. */
  cassandraSubnets(): ec2.ISubnet[] {
    return this.subnetsByZone(subnetGroups.cassandra);
  }

  kafkaSubnets(): ec2.ISubnet[] {
    return this.subnetsByZone(subnetGroups.kafka);
  }

  workerSubnets(): ec2.ISubnet[] {
    return this.subnetsByZone(subnetGroups.workers);
  }

  private subnetsByZone(group: string): ec2.ISubnet[] {
    const subnets = this.vpc.selectSubnets({ subnetGroupName: group }).subnets;
    return this.zones.map((zone) => {
      const subnet = subnets.find((s) => s.availabilityZone === zone);
      if (subnet === undefined) throw new Error(`no ${group} subnet in ${zone}`);
      return subnet;
    });
  }
}
