/**
 * Shared by the consolidation tests: the shipped SEAL-mini model, held-out passages of the world it was pretrained
 * on (each with its six questions), small settings that keep a consolidation to seconds, and a real store in a temp
 * data folder.
 */
import fs from "node:fs";
import path from "node:path";
import type { Passage } from "../../../src/domains/knowledge/data.js";
import type { ConsolidationEngine } from "../../../src/domains/memory/consolidate.js";
import {
  type ConsolidationSettings,
  sealMiniConsolidationSettings,
} from "../../../src/domains/memory/consolidation-settings.js";
import { type MemoryStore, openMemoryStore } from "../../../src/domains/memory/store.js";
import { splitPassages } from "../../../src/domains/mini/held-out.js";
import { readMiniModelInfo } from "../../../src/domains/mini/model-config.js";
import { generateWorld } from "../../../src/domains/mini/world.js";
import { Model } from "../../../src/engine/model.js";
import { loadModel } from "../../../src/io/model-files.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";
import { REPO_ROOT, tempDir } from "../../io/fixtures.js";

export const MINI_MODEL = path.join(REPO_ROOT, "models", "seal-mini");

/** The model, tokenizer and stop tokens of the shipped SEAL-mini model (fresh weights each call). */
export function loadMiniEngine(): ConsolidationEngine {
  const loaded = loadModel(MINI_MODEL);
  const tokenizer = loadTokenizer(MINI_MODEL);
  return {
    model: new Model(loaded.config, loaded.weights),
    tokenizer,
    stopTokenIds: [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])],
  };
}

/** Held-out ("eval") passages of the shipped model's world. */
export function heldOutPassages(count: number, start = 0): Passage[] {
  const info = readMiniModelInfo(MINI_MODEL);
  const world = generateWorld({ seed: info.seed, ...info.world.world });
  return splitPassages(world, "eval").slice(start, start + count);
}

/** SEAL-mini's settings, made small: 1 short self-edit per document, few epochs, short probe samples. */
export function smallSettings(overrides: Partial<ConsolidationSettings> = {}): ConsolidationSettings {
  const s = sealMiniConsolidationSettings();
  return {
    ...s,
    selfEdits: { ...s.selfEdits, k: 1, maxTokens: 64 },
    train: { ...s.train, epochs: 3 },
    probes: { ...s.probes, samples: 8, maxTokens: 64 },
    ...overrides,
  };
}

export interface TempData {
  dataDir: string;
  store: MemoryStore;
  cleanup: () => void;
}

export function tempData(): TempData {
  const dataDir = tempDir("seal-consolidate-");
  const store = openMemoryStore(path.join(dataDir, "memory.sqlite"));
  return {
    dataDir,
    store,
    cleanup: () => {
      store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Adds passages as documents (title = the person's name), with their questions as probes unless `probes` is false. */
export function addPassages(store: MemoryStore, passages: readonly Passage[], probes = true): string[] {
  return passages.map(
    (p) => store.addDocument({ text: p.context, title: p.title, probes: probes ? p.questions : undefined }).document.id,
  );
}
