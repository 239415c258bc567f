/**
 * Hand-chosen self-edit configurations for the baselines of `seal arc ttt` (reference-implementation.md §2.8):
 * - `--config JSON`: one fixed configuration for every task (the "fixed configuration" baseline);
 * - `--all-configs [FILE]`: every configuration of a grid per task (the paper's "oracle": a task counts as solved
 *   when any configuration solves it).
 *
 * The default grid, 3 × 2 × 2 × 2 = 24 configurations, spans the choices a self-edit makes, with values around the
 * ones the reference's `ttt.py` uses (all augmentations, output-token loss, lr 1e-4, 2 epochs):
 * - augmentations {basic}, {basic, size}, {basic, size, chain, repeat} (basic alone is the cheapest family that
 *   still multiplies the data; size and the rest add the larger grids);
 * - strategy train_using_all_tokens, train_using_output_tokens;
 * - learning rate 1e-4, 1e-3;
 * - epochs 1, 3.
 * In that order, the last varying fastest. A JSON file (an array of `{data_generation, training}` objects) replaces it.
 * The configs are stored in the run's run.json, so a resume compares them.
 */

import { z } from "zod";
import { parseJsonText, readJsonFile } from "../../io/json-file.js";
import { type AugmentationChoice, parseSelfEditConfig, type RawSelfEditConfig } from "./self-edit-config.js";

export const ORACLE_AUGMENTATIONS: readonly AugmentationChoice[] = [
  { basic: true, size: false, chain: false, repeat: false },
  { basic: true, size: true, chain: false, repeat: false },
  { basic: true, size: true, chain: true, repeat: true },
];
export const ORACLE_STRATEGIES = ["train_using_all_tokens", "train_using_output_tokens"] as const;
export const ORACLE_LEARNING_RATES = [1e-4, 1e-3] as const;
export const ORACLE_EPOCHS = [1, 3] as const;

/** A config object in the self-edit JSON layout. */
export function rawSelfEditConfig(
  augmentations: AugmentationChoice,
  strategy: string,
  learningRate: number,
  epochs: number,
): RawSelfEditConfig {
  return {
    data_generation: {
      use_basic_augmentations: augmentations.basic,
      use_size_augmentations: augmentations.size,
      use_chain_augmentations: augmentations.chain,
      use_repeat_augmentations: augmentations.repeat,
    },
    training: { strategy, learning_rate: learningRate, num_train_epochs: epochs },
  };
}

/** The default `--all-configs` grid (see the module comment). */
export function oracleConfigGrid(): RawSelfEditConfig[] {
  const grid: RawSelfEditConfig[] = [];
  for (const augmentations of ORACLE_AUGMENTATIONS)
    for (const strategy of ORACLE_STRATEGIES)
      for (const lr of ORACLE_LEARNING_RATES)
        for (const epochs of ORACLE_EPOCHS) grid.push(rawSelfEditConfig(augmentations, strategy, lr, epochs));
  return grid;
}

/** Checks one hand-written config: it must read as a config (an invalid one would train nothing: refused). */
export function checkHandConfig(value: unknown, where: string): RawSelfEditConfig {
  const parsed = parseSelfEditConfig(JSON.stringify(value), { strictJson: true });
  if (parsed.kind === "unparseable") throw new Error(`${where}: not a self-edit config (${parsed.reason})`);
  if (!parsed.valid) throw new Error(`${where}: the config trains nothing: ${parsed.reason}`);
  return parsed.raw;
}

/** `--config`: inline JSON (text starting with `{`) or the path of a JSON file holding one config. */
export function parseFixedConfig(value: string): RawSelfEditConfig {
  if (value.trim().startsWith("{")) return checkHandConfig(parseJsonText(value, "--config"), "--config");
  return checkHandConfig(readJsonFile(value, z.unknown()), value);
}

/** `--all-configs FILE`: a non-empty JSON array of configs. */
export function readConfigGridFile(file: string): RawSelfEditConfig[] {
  const items = readJsonFile(file, z.array(z.unknown()).min(1, "expected at least one config"));
  return items.map((item, i) => checkHandConfig(item, `${file}: config ${i}`));
}
