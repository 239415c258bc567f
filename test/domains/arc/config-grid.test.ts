import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import {
  oracleConfigGrid,
  parseFixedConfig,
  rawSelfEditConfig,
  readConfigGridFile,
} from "../../../src/domains/arc/config-grid.js";
import { parseSelfEditConfig } from "../../../src/domains/arc/self-edit-config.js";
import { tempDir } from "../../io/fixtures.js";

test("the default oracle grid: 3 augmentation choices × 2 strategies × 2 learning rates × 2 epoch counts", () => {
  const grid = oracleConfigGrid();
  assert.equal(grid.length, 24);
  const parsed = grid.map((raw) => parseSelfEditConfig(JSON.stringify(raw), { strictJson: true }));
  assert.ok(parsed.every((p) => p.kind === "config" && p.valid));
  assert.equal(new Set(parsed.map((p) => (p.kind === "config" ? p.key : ""))).size, 24, "all distinct");
  assert.deepEqual(grid[0], {
    data_generation: {
      use_basic_augmentations: true,
      use_size_augmentations: false,
      use_chain_augmentations: false,
      use_repeat_augmentations: false,
    },
    training: { strategy: "train_using_all_tokens", learning_rate: 1e-4, num_train_epochs: 1 },
  });
  assert.deepEqual(grid[23].training, {
    strategy: "train_using_output_tokens",
    learning_rate: 1e-3,
    num_train_epochs: 3,
  });
  assert.deepEqual(Object.values(grid[23].data_generation), [true, true, true, true]);
});

test("--config reads inline JSON or a file; a config that trains nothing or is not one is refused", () => {
  const config = rawSelfEditConfig(
    { basic: true, size: true, chain: true, repeat: true },
    "train_using_output_tokens",
    1e-4,
    2,
  );
  assert.deepEqual(parseFixedConfig(JSON.stringify(config)), config);
  const dir = tempDir("seal-arc-grid-");
  try {
    const file = path.join(dir, "ttt.json");
    fs.writeFileSync(file, JSON.stringify(config));
    assert.deepEqual(parseFixedConfig(file), config);
    assert.throws(() => parseFixedConfig('{"training": {}}'), /--config: not a self-edit config/);
    assert.throws(
      () => parseFixedConfig(JSON.stringify({ ...config, training: { ...config.training, strategy: "x" } })),
      /--config: the config trains nothing: unknown strategy "x"/,
    );
    const grid = path.join(dir, "grid.json");
    fs.writeFileSync(grid, JSON.stringify([config, config]));
    assert.equal(readConfigGridFile(grid).length, 2);
    fs.writeFileSync(grid, "[]");
    assert.throws(() => readConfigGridFile(grid), /grid\.json: .*at least one config/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
