/**
 * The AWS regions the kit knows, with their partitions, for every place that takes a region: the app's
 * awsRegion setting, the CDK size input and synth:k8s. A made-up region (`us-east-9`) is refused rather than
 * synthesized into zones and ARNs that cannot exist.
 *
 * The list is the CDK's (aws-cdk-lib/region-info, a test keeps the two equal); it is copied here because the
 * app's image carries no aws-cdk-lib. A region AWS opens after this list is allowed by naming it in the
 * explicit override (`extraRegions` context key / EXTRA_AWS_REGIONS, --extra-aws-regions): its partition then
 * follows its name's prefix (cn- → aws-cn, us-gov- → aws-us-gov, ...).
 */

export const awsPartitions = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"] as const;
export type AwsPartition = (typeof awsPartitions)[number];

/** Region name → partition. */
export const knownAwsRegions: Readonly<Record<string, AwsPartition>> = {
  "af-south-1": "aws",
  "ap-east-1": "aws",
  "ap-east-2": "aws",
  "ap-northeast-1": "aws",
  "ap-northeast-2": "aws",
  "ap-northeast-3": "aws",
  "ap-south-1": "aws",
  "ap-south-2": "aws",
  "ap-southeast-1": "aws",
  "ap-southeast-2": "aws",
  "ap-southeast-3": "aws",
  "ap-southeast-4": "aws",
  "ap-southeast-5": "aws",
  "ap-southeast-6": "aws",
  "ap-southeast-7": "aws",
  "ca-central-1": "aws",
  "ca-west-1": "aws",
  "cn-north-1": "aws-cn",
  "cn-northwest-1": "aws-cn",
  "eu-central-1": "aws",
  "eu-central-2": "aws",
  "eu-isoe-west-1": "aws-iso-e",
  "eu-north-1": "aws",
  "eu-south-1": "aws",
  "eu-south-2": "aws",
  "eu-west-1": "aws",
  "eu-west-2": "aws",
  "eu-west-3": "aws",
  "eusc-de-east-1": "aws-eusc",
  "il-central-1": "aws",
  "me-central-1": "aws",
  "me-south-1": "aws",
  "me-west-1": "aws",
  "mx-central-1": "aws",
  "sa-east-1": "aws",
  "us-east-1": "aws",
  "us-east-2": "aws",
  "us-gov-east-1": "aws-us-gov",
  "us-gov-west-1": "aws-us-gov",
  "us-iso-east-1": "aws-iso",
  "us-iso-west-1": "aws-iso",
  "us-isob-east-1": "aws-iso-b",
  "us-isob-west-1": "aws-iso-b",
  "us-isof-east-1": "aws-iso-f",
  "us-isof-south-1": "aws-iso-f",
  "us-west-1": "aws",
  "us-west-2": "aws",
};

/** The shape of a region name: `us-east-1`, `eu-isoe-west-1`, `eusc-de-east-1`. */
export const awsRegionPattern = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/** The partition a region's name puts it in (how AWS names them), for a region given by the override. */
function partitionByName(region: string): AwsPartition {
  const prefixes: readonly [string, AwsPartition][] = [
    ["cn-", "aws-cn"],
    ["us-gov-", "aws-us-gov"],
    ["us-isob-", "aws-iso-b"],
    ["us-isof-", "aws-iso-f"],
    ["eu-isoe-", "aws-iso-e"],
    ["us-iso-", "aws-iso"],
    ["eusc-", "aws-eusc"],
  ];
  return prefixes.find(([p]) => region.startsWith(p))?.[1] ?? "aws";
}

/** What a region setting allows, in words, for the messages of every entry point. */
export const awsRegionAllowed = (overrideName: string): string =>
  `a known AWS region (${Object.keys(knownAwsRegions).join(", ")}), or one named in ${overrideName} for a region newer than this list`;

/**
 * The region's partition, or undefined when the region is neither known nor in `extra` (the override's list).
 * A name in `extra` must still look like a region.
 */
export function partitionOfRegion(region: string, extra: readonly string[] = []): AwsPartition | undefined {
  const known = knownAwsRegions[region];
  if (known !== undefined) return known;
  return extra.includes(region) && awsRegionPattern.test(region) ? partitionByName(region) : undefined;
}

/** The partition of an ARN (`arn:<partition>:...`), or undefined when it names none. */
export const partitionOfArn = (arn: string): string | undefined => /^arn:([a-z-]+):/.exec(arn)?.[1];
