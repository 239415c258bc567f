/**
 * Child process of the kill -9 test: opens the store in DATA_DIR, starts a consolidation of the pending documents
 * unless one is left running (then resumes it), runs it, and prints its final state. The test sets SEAL_CRASH_AT.
 */
import path from "node:path";
import { planConsolidation, runConsolidation } from "../../../src/domains/memory/consolidate.js";
import { openMemoryStore } from "../../../src/domains/memory/store.js";
import { loadMiniEngine, smallSettings } from "./consolidate-fixtures.js";

const dataDir = process.argv[2];
// The test runner also loads every file under dist/test/ on its own, without arguments: then there is no child work.
if (dataDir !== undefined) {
  const store = openMemoryStore(path.join(dataDir, "memory.sqlite"));
  const consolidation =
    store.runningConsolidation() ?? planConsolidation(store, { trigger: "manual", settings: smallSettings() });
  if (consolidation === null) throw new Error("nothing to consolidate");
  const done = runConsolidation({ ...loadMiniEngine(), store, dataDir, consolidationId: consolidation.id });
  store.close();
  process.stdout.write(`${JSON.stringify({ id: done.id, state: done.state, error: done.error })}\n`);
}
