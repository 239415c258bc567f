/**
 * The consolidation worker thread: opens its own store connection and its own copy of the model (and teacher),
 * runs one consolidation (a fresh one or one a crash left running: runConsolidation resumes at the first phase not
 * finished) and reports the final record. Serving goes on in the generation worker meanwhile.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runConsolidation } from "../domains/memory/consolidate.js";
import type { ConsolidationEngine } from "../domains/memory/consolidate-types.js";
import { openMemoryStore } from "../domains/memory/store.js";
import { Model } from "../engine/model.js";
import { inspectModel, loadModel } from "../io/model-files.js";
import { checkTokenizerFitsModel, loadTokenizer } from "../io/tokenizer.js";
import type { ConsolidationWorkerData, FromConsolidationWorker } from "./consolidation-protocol.js";

function loadEngine(dir: string): ConsolidationEngine {
  const inspected = inspectModel(dir);
  const tokenizer = loadTokenizer(dir);
  checkTokenizerFitsModel(tokenizer, inspected.config, dir);
  const loaded = loadModel(inspected);
  const stopTokenIds = [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])];
  return { model: new Model(loaded.config, loaded.weights), tokenizer, stopTokenIds };
}

const port = parentPort;
if (port === null) throw new Error("the consolidation worker must run in a worker thread");
const data = workerData as ConsolidationWorkerData;
const post = (message: FromConsolidationWorker) => port.postMessage(message);

const store = openMemoryStore(data.storeFile);
try {
  const engine = loadEngine(data.modelDir);
  const teacher = data.teacherDir === null ? undefined : loadEngine(data.teacherDir);
  const consolidation = runConsolidation({
    ...engine,
    teacher,
    store,
    dataDir: data.dataDir,
    consolidationId: data.consolidationId,
    log: (line) => post({ type: "log", line }),
    onPhase: (phase) => post({ type: "phase", phase }),
  });
  post({ type: "done", consolidation });
} catch (error) {
  post({ type: "error", message: error instanceof Error ? error.message : String(error) });
} finally {
  store.close();
}
