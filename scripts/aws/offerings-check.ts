/**
 * Each EC2 instance type of the plan must be offered in each chosen availability zone (zone names map to
 * different physical zones per account, and older zones lack newer types). One DescribeInstanceTypeOfferings
 * over the whole region (LocationType availability-zone) answers both "is it offered here" and, for a
 * failure, "which zones would do".
 */
import { DescribeInstanceTypeOfferingsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { clientConfig, errorMessage, errorName, type AwsContext } from "./aws-context.ts";
import type { CheckResult } from "./check-result.ts";

/** zone → instance types offered there (only the types asked about). */
export async function instanceTypeOfferings(ec2: EC2Client, instanceTypes: readonly string[]): Promise<Map<string, Set<string>>> {
  const byZone = new Map<string, Set<string>>();
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: "availability-zone",
        Filters: [{ Name: "instance-type", Values: [...instanceTypes] }],
        NextToken,
      }),
    );
    for (const o of out.InstanceTypeOfferings ?? []) {
      if (o.Location === undefined || o.InstanceType === undefined) continue;
      const set = byZone.get(o.Location) ?? new Set<string>();
      set.add(o.InstanceType);
      byZone.set(o.Location, set);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return byZone;
}

/** One result per instance type: pass when offered in every chosen zone, else which zones lack it and which would do. */
export async function checkOfferings(ctx: AwsContext, instanceTypes: readonly string[], zones: readonly string[]): Promise<CheckResult[]> {
  const ec2 = new EC2Client(clientConfig(ctx));
  const types = [...new Set(instanceTypes)].sort();
  try {
    const byZone = await instanceTypeOfferings(ec2, types);
    const everyTypeZones = [...byZone.entries()]
      .filter(([, set]) => types.every((t) => set.has(t)))
      .map(([z]) => z)
      .sort();
    return types.map((type): CheckResult => {
      const missing = zones.filter((z) => !(byZone.get(z)?.has(type) ?? false));
      const check = `offered: ${type}`;
      if (missing.length === 0) return { check, status: "pass", detail: `${type} is offered in ${zones.join(", ")}` };
      const unknown = missing.filter((z) => !byZone.has(z));
      return {
        check,
        status: "fail",
        detail:
          `${type} is not offered in ${missing.join(", ")}` +
          (unknown.length > 0
            ? ` (${unknown.join(", ")} offers none of the plan's types: is it a zone of ${ctx.region} open to this account?)`
            : ""),
        fix:
          everyTypeZones.length >= zones.length
            ? `choose zones that offer every type of the plan: --availability-zones ${everyTypeZones.slice(0, zones.length).join(",")} (all such zones: ${everyTypeZones.join(", ")})`
            : `only ${everyTypeZones.length} zone(s) of ${ctx.region} offer every type (${everyTypeZones.join(", ") || "none"}): choose another instance type (--cassandra-instance-type / --worker-instance-type) or region`,
      };
    });
  } catch (error) {
    return [
      {
        check: "offered instance types",
        status: "fail",
        detail: `EC2 DescribeInstanceTypeOfferings failed: ${errorName(error)}: ${errorMessage(error)}`,
        fix: "allow ec2:DescribeInstanceTypeOfferings for this identity",
      },
    ];
  } finally {
    ec2.destroy();
  }
}
