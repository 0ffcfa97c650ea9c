/**
 * The sweep: find everything of an experiment, and with `delete`, delete it in dependency order, in rounds.
 * Each round re-discovers what is left, then walks the kinds in `deletionOrder` — stacks and clusters first
 * (their services delete in the background), then what holds addresses and groups (load balancers,
 * instances, NAT gateways, endpoints), then volumes and ENIs, security groups, the network, and last
 * configurations, log groups, keys and buckets. A resource that reports a dependency (DependencyViolation,
 * in use) is retried in a later round; rounds back off exponentially until nothing is left or the time
 * is up. The experiment runner calls sweepExperiment after a stage's `cdk destroy`, as the final check.
 */
import { setTimeout as pause } from "node:timers/promises";
import type { AwsContext } from "./aws-context.ts";
import { deleteResource, probe, sweepClients, type DeleteContext, type Outcome, type SweepClients } from "./resource-deleters.ts";
import {
  findMskResources,
  findTaggedResources,
  findVpcDependents,
  mergeFound,
  resourceKinds,
  type FoundResource,
  type ResourceKind,
} from "./tagged-resources.ts";

/** Kinds in the order a round deletes them (resourceKinds is declared in this order). */
export const deletionOrder: readonly ResourceKind[] = resourceKinds;

export interface SweepEntry {
  readonly resource: FoundResource;
  readonly outcome: Outcome;
}

export interface SweepOptions {
  /** Delete (true) or only list (false). */
  readonly delete: boolean;
  /** Give up after this long, ms (default 60 min: MSK and EKS deletions take 10-20 min). */
  readonly timeoutMs?: number;
  /** First wait between rounds, ms (default 5 s), doubling up to maxDelayMs (default 60 s). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface SweepReport {
  readonly experimentId: string;
  readonly rounds: number;
  /** Still there: present, deleting, blocked, failed or without a deleter. */
  readonly remaining: readonly SweepEntry[];
  /** Deleted during this run, or scheduled for deletion (KMS keys). */
  readonly done: readonly SweepEntry[];
}

const keyOf = (r: FoundResource) => `${r.kind} ${r.id}`;
const settled = (o: Outcome) => o.status === "gone" || o.status === "scheduled";

/** Everything of the experiment that the services list now. */
export async function discoverExperiment(clients: SweepClients, experimentId: string): Promise<FoundResource[]> {
  const [tagged, msk] = await Promise.all([
    findTaggedResources(clients.tagging, experimentId),
    findMskResources(clients.kafka, experimentId),
  ]);
  const vpcIds = tagged.filter((r) => r.kind === "ec2-vpc").map((r) => r.id);
  const inVpcs = await findVpcDependents(clients.ec2, clients.elbv2, vpcIds);
  const rank = (r: FoundResource) => deletionOrder.indexOf(r.kind);
  return mergeFound(tagged, msk, inVpcs).sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
}

async function lookAt(clients: SweepClients, found: readonly FoundResource[]): Promise<SweepEntry[]> {
  const entries: SweepEntry[] = [];
  for (const resource of found) entries.push({ resource, outcome: (await probe(clients, resource)) ?? { status: "present" } });
  return entries;
}

export async function sweepExperiment(
  ctxOrClients: AwsContext | SweepClients,
  experimentId: string,
  options: SweepOptions,
): Promise<SweepReport> {
  const owned = !("tagging" in ctxOrClients);
  const clients = owned ? sweepClients(ctxOrClients) : ctxOrClients;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => pause(ms));
  const log = options.log ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 60 * 60_000;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  let delay = options.initialDelayMs ?? 5_000;
  const start = now();
  const done = new Map<string, SweepEntry>();
  try {
    for (let round = 1; ; round++) {
      const found = (await discoverExperiment(clients, experimentId)).filter((r) => done.get(keyOf(r))?.outcome.status !== "gone");
      const looked = await lookAt(clients, found);
      for (const e of looked.filter((x) => settled(x.outcome))) done.set(keyOf(e.resource), e);
      let entries = looked.filter((e) => !settled(e.outcome));
      if (options.delete && entries.length > 0) {
        const remainingKinds = new Set(entries.map((e) => e.resource.kind));
        const securityGroupIds = entries.filter((e) => e.resource.kind === "ec2-security-group").map((e) => e.resource.id);
        const roundContext: DeleteContext = { remainingKinds, securityGroupIds };
        const after: SweepEntry[] = [];
        for (const e of entries) {
          if (e.outcome.status === "deleting" || e.outcome.status === "manual") {
            after.push(e);
            continue;
          }
          const outcome = await deleteResource(clients, e.resource, roundContext);
          log(`  ${outcome.status.padEnd(9)} ${e.resource.kind} ${e.resource.id}${outcome.detail ? ` (${outcome.detail})` : ""}`);
          if (settled(outcome)) done.set(keyOf(e.resource), { resource: e.resource, outcome });
          else after.push({ resource: e.resource, outcome });
        }
        entries = after;
      }
      const waiting = entries.filter(
        (e) => e.outcome.status === "deleting" || e.outcome.status === "blocked" || e.outcome.status === "present",
      );
      log(
        `round ${round}: ${entries.length} remaining` +
          (entries.length > 0
            ? ` (${["deleting", "blocked", "failed", "manual", "present"].map((s) => `${entries.filter((e) => e.outcome.status === s).length} ${s}`).join(", ")})`
            : ""),
      );
      // Listing: one round says it all. Deleting: done when a round starts with nothing left to delete
      // (so a round after the last deletion confirms nothing came back).
      const finished = !options.delete || looked.every((e) => settled(e.outcome));
      const stuck = options.delete && entries.length > 0 && waiting.length === 0;
      if (finished || stuck || now() - start + delay > timeoutMs) {
        return { experimentId, rounds: round, remaining: entries, done: [...done.values()] };
      }
      await sleep(delay);
      delay = Math.min(delay * 2, maxDelayMs);
    }
  } finally {
    if (owned) clients.destroy();
  }
}
