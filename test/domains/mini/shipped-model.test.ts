import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, it } from "node:test";
import { writeMiniWorld } from "../../../src/domains/mini/files.js";
import { miniModelConfig, readMiniModelInfo } from "../../../src/domains/mini/model-config.js";
import { loadModel } from "../../../src/io/model-files.js";
import { loadTokenizer } from "../../../src/io/tokenizer.js";
import { fingerprintModelFolder } from "../../../src/seal/fingerprint.js";
import { REPO_ROOT, tempDir } from "../../io/fixtures.js";

const shipped = path.join(REPO_ROOT, "models", "seal-mini");
const root = tempDir("seal-mini-shipped-");
after(() => fs.rmSync(root, { recursive: true, force: true }));

it("the shipped SEAL-mini model is the recorded checkpoint and matches the world it names", () => {
  const recorded = JSON.parse(
    fs.readFileSync(path.join(REPO_ROOT, "docs", "seal-mini-demo", "pretrain", "summary.json"), "utf8"),
  ) as { modelFingerprint: string; parameters: number };
  assert.equal(fingerprintModelFolder(shipped).sha256, recorded.modelFingerprint);
  const info = readMiniModelInfo(shipped);
  const tokenizer = loadTokenizer(shipped);
  const loaded = loadModel(shipped);
  assert.deepEqual(loaded.config, miniModelConfig(tokenizer.vocabSize, tokenizer.eosTokenIds[0]));
  // the demo regenerates the world from seal_mini.json: its tokenizer must be the shipped one
  const world = path.join(root, "world");
  writeMiniWorld(world, { ...info.world, world: { seed: info.seed, ...info.world.world } });
  assert.equal(
    fs.readFileSync(path.join(world, "tokenizer", "tokenizer.json"), "utf8"),
    fs.readFileSync(path.join(shipped, "tokenizer.json"), "utf8"),
  );
});
