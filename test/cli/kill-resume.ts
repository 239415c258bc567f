/**
 * "Run, kill -9 at a point, resume, compare" for the CLI's resumable commands. The child process kills itself with
 * SIGKILL at a named crash point (src/io/crash-point.ts: `SEAL_CRASH_AT`), so the kill lands at the same place on
 * every machine: between two units, in the middle of one (an optimizer step, a sampling call), or while a file or
 * folder sits complete under its temp name. Each resume may be killed again at the next point; the last one runs
 * to the end. Then the whole run folder is compared with an uninterrupted run's (`runSnapshot`).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CRASH_ENV } from "../../src/io/crash-point.js";
import { REPO_ROOT } from "../io/fixtures.js";
import { CHILD_ENV, sealResult } from "./cli-fixtures.js";

export interface KillResumeOptions {
  /** The command's arguments for a fresh run writing to `out`. */
  args: (out: string) => string[];
  /** Arguments that continue a killed run (default: `args(out)` and `--resume`). */
  resumeArgs?: (out: string) => string[];
  /**
   * `SEAL_CRASH_AT` values (`<point>[@<n>]`): the first run is killed at the first, its resume at the second, and so
   * on; one more resume then runs to the end. Each point must be reached (the process must die by SIGKILL).
   */
  crashes: string[];
  /** Called after each kill with the crash point, e.g. to check what the killed process left. */
  afterKill?: (crash: string, out: string) => void;
}

/** Runs `args` with `SEAL_CRASH_AT=crash` and asserts that the process killed itself there. */
export function runKilledAt(args: string[], crash: string): void {
  const result = spawnSync(process.execPath, ["bin/seal.js", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...CHILD_ENV, [CRASH_ENV]: crash },
  });
  assert.equal(
    result.signal,
    "SIGKILL",
    `expected a kill at ${crash}, but the command exited with ${result.status}:\n${result.stderr.slice(-2000)}`,
  );
}

/** Kills the command at each crash point in turn, then resumes it to the end; returns the last resume's output. */
export function killAndResume(out: string, options: KillResumeOptions): { stdout: string; stderr: string } {
  const resumeArgs = options.resumeArgs ?? ((dir: string) => [...options.args(dir), "--resume"]);
  options.crashes.forEach((crash, i) => {
    runKilledAt(i === 0 ? options.args(out) : resumeArgs(out), crash);
    options.afterKill?.(crash, out);
  });
  const last = sealResult(resumeArgs(out));
  assert.equal(last.status, 0, `the resume after ${options.crashes.join(", ")} failed:\n${last.stderr}`);
  return { stdout: last.stdout, stderr: last.stderr };
}

/** Keys whose values differ between equal runs (clock times, durations, host, the resume log); also `…Seconds` and `…PerSecond` keys. */
export const VOLATILE_KEYS = ["time", "startedAt", "resumes", "host", "timing", "timings"];
const DURATION_KEY = /seconds$|per(second|hour)$/i;
/** A Markdown line that reports durations or rates (`0.5 s`, `1m15s`, `… per hour`): left out of comparisons. */
const TIMING_LINE = /\b\d+(\.\d+)? ?(s|ms)\b|\b\d+m\d+s\b|per hour|\/s\b/;

export interface SnapshotOptions {
  /** More JSON keys to leave out, at any depth. */
  volatileKeys?: string[];
  /** Relative paths (or patterns) whose content is not compared (only that the file exists). */
  unchecked?: RegExp[];
}

/** The value with `keys` left out at any depth and object keys sorted (JSON objects are unordered). */
function withoutKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutKeys(item, keys));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !keys.has(key) && !DURATION_KEY.test(key))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => [key, withoutKeys(item, keys)]),
  );
}

function filesUnder(dir: string, prefix = ""): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      return entry.isDirectory() ? [`${relative}/`, ...filesUnder(dir, relative)] : [relative];
    })
    .sort();
}

/**
 * Every file under `dir` by relative path: JSON and JSONL with volatile keys left out (and keys sorted), Markdown
 * without its timing lines, other text as is, binary
 * files (safetensors) as their sha256; in all text the folder's own path reads `<out>`. Two runs of the same
 * command with the same seed give equal snapshots; leftovers (a lock, a temp file, a `.partial` folder) show up as
 * extra entries.
 */
export function runSnapshot(dir: string, options: SnapshotOptions = {}): Record<string, string> {
  const keys = new Set([...VOLATILE_KEYS, ...(options.volatileKeys ?? [])]);
  const snapshot: Record<string, string> = {};
  for (const relative of filesUnder(dir)) {
    if (relative.endsWith("/") || options.unchecked?.some((pattern) => pattern.test(relative))) {
      snapshot[relative] = "";
      continue;
    }
    const bytes = fs.readFileSync(path.join(dir, relative));
    if (/\.(json|jsonl|md|svg|txt)$/.test(relative)) {
      const text = bytes.toString("utf8").replaceAll(path.resolve(dir), "<out>");
      if (relative.endsWith(".json")) snapshot[relative] = JSON.stringify(withoutKeys(JSON.parse(text), keys));
      else if (relative.endsWith(".jsonl"))
        snapshot[relative] = text
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.stringify(withoutKeys(JSON.parse(line), keys)))
          .join("\n");
      else if (relative.endsWith(".md"))
        snapshot[relative] = text
          .split("\n")
          .filter((line) => !TIMING_LINE.test(line))
          .join("\n");
      else snapshot[relative] = text;
    } else snapshot[relative] = `sha256 ${createHash("sha256").update(bytes).digest("hex")}`;
  }
  return snapshot;
}

/** Asserts that the two folders hold the same files with equal content (see runSnapshot), naming the first difference. */
export function assertSameRun(actual: string, expected: string, options: SnapshotOptions = {}): void {
  const a = runSnapshot(actual, options);
  const e = runSnapshot(expected, options);
  assert.deepEqual(Object.keys(a), Object.keys(e), `${actual} and ${expected} hold different files`);
  for (const file of Object.keys(e))
    if (a[file] !== e[file]) assert.fail(`${file} differs: ${firstDifference(a[file], e[file])}`);
}

/** Where two texts first differ: the line, and a little of both around the first differing character. */
function firstDifference(actual: string, expected: string): string {
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  const line = actual.slice(0, at).split("\n").length;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 120), at + 120));
  return `line ${line}, character ${at}:\n  got      ${around(actual)}\n  expected ${around(expected)}`;
}

/** Temp files, `.partial` folders and locks under `dir` (a finished run has none). */
export function leftovers(dir: string): string[] {
  return filesUnder(dir).filter((relative) => /\.tmp-\d+$|\.partial\/?$|run\.lock$/.test(relative));
}
