/** The kit's region list is the CDK's (the app's image carries no aws-cdk-lib, so the list is copied). */
import { RegionInfo } from "aws-cdk-lib/region-info";
import { describe, expect, it } from "vitest";
import { knownAwsRegions, partitionOfArn, partitionOfRegion } from "../../app/aws-regions.ts";

describe("AWS regions", () => {
  it("are the CDK's known regions, each in the CDK's partition", () => {
    const cdk = Object.fromEntries(RegionInfo.regions.map((r) => [r.name, r.partition]));
    expect(knownAwsRegions).toEqual(cdk);
  });

  it("give a region named by the override the partition of its name, and refuse one that is not a region name", () => {
    expect(partitionOfRegion("us-gov-north-1", ["us-gov-north-1"])).toBe("aws-us-gov");
    expect(partitionOfRegion("cn-south-1", ["cn-south-1"])).toBe("aws-cn");
    expect(partitionOfRegion("xx-newplace-1", ["xx-newplace-1"])).toBe("aws");
    expect(partitionOfRegion("xx-newplace-1")).toBeUndefined();
    expect(partitionOfRegion("Mars", ["Mars"])).toBeUndefined();
    expect(partitionOfArn("arn:aws-cn:iam::123456789012:role/x")).toBe("aws-cn");
    expect(partitionOfArn("role/x")).toBeUndefined();
  });
});
