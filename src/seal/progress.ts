/**
 * Progress of a long loop (DESIGN.md: "a progress bar on a TTY, JSONL progress records otherwise").
 *
 * On a TTY: one line rewritten in place, e.g. `inner loops 12/40 30% · 0.52/s · ETA 54s · passage-3/edit-1`.
 * Otherwise: JSONL records on the stream (stderr by default), one when the loop starts, then at most one every
 * `intervalSeconds`, and one `"event":"finish"` record at the end — each line a complete JSON object:
 * `{"type":"progress","event":"update","name":"inner loops","done":12,"total":40,"rate":0.52,"etaSeconds":54,...}`.
 *
 * On resume, pass the items already done as `done`: they count towards done/total, while the rate and ETA are
 * computed from new work only.
 */

/** Where progress goes: a subset of a stream (process.stderr, or a collector in tests). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Items in the whole loop (finished ones included). */
  total: number;
  /** What is being counted, e.g. "inner loops" (default "items"). */
  name?: string;
  /** Items already finished before this process started (resume). Default 0. */
  done?: number;
  /** A short label for the current item, e.g. "passage-3/edit-1". */
  label?: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Force the TTY line (true) or JSONL records (false); default: the stream's isTTY. */
  tty?: boolean;
  /** JSONL mode: least seconds between update records (default 10). */
  intervalSeconds?: number;
  /** TTY mode: least seconds between redraws (default 0.1). */
  redrawSeconds?: number;
  /** Clock in milliseconds (default Date.now); tests pass a fake one. */
  now?: () => number;
}

/** One JSONL progress record. */
export interface ProgressRecord {
  type: "progress";
  event: "start" | "update" | "finish";
  name: string;
  done: number;
  total: number;
  /** Items finished by this process (excludes those already done on resume). */
  newDone: number;
  elapsedSeconds: number;
  /** New items per second (null before the first one). */
  rate: number | null;
  /** Seconds to finish at the current rate (null while unknown). */
  etaSeconds: number | null;
  label?: string;
  time: string;
}

/** `75` → `1m15s`; `3700` → `1h01m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h${String(minutes % 60).padStart(2, "0")}m`;
}

function formatRate(rate: number): string {
  if (rate >= 100) return rate.toFixed(0);
  if (rate >= 1) return rate.toFixed(2);
  return rate.toPrecision(2);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export class ProgressReporter {
  readonly total: number;
  readonly name: string;
  readonly #startDone: number;
  readonly #stream: ProgressStream;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  readonly #redrawMs: number;
  readonly #now: () => number;
  readonly #startTime: number;
  #done: number;
  #label: string | undefined;
  #lastOutput: number;
  #finished = false;

  constructor(options: ProgressOptions) {
    if (!Number.isInteger(options.total) || options.total < 0) {
      throw new Error(`progress: total must be a non-negative integer, got ${options.total}`);
    }
    this.total = options.total;
    this.name = options.name ?? "items";
    this.#startDone = options.done ?? 0;
    this.#done = this.#startDone;
    this.#label = options.label;
    this.#stream = options.stream ?? process.stderr;
    this.#tty = options.tty ?? this.#stream.isTTY === true;
    this.#intervalMs = (options.intervalSeconds ?? 10) * 1000;
    this.#redrawMs = (options.redrawSeconds ?? 0.1) * 1000;
    this.#now = options.now ?? Date.now;
    this.#startTime = this.#now();
    this.#lastOutput = this.#startTime;
    if (this.#tty) this.#draw();
    else this.#emit("start");
  }

  get done(): number {
    return this.#done;
  }

  /** Counts `count` more finished items (default 1) and optionally changes the label. */
  tick(count = 1, label?: string): void {
    this.update(this.#done + count, label);
  }

  /** Sets the number of finished items (all of them, including those done before a resume). */
  update(done: number, label?: string): void {
    this.#done = done;
    if (label !== undefined) this.#label = label;
    this.#maybeOutput();
  }

  /** Changes the label shown for the current item. */
  setLabel(label: string): void {
    this.#label = label;
    this.#maybeOutput();
  }

  /** Current figures as a record (also what JSONL mode writes). */
  snapshot(event: ProgressRecord["event"] = "update"): ProgressRecord {
    const elapsedSeconds = (this.#now() - this.#startTime) / 1000;
    const newDone = this.#done - this.#startDone;
    const rate = newDone > 0 && elapsedSeconds > 0 ? newDone / elapsedSeconds : null;
    const remaining = Math.max(0, this.total - this.#done);
    const etaSeconds = remaining === 0 ? 0 : rate === null ? null : remaining / rate;
    const record: ProgressRecord = {
      type: "progress",
      event,
      name: this.name,
      done: this.#done,
      total: this.total,
      newDone,
      elapsedSeconds: round(elapsedSeconds, 3),
      rate: rate === null ? null : round(rate, 4),
      etaSeconds: etaSeconds === null ? null : round(etaSeconds, 1),
      time: new Date().toISOString(),
    };
    if (this.#label !== undefined) record.label = this.#label;
    return record;
  }

  /** The one-line text the TTY mode shows. */
  line(): string {
    const snapshot = this.snapshot();
    const percent = this.total > 0 ? `${Math.floor((100 * snapshot.done) / this.total)}%` : "";
    const parts = [`${this.name} ${snapshot.done}/${this.total}${percent ? ` ${percent}` : ""}`];
    if (snapshot.rate !== null) parts.push(`${formatRate(snapshot.rate)}/s`);
    if (this.#finished) parts.push(`in ${formatDuration(snapshot.elapsedSeconds)}`);
    else if (snapshot.etaSeconds !== null) parts.push(`ETA ${formatDuration(snapshot.etaSeconds)}`);
    if (snapshot.label && !this.#finished) parts.push(snapshot.label);
    return parts.join(" · ");
  }

  /** Writes the final line (TTY) or a "finish" record (JSONL). Further calls do nothing. */
  finish(label?: string): void {
    if (this.#finished) return;
    if (label !== undefined) this.#label = label;
    this.#finished = true;
    if (this.#tty) {
      this.#draw();
      this.#stream.write("\n");
    } else {
      this.#emit("finish");
    }
  }

  #maybeOutput(): void {
    if (this.#finished) return;
    const now = this.#now();
    if (now - this.#lastOutput < (this.#tty ? this.#redrawMs : this.#intervalMs)) return;
    this.#lastOutput = now;
    if (this.#tty) this.#draw();
    else this.#emit("update");
  }

  #draw(): void {
    let text = this.line();
    const columns = this.#stream.columns;
    if (columns && columns > 1 && text.length > columns - 1) text = `${text.slice(0, columns - 2)}…`;
    this.#stream.write(`\r\x1b[2K${text}`);
  }

  #emit(event: ProgressRecord["event"]): void {
    this.#stream.write(`${JSON.stringify(this.snapshot(event))}\n`);
  }
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  return new ProgressReporter(options);
}
