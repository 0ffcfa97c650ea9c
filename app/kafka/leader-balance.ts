/**
 * The check a stage's result applies to the leaders per broker it read back: a broker that leads many more
 * partitions than another serves many more of the produce and fetch requests, so the stage would measure its
 * busiest broker, not the cluster. It fails when the most-loaded broker leads more than `leaderImbalanceLimit`
 * times the least-loaded one, naming both.
 */

/** Most-loaded / least-loaded leaders a stage accepts. */
export const leaderImbalanceLimit = 1.5;

export interface LeaderBalance {
  readonly topic: string;
  /** Broker id → partitions it leads, every broker of the cluster listed (0 when it leads none). */
  readonly leadersPerBroker: Readonly<Record<string, number>>;
  readonly most: { readonly broker: number; readonly leaders: number };
  readonly least: { readonly broker: number; readonly leaders: number };
  /** most / least; null when the least-loaded broker leads nothing. */
  readonly ratio: number | null;
  readonly balanced: boolean;
  /** Why it is unbalanced, naming the brokers; absent when balanced. */
  readonly problem?: string;
}

/**
 * Judges one topic's leaders per broker. `leaders` must list every broker of the cluster (a broker that leads
 * nothing, 0): one missing would hide the very imbalance this looks for.
 */
export function checkLeaderBalance(topic: string, leaders: ReadonlyMap<number, number>, limit = leaderImbalanceLimit): LeaderBalance {
  if (!(limit >= 1)) throw new Error(`leader imbalance limit ${limit}: allowed: a number >= 1`);
  if (leaders.size === 0) throw new Error(`topic ${topic}: no brokers given; allowed: every broker of the cluster with its leader count`);
  const entries = [...leaders].sort(([a], [b]) => a - b);
  const [mostBroker, mostLeaders] = entries.reduce((m, e) => (e[1] > m[1] ? e : m));
  const [leastBroker, leastLeaders] = entries.reduce((m, e) => (e[1] < m[1] ? e : m));
  const ratio = leastLeaders === 0 ? null : mostLeaders / leastLeaders;
  const balanced = mostLeaders === 0 || (ratio !== null && ratio <= limit);
  const result = {
    topic,
    leadersPerBroker: Object.fromEntries(entries.map(([b, n]) => [String(b), n])),
    most: { broker: mostBroker, leaders: mostLeaders },
    least: { broker: leastBroker, leaders: leastLeaders },
    ratio,
    balanced,
  };
  if (balanced) return result;
  const idle = entries.filter(([, n]) => n === 0).map(([b]) => b);
  const problem =
    ratio === null
      ? `topic ${topic}: broker${idle.length > 1 ? "s" : ""} ${idle.join(", ")} lead${idle.length > 1 ? "" : "s"} no partition while broker ${mostBroker} leads ${mostLeaders}; allowed: the most-loaded broker leads at most ${limit}x the least`
      : `topic ${topic}: broker ${mostBroker} leads ${mostLeaders} partitions, ${ratio.toFixed(2)}x broker ${leastBroker}'s ${leastLeaders}; allowed: at most ${limit}x`;
  return { ...result, problem };
}
