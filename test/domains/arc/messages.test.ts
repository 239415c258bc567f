import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import { test } from "node:test";
import type { Example } from "../../../src/domains/arc/grid.js";
import {
  SELF_EDIT_INSTRUCTION,
  SELF_EDIT_SYSTEM_MESSAGE,
  selfEditPrompt,
  selfEditUserMessage,
  TTT_SYSTEM_PROMPT,
  tttPromptMessages,
  tttTrainingMessages,
} from "../../../src/domains/arc/messages.js";
import { arcDataMissing, arcDataPath } from "./shared-data.js";

const trainingSubset = arcDataPath("arc-agi_training_challenges_filtered_1B_training_set.json");

const sha256 = (text: string): string => crypto.createHash("sha256").update(text, "utf8").digest("hex");

const demo1: Example = {
  input: [
    [1, 2],
    [3, 4],
  ],
  output: [[4, 3]],
};
const demo2: Example = { input: [[5]], output: [[6]] };
const test1: Example = { input: [[7, 8]], output: [[8], [7]] };

test("TTT system text is the reference representer's prompt, verbatim", () => {
  assert.equal(
    TTT_SYSTEM_PROMPT,
    "Figure out the underlying transformation in the following examples and apply it to the test case. " +
      "Here are some examples from this transformation, your answer must follow the format.\n" +
      "The input-output grids are provided as python arrays:\n",
  );
});

test("TTT messages: demos as `{in} -> {out}#\\n` in the system text, `{test_in} -> ` as user, `{out}#` as answer", () => {
  assert.deepEqual(tttPromptMessages([demo1, demo2], test1.input), [
    {
      role: "system",
      content: `${TTT_SYSTEM_PROMPT}[[1 2]\n [3 4]] -> [[4 3]]#\n[[5]] -> [[6]]#\n`,
    },
    { role: "user", content: "[[7 8]] -> " },
  ]);
  const training = tttTrainingMessages([demo1, demo2], test1);
  assert.equal(training.length, 3);
  assert.deepEqual(training[2], { role: "assistant", content: "[[8]\n [7]]#" });
  assert.deepEqual(tttPromptMessages([], [[0]]), [
    { role: "system", content: TTT_SYSTEM_PROMPT },
    { role: "user", content: "[[0]] -> " },
  ]);
});

test("self-edit system message and instruction are the reference's strings (utils/prompts.py)", () => {
  assert.equal(
    SELF_EDIT_SYSTEM_MESSAGE,
    "You are a helpful assistant that provide the correct output for the given task immediately.",
  );
  // SHA-256 of the reference's `self_edit_prompt` (976 characters, starting and ending with a newline).
  assert.equal(sha256(SELF_EDIT_INSTRUCTION), "8bee17d57aaa4b0d8ba88bbc61ab5a4376abeedee568288ad866299a8fa8b46b");
  assert.equal(SELF_EDIT_INSTRUCTION.length, 976);
  assert.ok(SELF_EDIT_INSTRUCTION.startsWith("\nYou are configuring a model training pipeline"));
  assert.ok(SELF_EDIT_INSTRUCTION.endsWith('    "num_train_epochs": ...\n  }\n}\n'));
  assert.match(SELF_EDIT_INSTRUCTION, /1\. \*\*Data Generation Tools\*\* — For each/);
});

test("self-edit prompt layout (golden)", () => {
  assert.equal(
    selfEditUserMessage([demo1, demo2]),
    `Input:\n1 2\n3 4\n\nOutput:\n4 3\n\nInput:\n5\n\nOutput:\n6\n\n------\n\n${SELF_EDIT_INSTRUCTION}`,
  );
  assert.equal(
    selfEditPrompt([demo2]),
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" +
      "You are a helpful assistant that provide the correct output for the given task immediately.<|eot_id|>" +
      "<|start_header_id|>user<|end_header_id|>\n\n" +
      `Input:\n5\n\nOutput:\n6\n\n------\n\n${SELF_EDIT_INSTRUCTION}<|eot_id|>` +
      "<|start_header_id|>assistant<|end_header_id|>\n\n",
  );
  // The test input never appears: only train pairs are shown.
  assert.ok(!selfEditPrompt([demo1]).includes("7 8"));
});

interface RawTask {
  train: Example[];
}

function readTrainingSubset(): [string, RawTask][] | null {
  if (!fs.existsSync(trainingSubset)) return null;
  const data = JSON.parse(fs.readFileSync(trainingSubset, "utf8")) as Record<string, RawTask>;
  return Object.keys(data)
    .sort()
    .map((id) => [id, data[id]]);
}

test("self-edit prompts of the 12 training-subset tasks match the reference's get_prompt (hash)", (t) => {
  const tasks = readTrainingSubset();
  if (tasks === null) return t.skip(arcDataMissing || `no ${trainingSubset}`);
  assert.equal(tasks.length, 12);
  const all = tasks.map(([, task]) => selfEditPrompt(task.train)).join("");
  // Computed with the reference's prompt strings, its get_prompt layout and Python, over the tasks in id order.
  assert.equal(sha256(all), "5ffa1a65f285e53748580feba7e14aa1717e352e95d648263d264636e203bf9a");
});

test("TTT messages of the training subset match numpy-formatted reference messages (hash)", (t) => {
  const tasks = readTrainingSubset();
  if (tasks === null) return t.skip(arcDataMissing || `no ${trainingSubset}`);
  const parts: string[] = [];
  for (const [, task] of tasks) {
    // Pseudo-test = the first train pair, demos = the rest (one leave-one-out TTT example).
    for (const message of tttTrainingMessages(task.train.slice(1), task.train[0]))
      parts.push(`${message.role}\n${message.content}`);
  }
  // Computed in Python with numpy's str() for the grids and the reference's texts.
  assert.equal(sha256(parts.join("\0")), "2fe3f6b12cbb3a8d620eda68b8ca7da03829d5bbb98ed5250004cd5056923c6a");
});
