/**
 * Where each Cassandra node goes, decided from its index alone so that growing the cluster from N to M
 * nodes adds nodes N..M-1 and leaves nodes 0..N-1 exactly as they were:
 * - zone (= rack): round-robin over the plan's zones, node i in zone i mod 3;
 * - address: a fixed private address in its zone's Cassandra subnet (which holds nothing else), `.10 + floor(i / 3)`;
 * - seeds: the first node of each zone (nodes 0, 1, 2), so every node knows the seeds at synth time and
 *   the seed list never changes with the cluster's size;
 * - logical id: `CassandraNode01`…`CassandraNode48`, from the index.
 */
import { limits } from "./size/size-input.ts";

export interface CassandraNodePlacement {
  readonly index: number;
  readonly logicalId: string;
  readonly availabilityZone: string;
  readonly privateIp: string;
  readonly isSeed: boolean;
  /** The node that must have joined before this one starts (undefined for seeds). */
  readonly joinsAfter: string | undefined;
}

/** First host address used in each Cassandra subnet (AWS keeps .0-.3). */
export const firstNodeHostOffset = 10;

export const cassandraLogicalId = (index: number) => `CassandraNode${String(index + 1).padStart(2, "0")}`;

/** The Name tag of node `index`'s instance (the stack sets it; the runner finds node 0 by it). */
export const cassandraInstanceName = (experimentId: string, index: number) => `${experimentId}-${cassandraLogicalId(index)}`;

function addressIn(cidr: string, hostOffset: number): string {
  const [base, maskText] = cidr.split("/");
  const mask = Number(maskText);
  const octets = (base ?? "").split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o)) || !Number.isInteger(mask)) {
    throw new Error(`not an IPv4 CIDR: ${cidr}`);
  }
  const size = 2 ** (32 - mask);
  // AWS keeps the last address of a subnet.
  if (hostOffset < 4 || hostOffset >= size - 1) throw new Error(`host offset ${hostOffset} does not fit in ${cidr}`);
  const value = (((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]! + hostOffset) >>> 0;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/**
 * Placements of nodes 0..nodes-1. `subnetCidrs[k]` is the Cassandra subnet of `zones[k]`.
 */
export function cassandraNodePlacements(nodes: number, zones: readonly string[], subnetCidrs: readonly string[]): CassandraNodePlacement[] {
  if (zones.length !== subnetCidrs.length) throw new Error("one Cassandra subnet per zone is needed");
  const perZone = Math.ceil(limits.cassandraNodes.max / zones.length);
  const placements: CassandraNodePlacement[] = [];
  for (let index = 0; index < nodes; index++) {
    const zoneIndex = index % zones.length;
    const slot = Math.floor(index / zones.length);
    if (slot >= perZone) throw new Error(`node ${index} is past the ${perZone} slots per zone`);
    placements.push({
      index,
      logicalId: cassandraLogicalId(index),
      availabilityZone: zones[zoneIndex]!,
      privateIp: addressIn(subnetCidrs[zoneIndex]!, firstNodeHostOffset + slot),
      isSeed: index < zones.length,
      joinsAfter: undefined,
    });
  }
  return placements.map((p, i) => (p.isSeed ? p : { ...p, joinsAfter: placements[i - 1]!.privateIp }));
}
