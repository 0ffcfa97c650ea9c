/**
 * The experiment's progress: stage, phase, elapsed time and current checks/s. On a TTY one line is rewritten
 * in place; otherwise (CI, a log file) plain lines are written when the phase changes and at most every
 * `plainIntervalMs` in between, so a log stays readable.
 */
export interface ProgressState {
  readonly stage: string;
  /** 1-based position of the stage and the number of stages. */
  readonly position: readonly [number, number];
  readonly phase: string;
  readonly checksPerSecond?: number | null | undefined;
  readonly detail?: string | undefined;
}

export interface ProgressStream {
  readonly isTTY?: boolean | undefined;
  write(text: string): unknown;
}

export const formatElapsed = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
};

export function formatProgress(state: ProgressState, elapsedMs: number, phaseElapsedMs: number): string {
  const [i, n] = state.position;
  const rate = state.checksPerSecond === undefined || state.checksPerSecond === null ? "–" : state.checksPerSecond.toFixed(0);
  const parts = [
    `[${formatElapsed(elapsedMs)}]`,
    `${state.stage} (${i}/${n})`,
    `${state.phase} ${formatElapsed(phaseElapsedMs)}`,
    `${rate} checks/s`,
  ];
  if (state.detail !== undefined && state.detail !== "") parts.push(state.detail);
  return parts.join("  ");
}

export class Progress {
  readonly #out: ProgressStream;
  readonly #now: () => number;
  readonly #plainIntervalMs: number;
  readonly #started: number;
  #phaseStarted: number;
  #state: ProgressState | undefined;
  #lastPlain = -Infinity;
  #lineOpen = false;

  constructor(out: ProgressStream = process.stderr, options: { now?: () => number; plainIntervalMs?: number } = {}) {
    this.#out = out;
    this.#now = options.now ?? Date.now;
    this.#plainIntervalMs = options.plainIntervalMs ?? 10_000;
    this.#started = this.#now();
    this.#phaseStarted = this.#started;
  }

  update(state: ProgressState): void {
    const now = this.#now();
    const phaseChanged = this.#state === undefined || this.#state.phase !== state.phase || this.#state.stage !== state.stage;
    if (phaseChanged) this.#phaseStarted = now;
    this.#state = state;
    const line = formatProgress(state, now - this.#started, now - this.#phaseStarted);
    if (this.#out.isTTY === true) {
      this.#out.write(`\r\x1b[2K${line}`);
      this.#lineOpen = true;
    } else if (phaseChanged || now - this.#lastPlain >= this.#plainIntervalMs) {
      this.#out.write(`${line}\n`);
      this.#lastPlain = now;
    }
  }

  /** The current stage's position (1-based) and the number of stages. */
  get position(): readonly [number, number] {
    return this.#state?.position ?? [0, 0];
  }

  /** Moves the current stage to a new phase. */
  phase(phase: string, detail?: string): void {
    if (this.#state === undefined) return;
    this.update({ stage: this.#state.stage, position: this.#state.position, phase, detail });
  }

  /** Changes only the checks/s (or detail) of the current state. */
  tick(checksPerSecond: number | null, detail?: string): void {
    if (this.#state === undefined) return;
    this.update({ ...this.#state, checksPerSecond, ...(detail === undefined ? {} : { detail }) });
  }

  /** A message on its own line, above the progress line. */
  log(message: string): void {
    if (this.#lineOpen) this.#out.write("\r\x1b[2K");
    this.#out.write(`${message}\n`);
    this.#lineOpen = false;
    if (this.#out.isTTY === true && this.#state !== undefined) this.update(this.#state);
  }

  done(): void {
    if (this.#lineOpen) this.#out.write("\n");
    this.#lineOpen = false;
  }
}
