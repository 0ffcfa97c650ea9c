/**
 * Which __consumer_offsets partition holds a group, the way Kafka's coordinator lookup picks it. The expected
 * partitions were computed with Java's own String.hashCode (`(s.hashCode() & 0x7fffffff) % n`).
 */
import { describe, expect, it } from "vitest";
import { offsetsPartitionOf } from "../../../scripts/chaos/cluster-faults.ts";

describe("offsetsPartitionOf", () => {
  it.each<[string, number, number]>([
    ["hello", 50, 22],
    ["hello", 6, 4],
    ["rmxdqyt8f5i-detector", 50, 14],
    ["t1-detector", 50, 4], // a negative hash
    ["t1-detector", 6, 2],
    ["grüße-detector", 50, 8], // non-ASCII: UTF-16 units, as Java hashes them
    ["polygenelubricants", 6, 0], // hashCode is Integer.MIN_VALUE
  ])("puts group %s, of %i partitions, in partition %i as Kafka does", (groupId, partitions, expected) => {
    expect(offsetsPartitionOf(groupId, partitions)).toBe(expected);
  });
});
