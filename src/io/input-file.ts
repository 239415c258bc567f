/**
 * What an input path is when it is not a readable file, in words: a raw `EISDIR` or a silent "no such file" for a
 * symbolic-link loop sends the user looking in the wrong place.
 */
import fs from "node:fs";

/** Why `path` is not a regular file (a directory, a link loop, a dangling link, a device…), or null when it is one or is absent. */
export function notAFileReason(path: string): string | null {
  const own = fs.lstatSync(path, { throwIfNoEntry: false });
  if (own === undefined) return null;
  if (own.isSymbolicLink()) {
    let target = "?";
    try {
      target = fs.readlinkSync(path);
    } catch {}
    try {
      fs.statSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ELOOP") return `is a symbolic link (to ${target}) that loops back on itself`;
      if (code === "ENOENT") return `is a symbolic link to ${target}, which does not exist`;
      return `is a symbolic link to ${target} that cannot be followed (${code})`;
    }
  }
  const stats = fs.statSync(path);
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return "is a directory, not a file";
  return "is not a regular file (a device, socket or pipe)";
}

/** Whether something (even a broken link) sits at `path`: such an entry is reported, not taken for absent. */
export function entryExists(path: string): boolean {
  return fs.lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** `path: <what it is>` for an error from reading `path`. */
export function unreadableFileMessage(path: string, error: unknown): string {
  const reason = notAFileReason(path);
  if (reason !== null) return `${path}: ${reason}`;
  return `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
}

/** Throws `path: <what it is>` unless `path` is a regular file (or absent, which the caller's read reports). */
export function assertRegularFile(path: string): void {
  const reason = notAFileReason(path);
  if (reason !== null) throw new Error(`${path}: ${reason}`);
}
