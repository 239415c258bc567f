/**
 * Checks that an output path can be written, before the work that fills it: a command that samples for minutes or
 * trains for hours must not find out at the end that `--out` is a file, sits under a file, or lies in a folder it
 * may not write. Writability is tested by creating (and removing) a probe file in the nearest existing folder,
 * because permission bits do not tell the whole story (root ignores them; /proc and /sys refuse new files whatever
 * they say). Nothing is created for the output itself.
 */
import fs from "node:fs";
import path from "node:path";

/** "EACCES: permission denied" from a Node error (its message without the syscall and path). */
function reason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  const text = typeof message === "string" ? message.split(",")[0] : "";
  return text !== "" ? text : (code ?? String(error));
}

/** The kind of what `target` names: missing, a folder, a file (anything else that is not a folder), or a broken link. */
function kindOf(target: string): "missing" | "folder" | "file" | "broken-link" {
  try {
    return fs.statSync(target).isDirectory() ? "folder" : "file";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
    try {
      fs.lstatSync(target);
      return "broken-link";
    } catch {
      return "missing";
    }
  }
}

/** Creates and removes a uniquely named empty file in `dir`; throws the system's error if that fails. */
function probeWrite(dir: string): void {
  const probe = path.join(dir, `.seal-write-check-${process.pid}-${Math.random().toString(36).slice(2)}`);
  fs.closeSync(fs.openSync(probe, "wx"));
  fs.rmSync(probe, { force: true });
}

/**
 * Why `dir` cannot be written into or created, or null when it can (see checkOutputFolder). `named`: the message
 * goes after `dir` itself, so a problem with `dir` need not repeat its path.
 */
function folderProblem(dir: string, named: boolean): string | null {
  const resolved = path.resolve(dir);
  let existing = resolved;
  for (;;) {
    let kind: ReturnType<typeof kindOf>;
    try {
      kind = kindOf(existing);
    } catch (error) {
      return `cannot look at ${existing} (${reason(error)})`;
    }
    if (kind === "folder") break;
    if (kind === "file")
      return existing !== resolved
        ? `cannot be created: ${existing} is a file, not a folder`
        : named
          ? "is a file, not a folder"
          : `${existing} is a file, not a folder`;
    if (kind === "broken-link") return `${existing} is a symbolic link to nothing`;
    const parent = path.dirname(existing);
    if (parent === existing) return "no part of the path exists";
    existing = parent;
  }
  try {
    probeWrite(existing);
  } catch (error) {
    return `cannot write into ${existing} (${reason(error)})`;
  }
  return null;
}

/**
 * Checks that `dir` is a folder this process can write into, or can be created: the nearest existing part of the
 * path must be a folder that accepts a new file. Errors read `<label> <dir>: <why>` (label e.g. "--out").
 */
export function checkOutputFolder(dir: string, label = "--out"): void {
  const problem = folderProblem(dir, true);
  if (problem !== null) throw new Error(`${label} ${dir}: ${problem}`);
}

/**
 * Checks that `file` can be written (atomically: a temp file beside it, then a rename): it must not be a folder, and
 * its folder must be writable or creatable. An existing file is fine (it is replaced).
 */
export function checkOutputFile(file: string, label = "--out"): void {
  const fail = (why: string) => new Error(`${label} ${file}: ${why}`);
  const resolved = path.resolve(file);
  let kind: ReturnType<typeof kindOf>;
  try {
    kind = kindOf(resolved);
  } catch (error) {
    throw fail(`cannot look at it (${reason(error)})`);
  }
  if (kind === "folder") throw fail("is a folder, expected a file name");
  const problem = folderProblem(path.dirname(resolved), false);
  if (problem !== null) throw fail(problem);
}
