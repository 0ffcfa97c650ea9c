/** The PIDs whose CPU a trial accounts for: this process (the ceiling's driver) and the local Kafka and Cassandra. */
import { stackStatus } from "../local/stack-control.ts";

export async function stackPids(): Promise<{ kafka: number[]; cassandra: number[] }> {
  const status = await stackStatus();
  const pidOf = (name: string) => status.filter((s) => s.name === name && s.pid !== null).map((s) => s.pid!);
  return { kafka: pidOf("kafka"), cassandra: pidOf("cassandra") };
}
