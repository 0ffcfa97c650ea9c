/**
 * Who may use the EKS cluster and from where: two CDK context keys, validated like the size keys (an error
 * names the key, the value and what is allowed).
 *
 * - `clusterAdminArn` (required): the IAM role or user that runs kubectl and the experiment runner. The
 *   cluster's creator is CloudFormation, not the person deploying, so without an access entry for this
 *   principal `aws eks update-kubeconfig` + kubectl get 401. There is no safe default (the deploying
 *   credentials are unknown at synth), so synth — and so deploy and destroy — stops with an error naming the
 *   key. The runner passes the caller's identity.
 * - `apiAccessCidrs` (optional): the public IPv4 CIDRs allowed to reach the API endpoint. Without it the
 *   endpoint is private only (reachable from inside the VPC): nothing of the cluster's API is on the internet
 *   unless the user names who may reach it.
 */
import { awsPartitions } from "../app/aws-regions.ts";
import { SizeInputError } from "./size/size-input.ts";

export const accessInputKeys = ["clusterAdminArn", "apiAccessCidrs"] as const;
export type AccessInputKey = (typeof accessInputKeys)[number];

export interface AccessInput {
  /** IAM role or user ARN given the AmazonEKSClusterAdminPolicy at cluster scope. */
  readonly clusterAdminArn: string;
  /** Public CIDRs of the API endpoint; empty: the endpoint is private. */
  readonly apiAccessCidrs: readonly string[];
}

const partitions = awsPartitions;
/** IAM names (roles, users, path segments): letters, digits and `+=,.@_-`, at most 64 characters per name. */
const iamName = "[A-Za-z0-9+=,.@_-]{1,64}";
const principalArn = new RegExp(`^arn:(${partitions.join("|")}):iam::(\\d{12}):(role|user)/((?:${iamName}/)*)(${iamName})$`);
const assumedRoleArn = new RegExp(`^arn:(${partitions.join("|")}):sts::(\\d{12}):assumed-role/(${iamName})/[^/]+$`);

/**
 * The role behind an STS assumed-role ARN (what `sts get-caller-identity` returns for a role session), or
 * undefined for any other ARN. The session ARN carries no role path: resolve the role's ARN with `iam get-role`
 * (RoleName = roleName) before passing it as clusterAdminArn when the role may have one (SSO roles do).
 */
export function assumedRoleOf(arn: string): { partition: string; account: string; roleName: string } | undefined {
  const match = assumedRoleArn.exec(arn);
  return match === null ? undefined : { partition: match[1]!, account: match[2]!, roleName: match[3]! };
}

const adminAllowed = `an IAM role or user ARN, arn:<partition>:iam::<12-digit account>:role/[<path>/]<name> or :user/[<path>/]<name> (partition one of ${partitions.join(", ")})`;

function parseClusterAdminArn(value: unknown): string {
  if (value === undefined || value === "") {
    throw new SizeInputError(
      `clusterAdminArn is missing: give -c clusterAdminArn=<${adminAllowed}>: the principal that runs kubectl and the experiment runner (aws sts get-caller-identity shows yours)`,
    );
  }
  const given = JSON.stringify(value);
  if (typeof value !== "string") throw new SizeInputError(`clusterAdminArn = ${given}: allowed: ${adminAllowed}`);
  const assumed = assumedRoleOf(value);
  if (assumed !== undefined) {
    const { partition, account, roleName: role } = assumed;
    throw new SizeInputError(
      `clusterAdminArn = ${given}: allowed: the role's ARN, not an assumed-role session (EKS access entries take no STS session principals): pass arn:${partition}:iam::${account}:role/${role} (with the role's path if it has one: aws iam get-role --role-name ${role})`,
    );
  }
  if (!principalArn.test(value)) throw new SizeInputError(`clusterAdminArn = ${given}: allowed: ${adminAllowed}`);
  return value;
}

const cidrAllowed =
  "comma-separated public unicast IPv4 CIDR blocks such as 203.0.113.7/32 (no blanks, network address, prefix 1..32; no private, loopback, link-local, CGNAT, multicast or reserved range)";

/**
 * Ranges that can never be the source of a request to a public endpoint: "this network", RFC 1918, CGNAT,
 * loopback, link-local, IETF protocol assignments, benchmarking, multicast and the reserved 240/4 (with the
 * broadcast address). The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) stay allowed:
 * the kit's examples and tests use them, and an endpoint that admits them admits no one.
 */
const nonPublic: readonly [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

const octet = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const cidrPattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}/(3[0-2]|[12]?[0-9])$`);
const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const fromInt = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
/** The block's first address (host bits cleared); arithmetic, since JavaScript's `&` is signed 32-bit. */
const network = (ip: number, prefix: number) => ip - (ip % 2 ** (32 - prefix));
const within = (ip: number, [base, prefix]: readonly [string, number]) => network(ip, prefix) === toInt(base);

function parseApiAccessCidrs(value: unknown): string[] {
  if (value === undefined || value === "") return [];
  const given = JSON.stringify(value);
  if (typeof value !== "string") throw new SizeInputError(`apiAccessCidrs = ${given}: allowed: ${cidrAllowed}`);
  const cidrs = value.split(",");
  for (const cidr of cidrs) {
    const bad = (why: string) => new SizeInputError(`apiAccessCidrs = ${JSON.stringify(cidr)}: allowed: ${why}`);
    if (!cidrPattern.test(cidr)) throw bad(cidrAllowed);
    const [address, prefixText] = cidr.split("/") as [string, string];
    const prefix = Number(prefixText);
    if (prefix === 0)
      throw bad(
        "a CIDR narrower than the whole internet (0.0.0.0/0 is what this key exists to avoid): name your own address, e.g. <your IP>/32",
      );
    const ip = toInt(address);
    if (network(ip, prefix) !== ip) throw bad(`the network address of the block: ${fromInt(network(ip, prefix))}/${prefix}`);
    // A block is refused when it lies in a non-public range or holds one whole (224.0.0.0/3 is multicast and reserved).
    const range = nonPublic.find((r) => within(ip, r) || (prefix <= r[1] && network(toInt(r[0]), prefix) === ip));
    if (range !== undefined) {
      throw bad(
        `a public address range (${range[0]}/${range[1]} is private, loopback, link-local, multicast or reserved: no request from the internet comes from it; inside the VPC the private endpoint is used)`,
      );
    }
  }
  const duplicate = cidrs.find((c, i) => cidrs.indexOf(c) !== i);
  if (duplicate !== undefined)
    throw new SizeInputError(`apiAccessCidrs = ${given}: allowed: each block once (${duplicate} is given twice)`);
  return cidrs;
}

export function parseAccessInput(raw: Readonly<Partial<Record<AccessInputKey, unknown>>>): AccessInput {
  return { clusterAdminArn: parseClusterAdminArn(raw.clusterAdminArn), apiAccessCidrs: parseApiAccessCidrs(raw.apiAccessCidrs) };
}
