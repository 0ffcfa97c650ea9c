/**
 * `npm run stack -- start|stop|status|reset`: the local Kafka + Cassandra on loopback; with `--nodes 3` (up
 * to 6) the multi-node cluster shaped like the cloud's instead (scripts/local/local-cluster.ts).
 */
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
import { parsePlainNumber } from "./cli-number.ts";
import { checkNodeCount, clusterBrokers, clusterNodeCounts, clusterStatus, startCluster, stopClusterStack } from "./local/local-cluster.ts";
import { StackError } from "./local/stack-messages.ts";
import { resetStack, stackStatus, startStack, stopStack } from "./local/stack-control.ts";

/** 1: the shared single-node stack; more: the cluster. */
const nodesOption = () =>
  new Option(
    "--nodes <n>",
    `1: the single-node stack; ${clusterNodeCounts.min}-${clusterNodeCounts.max}: the cluster of that many brokers and Cassandra nodes`,
  )
    .default(1)
    .argParser(parseNodes);

/** `--nodes`: plain decimal digits, then 1 or a cluster's node count. */
export function parseNodes(raw: string): number {
  const n = parsePlainNumber(raw, { min: 1, max: clusterNodeCounts.max, integer: true });
  if (n === undefined) {
    throw new InvalidArgumentError(
      `allowed: 1 (the shared single-node stack) or an integer from ${clusterNodeCounts.min} to ${clusterNodeCounts.max}, in plain decimal digits`,
    );
  }
  if (n !== 1) checkNodeCount(n);
  return n;
}

async function printClusterStatus(nodes: number): Promise<boolean> {
  const registered = await clusterBrokers(nodes);
  const status = clusterStatus(nodes);
  for (const s of status) {
    const state =
      s.pid === null
        ? "stopped"
        : s.kind === "kafka" && !registered.includes(s.node)
          ? `not registered (pid ${s.pid})`
          : `running (pid ${s.pid})`;
    console.log(`${`${s.kind} ${s.node}`.padEnd(12)} ${s.rack.padEnd(9)} ${s.address.padEnd(16)} ${state}`);
  }
  return status.every((s) => s.pid !== null) && registered.length === nodes;
}

async function printStatus(): Promise<boolean> {
  const status = await stackStatus();
  for (const s of status) {
    const state = s.pid === null ? "stopped" : s.answering ? `running (pid ${s.pid})` : `not answering (pid ${s.pid})`;
    console.log(`${s.label.padEnd(18)} ${s.address.padEnd(16)} ${state}`);
  }
  return status.every((s) => s.answering);
}

const program = new Command("stack").description("Local Apache Kafka + Apache Cassandra on loopback");
program
  .command("start")
  .description("start (idempotent) and wait until both answer")
  .option(
    "--auth",
    "Cassandra with password authentication, roles set up by the cloud's script (cdk/servers/cassandra-auth-setup.sh); " +
      "the detector's password goes to .local/cassandra/auth/detector-password",
  )
  .option(
    "--tls",
    "Cassandra requiring TLS for clients and between nodes, as in the cloud (implies --auth); CA and certificate made by " +
      "cdk/servers/cassandra-tls.sh, the CA certificate in .local/cassandra/tls/node/truststore.pem",
  )
  .addOption(nodesOption())
  .action(async (options: { auth?: boolean; tls?: boolean; nodes: number }) => {
    if (options.nodes > 1) {
      if (options.auth === true || options.tls === true)
        throw new StackError(`--nodes ${options.nodes}: --auth and --tls are for the single-node stack only`);
      const t0 = Date.now();
      await startCluster(options.nodes);
      console.log(`started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await printClusterStatus(options.nodes);
      return;
    }
    await startStack({ auth: options.auth === true, tls: options.tls === true });
    await printStatus();
  });
program
  .command("stop")
  .description("stop the servers this project started")
  .addOption(nodesOption())
  .action((options: { nodes: number }) => (options.nodes > 1 ? stopClusterStack() : stopStack()));
program
  .command("status")
  .description("show each server; exit 1 unless all answer")
  .addOption(nodesOption())
  .action(async (options: { nodes: number }) => {
    if (!(await (options.nodes > 1 ? printClusterStatus(options.nodes) : printStatus()))) process.exitCode = 1;
  });
program
  .command("reset")
  .description("delete the servers' data (stack must be stopped)")
  .action(() => resetStack());

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  program.parseAsync().catch((err: unknown) => {
    console.error(err instanceof StackError ? `error: ${err.message}` : err);
    process.exitCode = 1;
  });
}
