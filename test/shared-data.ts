/**
 * Where the tests find the reference's data: `../shared` beside the clone (CI has it), or SEAL_SHARED_DIR.
 * A plain clone has no such folder, so the tests that read it skip with a reason naming what is missing; the
 * override also lets a test run the suite against an absent folder to check exactly that.
 */
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./io/fixtures.js";

export const sharedDir = process.env.SEAL_SHARED_DIR || path.join(REPO_ROOT, "..", "shared");

/** A skip reason when the folder is absent (node:test's `skip` option), else false. */
export function missingSharedData(folder: string, what: string): string | false {
  return fs.existsSync(folder) ? false : `${what} not found at ${folder} (the ../shared folder beside the clone)`;
}
