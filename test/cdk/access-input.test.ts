/**
 * The access context keys (cdk/access-input.ts) and the whole-context check (cdk/kit-input.ts): strict,
 * with errors that name the key, the value and what is allowed.
 */
import { describe, expect, it } from "vitest";
import { assumedRoleOf, parseAccessInput } from "../../cdk/access-input.ts";
import { kitInputFromContext } from "../../cdk/kit-input.ts";
import { SizeInputError } from "../../cdk/size/size-input.ts";
import { repoRoot, testAccess } from "./kit-synth.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const admin = testAccess.clusterAdminArn;

describe("clusterAdminArn", () => {
  it.each([
    "arn:aws:iam::111122223333:role/kit-admin",
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:user/team/alice@example.com",
    "arn:aws-cn:iam::111122223333:role/admin",
    "arn:aws-us-gov:iam::111122223333:role/admin",
  ])("accepts the role or user ARN %s", (arn) => {
    expect(parseAccessInput({ clusterAdminArn: arn }).clusterAdminArn).toBe(arn);
  });

  it("is required, naming the key and how to find the value", () => {
    expect(() => parseAccessInput({})).toThrow(SizeInputError);
    expect(() => parseAccessInput({})).toThrow(
      /^clusterAdminArn is missing: give -c clusterAdminArn=<an IAM role or user ARN.*aws sts get-caller-identity/,
    );
  });

  it("refuses an assumed-role session, naming the role ARN to pass instead", () => {
    expect(() => parseAccessInput({ clusterAdminArn: "arn:aws:sts::111122223333:assumed-role/Admin/alice" })).toThrow(
      /^clusterAdminArn = "arn:aws:sts::111122223333:assumed-role\/Admin\/alice": allowed: the role's ARN, not an assumed-role session .*pass arn:aws:iam::111122223333:role\/Admin/,
    );
  });

  it.each([
    "arn:aws:iam::11112222333:role/admin", // 11 digits
    "arn:aws:iam::1111222233334:role/admin", // 13 digits
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::111122223333:group/admins",
    "arn:aws:iam::111122223333:role/",
    "arn:aws:iam::111122223333:role/a b",
    "arn:aws:iam:us-east-1:111122223333:role/admin", // IAM ARNs have no region
    "arn:amazon:iam::111122223333:role/admin",
    "arn:aws:sts::111122223333:federated-user/alice",
    " arn:aws:iam::111122223333:role/admin",
    `arn:aws:iam::111122223333:role/${"r".repeat(65)}`,
    "111122223333",
  ])("refuses %s naming the key and the allowed form", (arn) => {
    expect(() => parseAccessInput({ clusterAdminArn: arn })).toThrow(
      new RegExp(`^clusterAdminArn = ${JSON.stringify(arn).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: allowed: an IAM role or user ARN`),
    );
  });
});

describe("assumedRoleOf (for the runner, which fills clusterAdminArn from the caller's identity)", () => {
  it("names the role behind an assumed-role session, and nothing for other ARNs", () => {
    expect(assumedRoleOf("arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com")).toEqual({
      partition: "aws-cn",
      account: "111122223333",
      roleName: "AWSReservedSSO_Admin_0123",
    });
    expect(assumedRoleOf(admin)).toBeUndefined();
    expect(assumedRoleOf("arn:aws:iam::111122223333:user/alice")).toBeUndefined();
  });
});

describe("apiAccessCidrs", () => {
  it("is optional: none means a private endpoint", () => {
    expect(parseAccessInput({ clusterAdminArn: admin }).apiAccessCidrs).toEqual([]);
    expect(parseAccessInput({ clusterAdminArn: admin, apiAccessCidrs: "" }).apiAccessCidrs).toEqual([]);
  });

  it("takes a comma-separated list of public IPv4 blocks", () => {
    expect(parseAccessInput({ clusterAdminArn: admin, apiAccessCidrs: "203.0.113.0/24,198.51.100.7/32,1.0.0.0/8" }).apiAccessCidrs).toEqual(
      ["203.0.113.0/24", "198.51.100.7/32", "1.0.0.0/8"],
    );
  });

  it.each([
    ["0.0.0.0/0", /whole internet/],
    ["198.51.100.7", /IPv4 CIDR/],
    ["198.51.100.7/33", /IPv4 CIDR/],
    ["256.0.0.0/8", /IPv4 CIDR/],
    ["198.051.100.7/32", /IPv4 CIDR/],
    ["198.51.100.7/032", /IPv4 CIDR/],
    [" 198.51.100.7/32", /IPv4 CIDR/],
    ["2001:db8::/32", /IPv4 CIDR/],
    ["198.51.100.7/24", /network address of the block: 198\.51\.100\.0\/24/],
    ["10.1.0.0/16", /public address range \(10\.0\.0\.0\/8/],
    ["192.168.1.0/24", /public address range/],
    ["172.20.0.0/16", /public address range/],
    ["127.0.0.1/32", /public address range/],
  ])("refuses %s naming it", (cidr, why) => {
    const run = () => parseAccessInput({ clusterAdminArn: admin, apiAccessCidrs: `203.0.113.0/24,${cidr}` });
    expect(run).toThrow(new RegExp(`^apiAccessCidrs = ${JSON.stringify(cidr).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: allowed: `));
    expect(run).toThrow(why);
  });

  it("refuses a block given twice and an empty item", () => {
    expect(() => parseAccessInput({ clusterAdminArn: admin, apiAccessCidrs: "203.0.113.0/24,203.0.113.0/24" })).toThrow(/given twice/);
    expect(() => parseAccessInput({ clusterAdminArn: admin, apiAccessCidrs: "203.0.113.0/24," })).toThrow(/^apiAccessCidrs = "": allowed/);
  });
});

describe("the whole CDK context", () => {
  const cdkJsonContext = (JSON.parse(readFileSync(join(repoRoot, "cdk.json"), "utf8")) as { context: Record<string, unknown> }).context;
  // What the CDK CLI adds to the app's context, besides cdk.json's feature flags and the user's -c keys.
  const cliContext = {
    "aws:cdk:enable-path-metadata": true,
    "aws:cdk:enable-asset-metadata": true,
    "aws:cdk:version-reporting": true,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": true,
    "availability-zones:account=111122223333:region=us-east-1": ["us-east-1a"],
    "acknowledged-issue-numbers": [32775],
    "aws-cdk:enableDiffNoFail": "true",
    "vpc-provider:account=111122223333:filter.isDefault=true:region=us-east-1:returnAsymmetricSubnets=true": {},
  };

  it("passes the CDK's own keys and returns the plan and the access input", () => {
    const input = kitInputFromContext({ ...cdkJsonContext, ...cliContext, preset: "stage-6", clusterAdminArn: admin });
    expect(input.plan.cassandra.nodes).toBe(6);
    expect(input.access).toEqual({ clusterAdminArn: admin, apiAccessCidrs: [] });
  });

  it.each([
    ["clusterAdminARN", "clusterAdminArn"],
    ["clusterAdmin", "clusterAdminArn"],
    ["apiAccessCidr", "apiAccessCidrs"],
    ["cassandraNode", "cassandraNodes"],
  ])("refuses the unknown key %s, suggesting %s", (typo, known) => {
    expect(() => kitInputFromContext({ ...cdkJsonContext, preset: "stage-3", clusterAdminArn: admin, [typo]: "x" })).toThrow(
      new RegExp(`^${typo} = "x": unknown key; did you mean ${known}\\?`),
    );
  });
});
