/** How `seal train` turns JSONL lines into token sequences and loss masks (in-process, with a stub tokenizer). */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { type JsonlRecord, readJsonlFile } from "../../src/cli/commands/jsonl.js";
import { parseTargets } from "../../src/cli/commands/parsers.js";
import { buildTrainData, parseTrainLines, type TrainDataOptions } from "../../src/cli/commands/train-data.js";
import type { ChatMessage, TextTokenizer } from "../../src/io/tokenizer.js";
import { tempDir } from "../io/fixtures.js";

const BOS = 1;
const EOS = 2;

/** One token per character (its code), BOS first when special tokens are added; a simple chat format. */
function stubTokenizer(options: { prefixConsistent: boolean }): TextTokenizer {
  const stub = {
    encode: (text: string, o: { addSpecialTokens?: boolean } = {}) => [
      ...((o.addSpecialTokens ?? true) ? [BOS] : []),
      ...Array.from(text, (c) => c.charCodeAt(0)),
    ],
    applyChatTemplate: (messages: ChatMessage[], o: { addGenerationPrompt?: boolean } = {}) => {
      const turns = messages.map((m) => `<${m.role}>${m.content}|`).join("");
      if (o.addGenerationPrompt) return `${turns}<assistant>`;
      return options.prefixConsistent ? turns : turns.replaceAll("|", "/");
    },
  };
  return stub as unknown as TextTokenizer;
}

const OPTIONS: TrainDataOptions = { lossOnAllTokens: false, appendEos: true, eosTokenId: EOS, maxLength: 2048 };

function records(...values: unknown[]): JsonlRecord[] {
  return values.map((value, i) => ({ line: i + 1, value }));
}

const codes = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

test("prompt/completion: prompt and completion tokenized apart, loss on the completion and EOS only", () => {
  const lines = parseTrainLines(records({ prompt: "Q:", completion: " A" }), "data.jsonl");
  const tokenizer = stubTokenizer({ prefixConsistent: true });
  const data = buildTrainData(lines, tokenizer, OPTIONS);
  assert.deepEqual(data.examples[0].tokens, [BOS, ...codes("Q:"), ...codes(" A"), EOS]);
  assert.deepEqual(Array.from(data.examples[0].lossMask ?? []), [0, 0, 0, 1, 1, 1]);
  assert.equal(data.targetTokens, 3);

  const all = buildTrainData(lines, tokenizer, { ...OPTIONS, lossOnAllTokens: true, appendEos: false });
  assert.deepEqual(all.examples[0].tokens, [BOS, ...codes("Q: A")]);
  assert.deepEqual(Array.from(all.examples[0].lossMask ?? []), [1, 1, 1, 1, 1]);
  assert.equal(all.targetTokens, 4, "position 0 is never a target");
});

test("text lines train on every token; messages train on the last assistant turn", () => {
  const lines = parseTrainLines(
    records(
      { text: "hi" },
      {
        messages: [
          { role: "user", content: "x" },
          { role: "assistant", content: "y" },
        ],
      },
    ),
    "data.jsonl",
  );
  const consistent = buildTrainData(lines, stubTokenizer({ prefixConsistent: true }), OPTIONS);
  assert.deepEqual(consistent.examples[0].tokens, [BOS, ...codes("hi"), EOS]);
  assert.deepEqual(Array.from(consistent.examples[0].lossMask ?? []), [1, 1, 1, 1]);
  // The completion is what the template renders after the generation prompt (its end-of-turn included).
  assert.deepEqual(consistent.examples[1].tokens, codes("<user>x|<assistant>y|"));
  assert.deepEqual(Array.from(consistent.examples[1].lossMask ?? []), [
    ...new Array(codes("<user>x|<assistant>").length).fill(0),
    1,
    1,
  ]);
  // A template whose full rendering does not extend the prompt: the assistant's content + EOS.
  const fallback = buildTrainData(lines, stubTokenizer({ prefixConsistent: false }), OPTIONS);
  assert.deepEqual(fallback.examples[1].tokens, [...codes("<user>x|<assistant>"), ...codes("y"), EOS]);
});

test("long examples are cut to maxLength; examples left with no target are skipped", () => {
  const lines = parseTrainLines(
    records({ prompt: "abcdef", completion: "gh" }, { prompt: "ab", completion: "cdefgh" }),
    "data.jsonl",
  );
  const data = buildTrainData(lines, stubTokenizer({ prefixConsistent: true }), { ...OPTIONS, maxLength: 5 });
  assert.equal(data.truncated, 2);
  assert.equal(data.skipped, 1, "the first example's prompt fills all 5 tokens");
  assert.deepEqual(data.examples[0].tokens, [BOS, ...codes("abcd")]);
  assert.deepEqual(Array.from(data.examples[0].lossMask ?? []), [0, 0, 0, 1, 1]);
  assert.throws(
    () => buildTrainData(lines, stubTokenizer({ prefixConsistent: true }), { ...OPTIONS, eosTokenId: null }),
    /^Error: data\.jsonl:1: no EOS token to end the completion .*pass --no-eos$/,
  );
});

test("malformed lines are rejected naming file:line and the field", () => {
  const cases: [unknown, RegExp][] = [
    [{ prompt: "a" }, /^data\.jsonl:1: field "completion": Invalid input: expected string, received undefined$/],
    [{ text: 5 }, /^data\.jsonl:1: field "text": Invalid input: expected string, received number$/],
    [["text"], /^data\.jsonl:1: expected an object with "text", with "prompt" and "completion", or with "messages"$/],
    [{ text: "a", prompt: "b" }, /^data\.jsonl:1: fields "text" and "prompt" mixed; expected an object/],
    [{ messages: [] }, /^data\.jsonl:1: field "messages": expected at least one message$/],
    [{ messages: [{ role: "user" }] }, /^data\.jsonl:1: field "messages\.0\.content": /],
    [
      { messages: [{ role: "user", content: "hi" }] },
      /^data\.jsonl:1: field "messages": the last message must be the assistant's \(role "assistant"\), got role "user"$/,
    ],
  ];
  for (const [value, expected] of cases)
    assert.throws(
      () => parseTrainLines(records(value), "data.jsonl"),
      (error: Error) => expected.test(error.message),
      JSON.stringify(value),
    );

  const dir = tempDir("seal-cli-jsonl-");
  const file = path.join(dir, "data.jsonl");
  fs.writeFileSync(file, '{"text": "a"}\n\n{"text": "b"\n');
  assert.throws(() => readJsonlFile(file), new RegExp(`^Error: ${file}:3: not valid JSON`));
  fs.writeFileSync(file, "\n\n");
  assert.throws(() => readJsonlFile(file), /no records/);
});

test("training data: a UTF-8 BOM is accepted; invalid UTF-8 is refused with file:line, not read as U+FFFD", () => {
  const dir = tempDir("seal-train-data-");
  const withBom = path.join(dir, "bom.jsonl");
  fs.writeFileSync(
    withBom,
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"text": "a"}\n{"text": "b"}\n')]),
  );
  assert.deepEqual(
    parseTrainLines(readJsonlFile(withBom), withBom).map((line) => line.kind === "text" && line.text),
    ["a", "b"],
  );
  const latin1 = path.join(dir, "latin1.jsonl");
  fs.writeFileSync(
    latin1,
    Buffer.concat([Buffer.from('{"text": "a"}\n\n{"text": "caf'), Buffer.from([0xe9, 0x22, 0x7d])]),
  );
  assert.throws(() => readJsonlFile(latin1), { message: `${latin1}:3: not valid UTF-8 (save the file as UTF-8)` });
});

test("--targets accepts PEFT module names or all-linear", () => {
  assert.deepEqual(parseTargets("v_proj, q_proj"), ["q_proj", "v_proj"]);
  assert.equal(parseTargets("all-linear").length, 7);
  assert.throws(() => parseTargets("q,v_proj"), /unknown: q$/);
  assert.throws(() => parseTargets(""), /expected a comma-separated list/);
});
