/**
 * How the local stack talks to whoever runs it: progress lines on stderr, prefixed "stack:", and StackError,
 * a failure the command line prints as its message alone (no trace), because it says what to do.
 */

export class StackError extends Error {
  override name = "StackError";
}

export const stackLog = (msg: string) => process.stderr.write(`stack: ${msg}\n`);
