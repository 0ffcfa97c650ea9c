/**
 * The chosen availability zones against Amazon MSK's unsupported zones. Zone names (us-east-1a) map to
 * different physical zones in each account; zone IDs (use1-az3) do not, and MSK's restrictions are by zone
 * ID. EC2 DescribeAvailabilityZones gives this account's name → ID mapping, so a failure names the zones that
 * would do here.
 */
import { DescribeAvailabilityZonesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { clientConfig, errorMessage, errorName, type AwsContext } from "./aws-context.ts";
import type { CheckResult } from "./check-result.ts";

/**
 * Zone IDs where MSK refuses client subnets. Source: the AWS::MSK::Cluster BrokerNodeGroupInfo ClientSubnets
 * documentation ("Client subnets can't occupy the Availability Zone with ID use1-az3"). MSK's CreateCluster
 * error names any other zone it refuses; add it here when one shows up.
 */
export const mskUnsupportedZoneIds: readonly string[] = ["use1-az3"];

export interface ZoneInfo {
  readonly name: string;
  readonly id: string;
  readonly state: string;
  /** "availability-zone", "local-zone" or "wavelength-zone". */
  readonly type: string;
}

/** This account's zones of the context's region (only the region's own availability zones, opted-in or not). */
export async function accountZones(ec2: EC2Client): Promise<ZoneInfo[]> {
  const out = await ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "zone-type", Values: ["availability-zone"] }] }));
  return (out.AvailabilityZones ?? []).flatMap((z) =>
    z.ZoneName === undefined || z.ZoneId === undefined
      ? []
      : [{ name: z.ZoneName, id: z.ZoneId, state: z.State ?? "unknown", type: z.ZoneType ?? "availability-zone" }],
  );
}

export async function checkMskZones(ctx: AwsContext, zones: readonly string[]): Promise<CheckResult> {
  const ec2 = new EC2Client(clientConfig(ctx));
  const check = "MSK zones";
  try {
    const all = await accountZones(ec2);
    const byName = new Map(all.map((z) => [z.name, z]));
    const chosen = zones.map((name) => ({ name, zone: byName.get(name) }));
    const unknown = chosen.filter((c) => c.zone === undefined).map((c) => c.name);
    const notAvailable = chosen
      .filter((c) => c.zone !== undefined && c.zone.state !== "available")
      .map((c) => `${c.name} (${c.zone!.id}, ${c.zone!.state})`);
    const refused = chosen
      .filter((c) => c.zone !== undefined && mskUnsupportedZoneIds.includes(c.zone.id))
      .map((c) => `${c.name} (${c.zone!.id})`);
    const ids = chosen.map((c) => `${c.name} = ${c.zone?.id ?? "?"}`).join(", ");
    if (unknown.length === 0 && notAvailable.length === 0 && refused.length === 0) {
      return {
        check,
        status: "pass",
        detail: `zone IDs in this account: ${ids}; none is one MSK refuses (${mskUnsupportedZoneIds.join(", ")})`,
      };
    }
    const usable = all
      .filter((z) => z.state === "available" && !mskUnsupportedZoneIds.includes(z.id))
      .map((z) => z.name)
      .sort();
    const keep = zones.filter((n) => usable.includes(n));
    const instead = [...keep, ...usable.filter((n) => !keep.includes(n))].slice(0, zones.length);
    const problems = [
      ...(refused.length > 0 ? [`MSK refuses client subnets in ${refused.join(", ")}`] : []),
      ...(unknown.length > 0 ? [`${unknown.join(", ")} is not a zone of ${ctx.region} in this account`] : []),
      ...(notAvailable.length > 0 ? [`not available: ${notAvailable.join(", ")}`] : []),
    ];
    return {
      check,
      status: "fail",
      detail: `${problems.join("; ")} (zone IDs here: ${ids})`,
      fix:
        instead.length >= zones.length
          ? `choose zones MSK supports: --availability-zones ${instead.join(",")} (all such zones here: ${usable.join(", ")}; the offered-types checks must pass for them too)`
          : `only ${usable.length} zone(s) of ${ctx.region} suit MSK here (${usable.join(", ") || "none"}): choose another region`,
    };
  } catch (error) {
    return {
      check,
      status: "fail",
      detail: `EC2 DescribeAvailabilityZones failed: ${errorName(error)}: ${errorMessage(error)}`,
      fix: "allow ec2:DescribeAvailabilityZones for this identity",
    };
  } finally {
    ec2.destroy();
  }
}
