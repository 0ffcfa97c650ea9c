/**
 * How the kit's command-line tools end on bad input: exit code 2 (usage), one line naming the flag, never a stack
 * trace. One place, so every CLI (the app's, synth:k8s, plan, sweep, local) agrees.
 */
import { type Command, CommanderError } from "commander";

export const usageErrorExitCode = 2;

/**
 * Parses and runs `command`. Commander prints its own message (naming the flag); an error of `usageError`'s class
 * is printed as `<name>: <message>`; both set the usage exit code. Anything else is a fault and is thrown.
 */
export async function runCommand(
  name: string,
  command: Command,
  argv: readonly string[],
  usageError: abstract new (...args: never[]) => Error,
): Promise<void> {
  try {
    await command.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : usageErrorExitCode;
      return;
    }
    if (error instanceof usageError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exitCode = usageErrorExitCode;
      return;
    }
    throw error;
  }
}
