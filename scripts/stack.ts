/** `npm run stack -- start|stop|status|reset`: the local Kafka + Cassandra on loopback. */
import { Command } from "commander";
import { StackError, resetStack, stackStatus, startStack, stopStack } from "./local/stack-control.ts";

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
  .action(async (options: { auth?: boolean; tls?: boolean }) => {
    await startStack({ auth: options.auth === true, tls: options.tls === true });
    await printStatus();
  });
program.command("stop").description("stop the servers this project started").action(() => stopStack());
program
  .command("status")
  .description("show each server; exit 1 unless both answer")
  .action(async () => {
    if (!(await printStatus())) process.exitCode = 1;
  });
program.command("reset").description("delete the servers' data (stack must be stopped)").action(() => resetStack());

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof StackError ? `error: ${err.message}` : err);
  process.exitCode = 1;
});
