/**
 * Integration tests run against the real local stack. Start it if it is not running, and stop on the way
 * out only what this run started, so a developer's running stack is left as it was. A stack another
 * checkout of the project started (same ports) is used as it is.
 */
import { ensureStack, stopStack } from "../scripts/local/stack-control.ts";

export default async function setup(): Promise<() => Promise<void>> {
  const started = await ensureStack();
  return async () => {
    if (started.length > 0) await stopStack(started);
  };
}
