/** Temp stores for the memory store's tests. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after } from "node:test";
import { type MemoryStore, openMemoryStore } from "../../../src/domains/memory/store.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test file. */
export function tempStoreDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "seal-memory-"));
  dirs.push(dir);
  return dir;
}

/** A store in a fresh temp folder (file `memory.sqlite`). */
export function tempStore(): MemoryStore {
  return openMemoryStore(path.join(tempStoreDir(), "memory.sqlite"));
}
