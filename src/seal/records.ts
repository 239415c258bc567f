/**
 * An append-only JSONL log of finished work, one line per record: `{"key":"passage-12/edit-3/repeat-0","time":...,
 * "record":{...}}`. Each append is one write of the whole line followed by fdatasync, so a crash (kill -9, power
 * loss) leaves at most one torn line at the end. Opening a log cuts such a torn tail away (and reports how many
 * bytes it cut); any bad line before the end is corruption and is rejected naming `file:line`. A resumed run asks
 * `has(key)` and skips work already recorded. Records are only ever replaced as a whole log, atomically
 * (`replaceRecords`: a temporary file renamed over the log).
 *
 * The log does not lock: one writer at a time is the run directory's job (run-dir.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { writeAtomically } from "../io/atomic-file.js";
import { crashPoint } from "../io/crash-point.js";

export interface RecordLogOptions<T> {
  /**
   * Checks/converts each stored record when the log is read (e.g. a zod schema's `parse`); a thrown error is
   * reported with the file and line.
   */
  validate?: (record: unknown) => T;
  /** fdatasync after every append (default true). Turn off only for throwaway logs. */
  sync?: boolean;
}

export interface StoredRecord<T> {
  key: string;
  /** When the record was appended (ISO 8601). */
  time: string;
  record: T;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** Makes a new directory entry durable (best effort: some file systems refuse to fsync a directory). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // not supported here; the entry still reaches disk with the next metadata flush
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Length of the part of `bytes` that ends with the last complete line (trailing NUL padding counts as torn). */
function completeLength(bytes: Buffer): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  if (end > 0 && bytes[end - 1] === 0x0a) return end;
  const lastNewline = bytes.lastIndexOf(0x0a, end - 1);
  return lastNewline < 0 ? 0 : lastNewline + 1;
}

export class RecordLog<T = unknown> implements Iterable<StoredRecord<T>> {
  readonly path: string;
  /** Bytes of a torn last line that opening the log cut away (0 when the log ended cleanly). */
  readonly truncatedBytes: number;
  readonly #entries = new Map<string, StoredRecord<T>>();
  readonly #sync: boolean;
  #fd: number | undefined;
  #size: number;

  private constructor(file: string, options: RecordLogOptions<T>) {
    this.path = file;
    this.#sync = options.sync ?? true;
    const existed = fs.existsSync(file);
    try {
      this.#fd = fs.openSync(file, "a+");
    } catch (error) {
      throw new Error(`${file}: cannot open record log (${errorCode(error)})`);
    }
    try {
      const bytes = fs.readFileSync(this.#fd);
      const length = completeLength(bytes);
      this.truncatedBytes = bytes.length - length;
      this.#parse(bytes.subarray(0, length), options.validate);
      if (this.truncatedBytes > 0) {
        fs.ftruncateSync(this.#fd, length);
        fs.fsyncSync(this.#fd);
      }
      this.#size = length;
      if (!existed) syncDirectory(path.dirname(file));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Opens (creating if needed) the log at `file`, reading every finished record and cutting away a torn tail. */
  static open<T = unknown>(file: string, options: RecordLogOptions<T> = {}): RecordLog<T> {
    return new RecordLog<T>(file, options);
  }

  #parse(bytes: Buffer, validate: ((record: unknown) => T) | undefined): void {
    const text = bytes.toString("utf8");
    const lines = text.split("\n");
    lines.pop(); // text ends with "\n" (or is empty): the last piece is empty
    lines.forEach((line, index) => {
      const where = `${this.path}:${index + 1}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        throw new Error(`${where}: corrupt record log line, not valid JSON (${(error as Error).message})`);
      }
      const entry = parsed as Partial<StoredRecord<unknown>> | null;
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        throw new Error(`${where}: corrupt record log line, expected an object with "key" and "record"`);
      }
      if (typeof entry.key !== "string" || entry.key === "") {
        throw new Error(`${where}: corrupt record log line, field "key": expected a non-empty string`);
      }
      if (!("record" in entry)) throw new Error(`${where}: corrupt record log line, field "record" is missing`);
      if (this.#entries.has(entry.key)) {
        throw new Error(`${where}: key "${entry.key}" is recorded twice`);
      }
      let record: T;
      try {
        record = validate ? validate(entry.record) : (entry.record as T);
      } catch (error) {
        throw new Error(`${where}: record "${entry.key}" is invalid: ${(error as Error).message}`);
      }
      this.#entries.set(entry.key, { key: entry.key, time: String(entry.time ?? ""), record });
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get(key: string): T | undefined {
    return this.#entries.get(key)?.record;
  }

  /** Keys in the order they were appended. */
  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** Records in the order they were appended. */
  values(): T[] {
    return [...this.#entries.values()].map((entry) => entry.record);
  }

  [Symbol.iterator](): IterableIterator<StoredRecord<T>> {
    return this.#entries.values();
  }

  /**
   * Appends one record under `key` and makes it durable before returning. A key can be recorded once; `record`
   * must be JSON-able. If the write fails part-way (disk full), the partial line is cut off again.
   */
  appendRecord(key: string, record: T): void {
    if (this.#fd === undefined) throw new Error(`${this.path}: record log is closed`);
    if (typeof key !== "string" || key === "") throw new Error(`${this.path}: record key must be a non-empty string`);
    if (this.#entries.has(key)) throw new Error(`${this.path}: key "${key}" is already recorded`);
    const stored: StoredRecord<T> = { key, time: new Date().toISOString(), record };
    const line = JSON.stringify(stored);
    if (line === undefined || !("record" in JSON.parse(line))) {
      throw new Error(`${this.path}: record "${key}" is not JSON-able`);
    }
    const bytes = Buffer.from(`${line}\n`, "utf8");
    try {
      let written = 0;
      while (written < bytes.length) {
        written += fs.writeSync(this.#fd, bytes, written, bytes.length - written);
      }
      if (this.#sync) fs.fdatasyncSync(this.#fd);
    } catch (error) {
      try {
        fs.ftruncateSync(this.#fd, this.#size);
      } catch {
        // the torn tail will be cut when the log is next opened
      }
      throw new Error(`${this.path}: cannot append record "${key}" (${errorCode(error)})`);
    }
    this.#size += bytes.length;
    this.#entries.set(key, JSON.parse(line) as StoredRecord<T>);
    crashPoint("record", key);
  }

  /**
   * Replaces the records of existing keys (e.g. re-graded verdicts), keeping every key's place and time. The whole
   * log is written under a temporary name, made durable and renamed over the log, so a crash leaves either the old
   * log or the new one, never a mix.
   */
  replaceRecords(updates: ReadonlyMap<string, T>): void {
    if (this.#fd === undefined) throw new Error(`${this.path}: record log is closed`);
    if (updates.size === 0) return;
    for (const key of updates.keys()) {
      if (!this.#entries.has(key)) throw new Error(`${this.path}: cannot replace record "${key}": it is not recorded`);
    }
    const entries = [...this.#entries.values()].map((entry) =>
      updates.has(entry.key) ? { ...entry, record: updates.get(entry.key) as T } : entry,
    );
    const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join("");
    const bytes = Buffer.from(text, "utf8");
    try {
      writeAtomically(this.path, (tempPath) => {
        const fd = fs.openSync(tempPath, "w");
        try {
          let written = 0;
          while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
          if (this.#sync) fs.fdatasyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      });
    } catch (error) {
      throw new Error(`${this.path}: cannot rewrite the record log (${errorCode(error)})`);
    }
    if (this.#sync) syncDirectory(path.dirname(this.path));
    // The old descriptor points at the replaced file: append to the new one from now on.
    fs.closeSync(this.#fd);
    this.#fd = fs.openSync(this.path, "a+");
    this.#size = bytes.length;
    for (const entry of entries) this.#entries.set(entry.key, JSON.parse(JSON.stringify(entry)) as StoredRecord<T>);
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Opens (or creates) a record log; see RecordLog. */
export function openRecordLog<T = unknown>(file: string, options: RecordLogOptions<T> = {}): RecordLog<T> {
  return RecordLog.open<T>(file, options);
}
