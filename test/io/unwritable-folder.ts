/**
 * A folder this process cannot create files in, for tests of output checks. Root ignores permission bits, so as
 * root a chmod-ed temp folder is writable; there the kernel's /sys/kernel (which refuses new files to everyone) is
 * used when it refuses one. Returns a reason instead when neither can be had, for the test to skip with.
 */
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./fixtures.js";

function refusesNewFiles(dir: string): boolean {
  const probe = path.join(dir, `.seal-test-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, "", { flag: "wx" });
  } catch {
    return true;
  }
  fs.rmSync(probe, { force: true });
  return false;
}

export function unwritableFolder(): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) {
    const dir = tempDir("seal-readonly-");
    fs.chmodSync(dir, 0o555);
    if (refusesNewFiles(dir)) return { dir };
    return { skip: `a folder with mode 0555 (${dir}) still accepts new files here` };
  }
  if (fs.existsSync("/sys/kernel") && refusesNewFiles("/sys/kernel")) return { dir: "/sys/kernel" };
  return { skip: "running as root (permission bits do not apply) and /sys/kernel is absent or writable" };
}
