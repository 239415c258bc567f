/**
 * A run directory: what one SEAL command did, kept so the run can be resumed after a crash or Ctrl-C and audited
 * afterwards.
 *
 *   run.json       command, resolved config, model/data fingerprints, start time, seal/node versions, host CPU;
 *                  each resume appends to `resumes` (written atomically: temp file + rename)
 *   run.lock       {pid, hostname, ...} of the one process writing the run; a lock whose process is dead
 *                  (same host) is taken over
 *   *.jsonl        record logs (records.ts), one line per finished inner loop
 *   summary.md / summary.json   the report, written atomically at the end (or after each round)
 *
 * `createRun` refuses a non-empty folder; `resumeRun` requires the same command, config and fingerprints, except for
 * the fields the caller explicitly allows to differ (e.g. `config.judge`), and says which fields differ otherwise.
 * After kill -9 both clean up: temp files of dead writers are removed, and a folder holding only what a process
 * killed before writing run.json left (its lock, run.json's temp file) counts as empty.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { tempFileWriter, writeFileAtomic } from "../io/atomic-file.js";
import { readJsonFile, writeJsonFile } from "../io/json-file.js";
import { checkOutputFolder } from "../io/output-path.js";
import { stableStringify } from "./fingerprint.js";
import { openRecordLog, type RecordLog, type RecordLogOptions } from "./records.js";

export const RUN_FILE = "run.json";
export const LOCK_FILE = "run.lock";
export const SUMMARY_MARKDOWN_FILE = "summary.md";
export const SUMMARY_JSON_FILE = "summary.json";
export const RUN_FORMAT = "seal-run/1";

/** A fingerprint: a sha256 hex string, or an object with `sha256` and details (file list, sizes, path). */
export type Fingerprint = string | { sha256: string; [detail: string]: unknown };

export interface RunSpec {
  /** The command that runs, e.g. "knowledge evaluate". */
  command: string;
  /** The full resolved configuration (JSON-able; stored with keys sorted). */
  config: unknown;
  /** Fingerprints of the inputs by role, e.g. { model: ..., data: ... }. */
  fingerprints: Record<string, Fingerprint>;
}

export interface HostSummary {
  hostname: string;
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
}

export interface FieldChange {
  /** Dotted path, e.g. "config.lora.rank" or "fingerprints.model". */
  field: string;
  was: unknown;
  now: unknown;
}

export interface ResumeEntry {
  at: string;
  pid: number;
  /** Fields allowed to differ that did differ on this resume (run.json keeps the original values). */
  changed: FieldChange[];
}

export interface RunInfo {
  format: typeof RUN_FORMAT;
  command: string;
  config: unknown;
  fingerprints: Record<string, Fingerprint>;
  startedAt: string;
  sealVersion: string;
  nodeVersion: string;
  host: HostSummary;
  resumes: ResumeEntry[];
}

export interface ResumeOptions {
  /**
   * Fields that may differ from the stored run, as dotted paths; a path also allows everything under it
   * (e.g. "config.judge" allows "config.judge.model").
   */
  allowDifferent?: string[];
}

const fingerprintSchema = z.union([z.string(), z.looseObject({ sha256: z.string() })]);
const runInfoSchema = z.object({
  format: z.literal(RUN_FORMAT),
  command: z.string(),
  config: z.unknown(),
  fingerprints: z.record(z.string(), fingerprintSchema),
  startedAt: z.string(),
  sealVersion: z.string(),
  nodeVersion: z.string(),
  host: z.looseObject({
    hostname: z.string(),
    platform: z.string(),
    release: z.string(),
    arch: z.string(),
    cpuModel: z.string(),
    cpuCount: z.number(),
    totalMemoryBytes: z.number(),
  }),
  resumes: z
    .array(
      z.object({
        at: z.string(),
        pid: z.number(),
        changed: z.array(z.object({ field: z.string(), was: z.unknown(), now: z.unknown() })),
      }),
    )
    .default([]),
});

const lockSchema = z.looseObject({ pid: z.number().int(), hostname: z.string() });

let cachedVersion: string | undefined;

/** The version in the project's package.json (found by walking up from this module). */
export function sealVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "package.json");
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "seal" && typeof pkg.version === "string") {
        cachedVersion = pkg.version;
        return cachedVersion;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      cachedVersion = "unknown";
      return cachedVersion;
    }
    dir = parent;
  }
}

export function hostSummary(): HostSummary {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    totalMemoryBytes: os.totalmem(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Lock

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Held while a process writes a run directory; `release()` removes the lock file (also done at process exit). */
export class RunLock {
  readonly path: string;
  #content: string;
  #held = true;
  readonly #onExit = () => this.release();

  private constructor(lockPath: string, content: string) {
    this.path = lockPath;
    this.#content = content;
    process.on("exit", this.#onExit);
  }

  /**
   * Creates `dir/run.lock` exclusively. An existing lock of a live process, or of another host, is an error that
   * names the holder; a lock left by a dead process on this host is taken over.
   */
  static acquire(dir: string, details: Record<string, unknown> = {}): RunLock {
    const lockPath = path.join(dir, LOCK_FILE);
    const content = `${JSON.stringify({ pid: process.pid, hostname: os.hostname(), since: new Date().toISOString(), ...details })}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.writeFileSync(lockPath, content, { flag: "wx" });
        return new RunLock(lockPath, content);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new Error(`${lockPath}: cannot create lock (${(error as NodeJS.ErrnoException).code})`);
        }
      }
      RunLock.#takeOverIfStale(lockPath);
    }
    throw new Error(`${lockPath}: could not acquire the lock (another process keeps taking it)`);
  }

  /** Removes `lockPath` if its holder is dead; throws if it is alive or cannot be checked. */
  static #takeOverIfStale(lockPath: string): void {
    let text: string;
    try {
      text = fs.readFileSync(lockPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // released meanwhile: try again
      throw error;
    }
    let holder: z.infer<typeof lockSchema> | undefined;
    try {
      const parsed = lockSchema.safeParse(JSON.parse(text));
      if (parsed.success) holder = parsed.data;
    } catch {
      // unreadable lock: handled below
    }
    if (holder === undefined) {
      // A lock file is written in one small write; an empty or partial one is a holder that died while creating it,
      // unless it is brand new (the creator may be between open and write).
      const ageMs = Date.now() - fs.statSync(lockPath).mtimeMs;
      if (ageMs < 2000) throw new Error(`${lockPath}: the run is being locked by another process`);
    } else if (holder.hostname !== os.hostname()) {
      throw new Error(
        `${lockPath}: the run is locked by pid ${holder.pid} on host ${holder.hostname}; if that process is gone, ` +
          `delete ${lockPath} and retry`,
      );
    } else if (holder.pid === process.pid) {
      throw new Error(`${lockPath}: this process already holds the run's lock`);
    } else if (processAlive(holder.pid)) {
      throw new Error(
        `${lockPath}: the run is in use by pid ${holder.pid} (another seal process is writing it); ` +
          `if that pid is not a seal process, delete ${lockPath} and retry`,
      );
    }
    // Stale: move it aside under a unique name, then check that what was moved is the stale lock we read (another
    // process may have taken it over between our read and the rename; then put theirs back and give up).
    const aside = `${lockPath}.stale-${process.pid}-${Date.now()}`;
    try {
      fs.renameSync(lockPath, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const moved = fs.readFileSync(aside, "utf8");
    if (moved !== text) {
      try {
        fs.linkSync(aside, lockPath);
      } catch {
        // someone else holds it now; the error below says so
      }
      fs.rmSync(aside, { force: true });
      throw new Error(`${lockPath}: the run was locked by another process while taking over a stale lock`);
    }
    fs.rmSync(aside, { force: true });
  }

  get held(): boolean {
    return this.#held;
  }

  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    process.removeListener("exit", this.#onExit);
    try {
      if (fs.readFileSync(this.path, "utf8") === this.#content) fs.rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing a stored run with the caller's spec

function fingerprintHash(fingerprint: Fingerprint | undefined): string | undefined {
  if (fingerprint === undefined) return undefined;
  return typeof fingerprint === "string" ? fingerprint : fingerprint.sha256;
}

/** The value as it is stored in JSON (keys sorted, undefined properties dropped). */
function normalizeJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(stableStringify(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function diffValues(was: unknown, now: unknown, field: string, out: FieldChange[]): void {
  if (isPlainObject(was) && isPlainObject(now)) {
    const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])].sort();
    for (const key of keys) diffValues(was[key], now[key], `${field}.${key}`, out);
    return;
  }
  if (Array.isArray(was) && Array.isArray(now) && was.length === now.length) {
    was.forEach((item, index) => {
      diffValues(item, now[index], `${field}[${index}]`, out);
    });
    return;
  }
  if (stableStringify(was ?? null) !== stableStringify(now ?? null) || (was === undefined) !== (now === undefined)) {
    out.push({ field, was, now });
  }
}

/** Every field where the stored run and `spec` differ (command, config.*, fingerprints.*). */
export function compareRun(info: RunInfo, spec: RunSpec): FieldChange[] {
  const changes: FieldChange[] = [];
  if (info.command !== spec.command) changes.push({ field: "command", was: info.command, now: spec.command });
  diffValues(info.config, normalizeJson(spec.config), "config", changes);
  const roles = [...new Set([...Object.keys(info.fingerprints), ...Object.keys(spec.fingerprints)])].sort();
  for (const role of roles) {
    const was = fingerprintHash(info.fingerprints[role]);
    const now = fingerprintHash(spec.fingerprints[role]);
    if (was !== now) changes.push({ field: `fingerprints.${role}`, was, now });
  }
  return changes;
}

function isAllowed(field: string, allowed: string[]): boolean {
  return allowed.some((prefix) => field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`));
}

function describeValue(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

/** An open run directory, locked by this process until `release()` (or process exit). */
export class Run {
  readonly dir: string;
  readonly info: RunInfo;
  readonly lock: RunLock;
  /** True when this handle continues an earlier run. */
  readonly resumed: boolean;

  constructor(dir: string, info: RunInfo, lock: RunLock, resumed: boolean) {
    this.dir = dir;
    this.info = info;
    this.lock = lock;
    this.resumed = resumed;
  }

  /** `dir/<name>.jsonl` */
  recordsPath(name = "records"): string {
    return path.join(this.dir, `${name}.jsonl`);
  }

  /** Opens (or creates) the record log `dir/<name>.jsonl`. */
  openRecords<T = unknown>(name = "records", options: RecordLogOptions<T> = {}): RecordLog<T> {
    return openRecordLog<T>(this.recordsPath(name), options);
  }

  writeSummary(summary: { markdown: string; json: unknown }): void {
    writeSummary(this.dir, summary);
  }

  release(): void {
    this.lock.release();
  }
}

/** Reads and validates `dir/run.json` (no lock taken). */
export function readRunInfo(dir: string): RunInfo {
  const file = path.join(dir, RUN_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(`${dir}: not a run folder (no ${RUN_FILE}; the run was never started here)`);
  }
  return readJsonFile(file, runInfoSchema) as RunInfo;
}

/** Whether `name` in a run folder is a temp file of a writer that is gone (a crash between write and rename). */
function isStaleTempFile(name: string): boolean {
  const writer = tempFileWriter(name);
  return writer !== null && writer !== process.pid && !processAlive(writer);
}

/**
 * Removes the temp files that killed writers left anywhere under `dir` (run.json, summaries, adapters, ...): the
 * caller holds the run's lock, so no live process of this run writes them. Symbolic links are not followed.
 */
function removeStaleTempFiles(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) removeStaleTempFiles(full);
    else if (entry.isFile() && isStaleTempFile(entry.name)) fs.rmSync(full, { force: true });
  }
}

/**
 * What a process killed while creating a run leaves before run.json exists: its lock and run.json's temp file.
 * A live holder's lock also counts here; taking the lock then fails naming it.
 */
function isCreationLeftover(name: string): boolean {
  return name === LOCK_FILE || isStaleTempFile(name);
}

/**
 * Starts a new run in `dir` (created if missing): takes the lock and writes run.json. Refuses a folder that already
 * holds anything — resume it with `resumeRun`, or choose another folder — except what a run killed before writing
 * its run.json leaves (a stale lock, a temp file), which is cleared.
 */
export function createRun(dir: string, spec: RunSpec): Run {
  checkOutputFolder(dir, "run folder");
  fs.mkdirSync(dir, { recursive: true });
  const existing = fs.readdirSync(dir).filter((name) => !isCreationLeftover(name));
  if (existing.length > 0) {
    const hint = existing.includes(RUN_FILE)
      ? `it holds a run (${RUN_FILE}); resume it (--resume) or choose a new folder`
      : `it holds ${existing.length} file(s) (${existing.slice(0, 3).join(", ")}${existing.length > 3 ? ", ..." : ""}); choose an empty or new folder`;
    throw new Error(`${dir}: run folder is not empty: ${hint}`);
  }
  const lock = RunLock.acquire(dir, { command: spec.command });
  try {
    removeStaleTempFiles(dir);
    const info: RunInfo = {
      format: RUN_FORMAT,
      command: spec.command,
      config: normalizeJson(spec.config),
      fingerprints: normalizeJson(spec.fingerprints) as Record<string, Fingerprint>,
      startedAt: new Date().toISOString(),
      sealVersion: sealVersion(),
      nodeVersion: process.version,
      host: hostSummary(),
      resumes: [],
    };
    writeJsonFile(path.join(dir, RUN_FILE), info);
    return new Run(dir, info, lock, false);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/**
 * Continues the run in `dir`: takes the lock, reads run.json and checks that command, config and fingerprints
 * match `spec`. Differences outside `allowDifferent` are an error listing every differing field with both values;
 * allowed ones are noted in run.json's `resumes` (the stored config keeps the original values). Temp files that
 * killed writers left in the folder are removed. A run killed before it wrote run.json (only its lock or temp file
 * is there) has done nothing yet: it is started afresh.
 */
export function resumeRun(dir: string, spec: RunSpec, options: ResumeOptions = {}): Run {
  if (!fs.existsSync(path.join(dir, RUN_FILE))) {
    const names = fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? fs.readdirSync(dir) : [];
    if (names.length > 0 && names.every(isCreationLeftover)) return createRun(dir, spec);
  }
  readRunInfo(dir); // a clear error for a folder that is not a run, before creating a lock in it
  const lock = RunLock.acquire(dir, { command: spec.command, resume: true });
  try {
    removeStaleTempFiles(dir);
    const info = readRunInfo(dir);
    const changes = compareRun(info, spec);
    const allowed = options.allowDifferent ?? [];
    const refused = changes.filter((change) => !isAllowed(change.field, allowed));
    if (refused.length > 0) {
      const list = refused
        .map((change) => `  ${change.field}: run has ${describeValue(change.was)}, now ${describeValue(change.now)}`)
        .join("\n");
      throw new Error(
        `${path.join(dir, RUN_FILE)}: cannot resume, ${refused.length} field(s) differ from the stored run:\n${list}`,
      );
    }
    info.resumes.push({ at: new Date().toISOString(), pid: process.pid, changed: changes });
    writeJsonFile(path.join(dir, RUN_FILE), info);
    return new Run(dir, info, lock, true);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** `resumeRun` when `resume` is set, `createRun` otherwise (what a command's `--resume` flag chooses). */
export function openRun(dir: string, spec: RunSpec, options: ResumeOptions & { resume?: boolean } = {}): Run {
  return options.resume ? resumeRun(dir, spec, options) : createRun(dir, spec);
}

/** Writes `summary.md` and `summary.json` in `dir`, each atomically (temp file + rename). */
export function writeSummary(dir: string, summary: { markdown: string; json: unknown }): void {
  writeJsonFile(path.join(dir, SUMMARY_JSON_FILE), summary.json);
  const markdown = summary.markdown.endsWith("\n") ? summary.markdown : `${summary.markdown}\n`;
  writeFileAtomic(path.join(dir, SUMMARY_MARKDOWN_FILE), markdown);
}
