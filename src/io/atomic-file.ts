import fs from "node:fs";

/**
 * Files are written under a temporary name and renamed into place, so a crash never leaves a half-written file
 * under the real name (DESIGN.md: "Nothing half-written").
 */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Runs `write(tempPath)`, then renames the temp file onto `path`; removes the temp file if writing fails. */
export function writeAtomically(path: string, write: (tempPath: string) => void): void {
  const tempPath = tempPathFor(path);
  try {
    write(tempPath);
    fs.renameSync(tempPath, path);
  } catch (error) {
    fs.rmSync(tempPath, { force: true });
    throw error;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeAtomically(path, (tempPath) => fs.writeFileSync(tempPath, data));
}
