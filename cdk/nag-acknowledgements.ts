/**
 * cdk-nag findings on resources that aws-cdk-lib makes for us (custom-resource provider functions, the EKS
 * kubectl handler, the EKS service roles) and that we cannot change, each with its reason. Findings on our
 * own resources are acknowledged next to the resource they concern.
 */
import { CfnCondition, Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

const managed = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;

const lambdaBasic = managed("service-role/AWSLambdaBasicExecutionRole");
const lambdaVpc = managed("service-role/AWSLambdaVPCAccessExecutionRole");

interface Finding {
  readonly path: string;
  readonly ids: readonly string[];
  readonly reason: string;
}

function findByPath(stack: Stack, path: string): IConstruct | undefined {
  let node: IConstruct | undefined = stack;
  for (const part of path.split("/")) node = node?.node.tryFindChild(part);
  return node;
}

/** The singleton Lambda behind every AwsCustomResource of a stack. */
const awsCustomResourceFunction = "AWS679f53fac002430cb0da5b7982bd2287";

export function acknowledgeLibraryFindings(stack: Stack): void {
  const findings: Finding[] = [
    {
      path: awsCustomResourceFunction,
      ids: [lambdaBasic],
      reason: "aws-cdk-lib's AwsCustomResource handler: AWS's managed policy only lets it write its own logs.",
    },
    {
      path: "Cluster/Role",
      ids: [managed("AmazonEKSClusterPolicy")],
      reason: "The EKS control-plane service role needs AWS's managed cluster policy; EKS documents no custom equivalent.",
    },
    {
      path: "Cluster/NodegroupWorkers/NodeGroupRole",
      ids: [managed("AmazonEKSWorkerNodePolicy"), managed("AmazonEKS_CNI_Policy"), managed("AmazonEC2ContainerRegistryReadOnly")],
      reason: "The three managed policies EKS requires for managed node groups (kubelet, VPC CNI, image pulls).",
    },
    {
      path: "Cluster/KubectlProvider",
      ids: [lambdaBasic, lambdaVpc, managed("AmazonEC2ContainerRegistryReadOnly"), "AwsSolutions-L1"],
      reason: "aws-cdk-lib's kubectl/helm provider for aws-eks-v2: its handler's managed policies and its runtime are set by the library.",
    },
  ];
  const kubectlHandler = findByPath(stack, "Cluster/KubectlProvider/Handler");
  const ecrPublic = kubectlHandler?.node.tryFindChild("HasEcrPublic");
  if (ecrPublic instanceof CfnCondition) {
    const condition = stack.getLogicalId(ecrPublic);
    findings.push({
      path: "Cluster/KubectlProvider/Handler",
      ids: [
        `AwsSolutions-IAM4[Policy::{"Fn::If":["${condition}",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]`,
      ],
      reason: "aws-cdk-lib's kubectl provider adds public-ECR read access where the region has it (a conditional managed policy).",
    });
  }
  const onEvent = findByPath(stack, "Cluster/KubectlProvider/Provider/framework-onEvent");
  const handlerFunction = kubectlHandler?.node.tryFindChild("Resource");
  if (onEvent !== undefined && handlerFunction !== undefined) {
    findings.push({
      path: "Cluster/KubectlProvider/Provider/framework-onEvent",
      ids: [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(handlerFunction as never)}.Arn>:*]`],
      reason: "The provider framework may invoke any version of the kubectl handler (library-made policy).",
    });
  }
  for (const f of findings) {
    const target = findByPath(stack, f.path);
    if (target === undefined) continue;
    Validations.of(target).acknowledge(...f.ids.map((id) => ({ id, reason: f.reason })));
  }
}
