/**
 * The two kinds of ARC prompts of the reference (reference-implementation.md §2.2, §2.5), with its exact texts:
 * - TTT / inference chat messages (`GPTTextMessageRepresenterV2` over `TextExampleRepresenter` with numpy grids);
 *   rendering them with the model's chat template happens elsewhere (src/io/tokenizer.ts);
 * - the self-edit prompt: a hand-built Llama-3 chat string (`self-edit.py`'s `get_prompt`, texts from
 *   `utils/prompts.py`), shown the train pairs only.
 */
import type { ChatMessage } from "../../io/tokenizer.js";
import type { Example, Grid } from "./grid.js";
import { gridToNumpyText, gridToRowLines } from "./grid-text.js";

/** The TTT/inference system text before the demonstrations (the representer's prompt with an empty description). */
export const TTT_SYSTEM_PROMPT =
  "Figure out the underlying transformation in the following examples and apply it to the test case. " +
  "Here are some examples from this transformation, your answer must follow the format.\n" +
  "The input-output grids are provided as python arrays:\n";

/** Between a grid and its output in TTT texts. */
export const TTT_IO_SEPARATOR = " -> ";
/** Ends every output grid in TTT texts; the model's answer is read up to it. */
export const TTT_OUTPUT_TERMINATOR = "#";

/** `{in} -> ` : a demonstration's or the test's input side. */
export function tttQueryText(input: Grid): string {
  return `${gridToNumpyText(input)}${TTT_IO_SEPARATOR}`;
}

/** `{out}#` : an output side, as the assistant writes it. */
export function tttAnswerText(output: Grid): string {
  return `${gridToNumpyText(output)}${TTT_OUTPUT_TERMINATOR}`;
}

/** System (prompt + one `{in} -> {out}#\n` per demonstration) and user (`{test_in} -> `): what inference sends. */
export function tttPromptMessages(demonstrations: readonly Example[], testInput: Grid): ChatMessage[] {
  let system = TTT_SYSTEM_PROMPT;
  for (const example of demonstrations) system += `${tttQueryText(example.input)}${tttAnswerText(example.output)}\n`;
  return [
    { role: "system", content: system },
    { role: "user", content: tttQueryText(testInput) },
  ];
}

/** The prompt messages plus the assistant's `{test_out}#`: one TTT training text. */
export function tttTrainingMessages(demonstrations: readonly Example[], test: Example): ChatMessage[] {
  return [...tttPromptMessages(demonstrations, test.input), { role: "assistant", content: tttAnswerText(test.output) }];
}

/** `utils/prompts.py` `system_message` (its grammar included). */
export const SELF_EDIT_SYSTEM_MESSAGE =
  "You are a helpful assistant that provide the correct output for the given task immediately.";

/** `utils/prompts.py` `self_edit_prompt`, byte for byte: it starts and ends with a newline. */
export const SELF_EDIT_INSTRUCTION = `
You are configuring a model training pipeline by selecting from predefined tools.

You must make two decisions:

1. **Data Generation Tools** — For each of the following, choose true or false:
    - use_basic_augmentations
    - use_size_augmentations
    - use_chain_augmentations
    - use_repeat_augmentations

2. **Training Configuration** — Choose one of:
    - "train_using_all_tokens"
    - "train_using_output_tokens"

Also specify:
    - learning_rate (float)
    - num_train_epochs (integer)

### Output Format

Respond with a valid JSON object. Do not include any explanation, markdown, or extra text. Use lowercase \`true\`/\`false\` for booleans and ensure correct JSON syntax.

Example output:

{
  "data_generation": {
    "use_basic_augmentations": ...,
    "use_size_augmentations": ...,
    "use_chain_augmentations": ...,
    "use_repeat_augmentations": ...
  },
  "training": {
    "strategy": ...,
    "learning_rate": ...,
    "num_train_epochs": ...
  }
}
`;

/** Per train pair `Input:\n{rows}\nOutput:\n{rows}\n`, then `------\n\n` and the tool-selection instruction. */
export function selfEditUserMessage(train: readonly Example[]): string {
  let text = "";
  for (const example of train)
    text += `Input:\n${gridToRowLines(example.input)}\nOutput:\n${gridToRowLines(example.output)}\n`;
  return `${text}------\n\n${SELF_EDIT_INSTRUCTION}`;
}

/**
 * The full self-edit prompt, a literal Llama-3 chat string ending with the open assistant header. It begins with the
 * `<|begin_of_text|>` text, which the reference sends as is (so a tokenizer that adds BOS gives two).
 */
export function selfEditPrompt(train: readonly Example[]): string {
  return (
    `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n${SELF_EDIT_SYSTEM_MESSAGE}<|eot_id|>` +
    `<|start_header_id|>user<|end_header_id|>\n\n${selfEditUserMessage(train)}<|eot_id|>` +
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
  );
}
