/** One JSON line per log record on stderr: what Kubernetes collects, and greppable locally. */
const levels = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof levels;

type LogFn = (msg: string, fields?: Record<string, unknown>) => void;
export interface Logger {
  readonly error: LogFn;
  readonly warn: LogFn;
  readonly info: LogFn;
  readonly debug: LogFn;
}

export function createLogger(component: string, level: LogLevel): Logger {
  const at = (l: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (levels[l] > levels[level]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: l, component, msg, ...fields })}\n`);
  };
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

export const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
