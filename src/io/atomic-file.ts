import fs from "node:fs";
import nodePath from "node:path";
import { crashPoint } from "./crash-point.js";

/**
 * Files are written under a temporary name and renamed into place, so a crash never leaves a half-written file
 * under the real name (DESIGN.md: "Nothing half-written").
 */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

const TEMP_NAME = /\.tmp-(\d+)$/;

/** The pid of the process that was writing `name` when it is a temp name of `tempPathFor`, else null. */
export function tempFileWriter(name: string): number | null {
  const match = TEMP_NAME.exec(name);
  return match === null ? null : Number(match[1]);
}

/** Runs `write(tempPath)`, then renames the temp file onto `path`; removes the temp file if writing fails. */
export function writeAtomically(path: string, write: (tempPath: string) => void): void {
  const tempPath = tempPathFor(path);
  try {
    write(tempPath);
    crashPoint("write", nodePath.basename(path));
    fs.renameSync(tempPath, path);
  } catch (error) {
    fs.rmSync(tempPath, { force: true });
    throw error;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeAtomically(path, (tempPath) => fs.writeFileSync(tempPath, data));
}

/**
 * Writes a whole folder as `{dir}.partial` (cleared first: a crash may have left one), then replaces `dir` with it,
 * so `dir` is either absent, the previous folder, or complete.
 */
export function writeDirectoryAtomically(dir: string, write: (partialDir: string) => void): void {
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  try {
    write(partial);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  const name = nodePath.basename(dir);
  crashPoint("publish", name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  crashPoint("published", name);
}
