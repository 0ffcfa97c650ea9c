/**
 * What a local server (the Kafka broker, a Cassandra node) gives supervision.ts, which starts, watches and
 * stops it the same way whichever it is. Each server's own files, command line and readiness live behind it.
 */
export interface LocalServer {
  readonly name: "kafka" | "cassandra";
  readonly label: string;
  /** Its client port. */
  readonly port: number;
  /** The address its client port listens on. */
  readonly host: string;
  /** Its state dir: config, data, logs and PID file. */
  readonly dir: string;
  /** With `dir`, what a process's command line must name to be this server (PIDs get reused). */
  readonly mainClass: string;
  /**
   * For a server found already running: throws when it runs without what this start asks for, else says how
   * it is secured for the log line ("" when it is not, else " with …").
   */
  alreadyRunning(pid: number): string;
  /** Makes what it needs before it can start (classpath, config files, storage) and returns java's arguments. */
  javaCommand(): string[];
  /** Whether it answers a client now. */
  answers(): Promise<boolean>;
  /** What must run the moment its client port opens, before it can answer (none: nothing). */
  readonly whenPortOpens?: () => Promise<void>;
}
