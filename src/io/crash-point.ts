/**
 * Crash points for the kill -9 / resume tests. With `SEAL_CRASH_AT=<point>[@<n>]` in the environment, the process
 * sends itself SIGKILL the n-th time (default: the first) it passes that point: no exit handler, no flush, exactly
 * what `kill -9` at that instant does, but at a chosen place instead of a timed guess. Unset (always, outside the
 * tests) a crash point costs one comparison.
 *
 * A point has a name and an optional detail; `<point>` matches either the name alone (any detail) or `name:detail`:
 *
 *   write:<file name>     a file is complete under its temp name, not yet renamed (atomic-file.ts)
 *   publish:<folder>      a folder is complete under its `.partial` name, not yet renamed into place
 *   published:<folder>    ... renamed into place, before the record that says so
 *   record:<key>          a record is durable in its log (between two units of work)
 *   train-step:<trainer>  an optimizer step finished (inner, ttt, sft): in the middle of a unit
 *   sample, predict       a batch of self-edits sampled / one ARC test input predicted: in the middle of a unit
 */
export const CRASH_ENV = "SEAL_CRASH_AT";

interface CrashSpec {
  point: string;
  count: number;
}

let spec: CrashSpec | null | undefined;
let passed = 0;

function parseSpec(value: string | undefined): CrashSpec | null {
  if (value === undefined || value === "") return null;
  const match = /^(.+?)(?:@(\d+))?$/.exec(value);
  const count = match?.[2] === undefined ? 1 : Number(match[2]);
  if (match === null || !(count >= 1)) throw new Error(`${CRASH_ENV}=${value}: expected <point>[@<n>] with n ≥ 1`);
  return { point: match[1], count };
}

/** Kills this process with SIGKILL when `SEAL_CRASH_AT` names this point and its count is reached. */
export function crashPoint(name: string, detail?: string): void {
  if (spec === undefined) spec = parseSpec(process.env[CRASH_ENV]);
  if (spec === null) return;
  if (spec.point !== name && (detail === undefined || spec.point !== `${name}:${detail}`)) return;
  passed++;
  if (passed === spec.count) process.kill(process.pid, "SIGKILL");
}
