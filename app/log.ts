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

/** The record a process logs once its HTTP server listens (`port`): how a parent learns a port given as 0. */
export const httpListeningMessage = "http listening";

/** One log line read back (by a parent process, a test); null for a line that is not one of ours. */
export function parseLogLine(line: string): { level: LogLevel; msg: string; [field: string]: unknown } | null {
  if (!line.startsWith("{")) return null;
  try {
    const r = JSON.parse(line) as { level?: unknown; msg?: unknown };
    return typeof r.msg === "string" && typeof r.level === "string" && r.level in levels ? (r as { level: LogLevel; msg: string }) : null;
  } catch {
    return null;
  }
}

export const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
