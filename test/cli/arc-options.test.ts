/** The `seal arc` option defaults are the reference's settings as the domain states them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  PREDICT_OPTION_DEFAULTS,
  parseArcTargets,
  parseInstances,
  predictSettingsFromOptions,
  TTT_OPTION_DEFAULTS,
  tttSettingsFromOptions,
} from "../../src/cli/commands/arc-options.js";
import { bcSettingsFromOptions, RL_OPTION_DEFAULTS } from "../../src/cli/commands/arc-rl.js";
import { REFERENCE_PREDICT } from "../../src/domains/arc/predict.js";
import { REFERENCE_BC } from "../../src/domains/arc/run-rl.js";
import { REFERENCE_TTT } from "../../src/domains/arc/ttt.js";
import { sealResult } from "./cli-fixtures.js";

test("arc ttt's defaults are REFERENCE_TTT (r=128, α=16, 5 targets, batch 2, warmup 11, 250 examples)", () => {
  assert.deepEqual(tttSettingsFromOptions(TTT_OPTION_DEFAULTS), REFERENCE_TTT);
});

test("arc eval's defaults are REFERENCE_PREDICT", () => {
  assert.deepEqual(predictSettingsFromOptions(PREDICT_OPTION_DEFAULTS), REFERENCE_PREDICT);
});

test("arc rl's defaults are the reference's behaviour cloning (r=16, α=16, 8 epochs, batch 5, lr 5e-5, cosine)", () => {
  assert.deepEqual(bcSettingsFromOptions(RL_OPTION_DEFAULTS), REFERENCE_BC);
  const help = sealResult(["arc", "rl", "--help"]).stdout.replace(/\s+/g, " ");
  assert.ok(
    help.includes("LoRA targets: q,v,gate,up,down style, PEFT names, or all-linear (default: q,v,gate,up,down)"),
  );
});

test("targets take the short names; instances a named set or a list", () => {
  assert.deepEqual(parseArcTargets("q,v,gate,up,down"), ["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"]);
  assert.deepEqual(parseArcTargets("v_proj,q"), ["q_proj", "v_proj"]);
  assert.throws(() => parseArcTargets("q,zz"), /unknown: zz/);
  assert.equal(parseInstances("eval-1b"), "eval-1b");
  assert.deepEqual(parseInstances("44f52bb0-1,6150a2bd-0"), ["44f52bb0-1", "6150a2bd-0"]);
  assert.throws(() => parseInstances("44f52bb0"), /test inputs \{task\}-\{k\}; not: 44f52bb0/);
});
