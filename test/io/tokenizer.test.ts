import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { before, test } from "node:test";
import { presetConfig } from "../../src/io/hf-config.js";
import { checkTokenizerFitsModel, loadTokenizer, type TextTokenizer } from "../../src/io/tokenizer.js";
import { LLAMA3_TOKENIZER, QWEN3_TOKENIZER, tempDir } from "./fixtures.js";

let qwen: TextTokenizer;
let llama: TextTokenizer;

before(() => {
  qwen = loadTokenizer(QWEN3_TOKENIZER);
  llama = loadTokenizer(path.join(LLAMA3_TOKENIZER, "tokenizer.json")); // a file path works too
});

const CONVERSATION = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "What is 2+2?" },
];

const ROUND_TRIP_TEXTS = [
  "Hello, world!",
  "Ünïcödé façade — “quoted” ‘text’ and naïve café",
  "日本語のテキストと中文句子",
  "emoji 🦭🎉 family 👩‍👩‍👧 flags 🇯🇵",
  "tabs\tand\nnew\r\nlines\n\n\nend",
  "   leading and trailing spaces   ",
  "mixed العربية עברית русский ελληνικά हिन्दी",
  "math ∑∫√∞ ≤ ≥ 3.14159 and 1234567890",
  "def f(x):\n    return x**2  # comment\n",
  "",
];

test("known encodings match the ids in tokenizer.json", () => {
  // Qwen: "Hello" = 9707, "Ġworld" = 1879, "," = 11, "!" = 0; digits are split one by one ("1" = 16 … "6" = 21).
  assert.deepEqual(qwen.encode("Hello world"), [9707, 1879]);
  assert.deepEqual(qwen.encode("Hello, world!"), [9707, 11, 1879, 0]);
  assert.deepEqual(qwen.encode("123456"), [16, 17, 18, 19, 20, 21]);
  assert.deepEqual(qwen.encode("世界"), [99489]); // "ä¸ĸçķĮ"
  // Llama 3: "Hello" = 9906, "Ġworld" = 1917; digits group in threes ("123" = 4513, "456" = 10961).
  assert.deepEqual(llama.encode("Hello world"), [9906, 1917]);
  assert.deepEqual(llama.encode("Hello, world!"), [9906, 11, 1917, 0]);
  assert.deepEqual(llama.encode("123456"), [4513, 10961]);
});

test("special tokens map to single ids and can be skipped on decode", () => {
  assert.deepEqual(qwen.encode("<|im_start|>user\nhi<|im_end|>"), [151644, 872, 198, 6023, 151645]);
  assert.equal(qwen.tokenToId("<|im_start|>"), 151644);
  assert.equal(qwen.decode([151644, 872, 198, 6023, 151645], { skipSpecialTokens: true }), "user\nhi");
  assert.deepEqual(llama.encode("<|eot_id|>"), [128009]);
  assert.equal(llama.tokenToId("<|begin_of_text|>"), 128000);
  assert.equal(llama.idToToken(128009), "<|eot_id|>");
  assert.equal(llama.decode([9906, 128009]), "Hello<|eot_id|>");
  assert.equal(llama.decode([9906, 128009], { skipSpecialTokens: true }), "Hello");
  // Llama 3's special tokens mean nothing to Qwen's vocabulary, so they split into ordinary pieces.
  assert.ok(qwen.encode("<|eot_id|>").length > 1);
  assert.equal(qwen.tokenToId("no-such-token-anywhere"), undefined);
});

test("decode(encode(text)) returns the text for varied unicode", () => {
  for (const text of ROUND_TRIP_TEXTS) {
    assert.equal(qwen.decode(qwen.encode(text)), text, `qwen: ${JSON.stringify(text)}`);
    assert.equal(llama.decode(llama.encode(text)), text, `llama: ${JSON.stringify(text)}`);
  }
});

test("vocabulary size, bos and eos come from the files", () => {
  // Qwen3: 151643 BPE tokens + added tokens up to id 151668; Llama 3: 128000 + 256 special tokens.
  assert.equal(qwen.vocabSize, 151669);
  assert.equal(llama.vocabSize, 128256);
  assert.deepEqual(qwen.eosTokenIds, [151645]); // <|im_end|>
  assert.equal(qwen.bosToken, null);
  assert.equal(qwen.bosTokenId, null);
  assert.deepEqual(llama.eosTokenIds, [128001]); // <|end_of_text|>
  assert.equal(llama.bosToken, "<|begin_of_text|>");
  assert.equal(llama.bosTokenId, 128000);
  // These tokenizer.json files' post-processors add no BOS.
  assert.deepEqual(llama.encode("Hello world", { addSpecialTokens: true }), [9906, 1917]);
});

test("Qwen chat template renders ChatML", () => {
  assert.equal(
    qwen.applyChatTemplate(CONVERSATION, { addGenerationPrompt: true }),
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
  );
  // Qwen3's template gives the final assistant turn (after the last user query) an empty thinking block.
  const answered = [...CONVERSATION, { role: "assistant", content: "4" }];
  assert.equal(
    qwen.applyChatTemplate(answered),
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>\n",
  );
  assert.equal(
    qwen.applyChatTemplate([...answered, { role: "user", content: "  And 3+3?  " }]),
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\n  And 3+3?  <|im_end|>\n",
  );
  // Template variables pass through `extra` (Qwen3's switch for its thinking block).
  assert.equal(
    qwen.applyChatTemplate([{ role: "user", content: "Hi" }], {
      addGenerationPrompt: true,
      extra: { enable_thinking: false },
    }),
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
  );
  const withTools = qwen.applyChatTemplate([{ role: "user", content: "Hi" }], {
    tools: [{ type: "function", function: { name: "add", parameters: {} } }],
  });
  assert.ok(withTools.startsWith("<|im_start|>system\n# Tools\n"), withTools);
  assert.ok(withTools.includes('"name": "add"'), withTools);
});

test("Llama 3 chat template renders header blocks after <|begin_of_text|>", () => {
  // The shipped (base Llama 3) template has no "Cutting Knowledge Date" preamble, trims content and always
  // ends with the assistant header.
  assert.equal(
    llama.applyChatTemplate(CONVERSATION, { addGenerationPrompt: true }),
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>" +
      "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" +
      "<|start_header_id|>assistant<|end_header_id|>\n\n",
  );
  assert.equal(
    llama.applyChatTemplate([{ role: "user", content: "  padded  " }]),
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
  );
  const prompt = llama.applyChatTemplate(CONVERSATION, { addGenerationPrompt: true });
  const ids = llama.encode(prompt, { addSpecialTokens: false });
  assert.equal(ids[0], 128000);
  assert.equal(ids.filter((id) => id === 128009).length, 2);
});

/** A tokenizer folder with a hand-written four-token BPE vocabulary. */
function tinyTokenizerDir(config: Record<string, unknown>): string {
  const dir = tempDir();
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 3, content: "<eos>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab: { a: 0, b: 1, ab: 2 },
      merges: ["a b"],
    },
  };
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify(config));
  return dir;
}

test("chat templates: missing, named lists, chat_template.jinja, raise_exception", () => {
  const none = loadTokenizer(tinyTokenizerDir({ eos_token: "<eos>" }));
  assert.deepEqual(none.encode("abab<eos>"), [2, 2, 3]);
  assert.equal(none.vocabSize, 4);
  assert.equal(none.hasChatTemplate, false);
  assert.throws(() => none.applyChatTemplate([{ role: "user", content: "x" }]), /the tokenizer has no chat template/);

  const named = loadTokenizer(
    tinyTokenizerDir({
      eos_token: { content: "<eos>", __type: "AddedToken" },
      chat_template: [
        {
          name: "default",
          template: "{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}",
        },
        { name: "tool_use", template: "tools:{{ tools | length }}" },
      ],
    }),
  );
  assert.equal(named.applyChatTemplate([{ role: "user", content: "hi" }]), "[user]hi<eos>");
  assert.equal(named.applyChatTemplate([], { tools: [{}, {}] }), "tools:2");
  assert.throws(
    () => named.applyChatTemplate([], { templateName: "rag" }),
    /no chat template named "rag" \(available: default, tool_use\)/,
  );

  const dir = tinyTokenizerDir({});
  fs.writeFileSync(
    path.join(dir, "chat_template.jinja"),
    "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}ok",
  );
  const fromFile = loadTokenizer(dir);
  assert.equal(fromFile.applyChatTemplate([{ role: "user", content: "" }]), "ok");
  assert.throws(
    () => fromFile.applyChatTemplate([{ role: "assistant", content: "" }]),
    /chat template raised: first message must be from the user/,
  );
});

test("strftime_now renders dates as Python does (English names)", () => {
  const tokenizer = loadTokenizer(tinyTokenizerDir({ chat_template: "{{ strftime_now('%Y|%d %b %Y|%B|%%') }}" }));
  const now = new Date();
  const rendered = tokenizer.applyChatTemplate([]);
  const months = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
  ];
  const month = months[now.getMonth()];
  assert.equal(
    rendered,
    `${now.getFullYear()}|${String(now.getDate()).padStart(2, "0")} ${month.slice(0, 3)} ${now.getFullYear()}|${month}|%`,
  );
});

test("bad tokenizer folders and mismatched vocabularies are reported", () => {
  assert.throws(() => loadTokenizer(tempDir()), /no tokenizer\.json/);
  const dir = tinyTokenizerDir({ eos_token: "<missing>" });
  assert.throws(() => loadTokenizer(dir), /eos_token "<missing>" is not in the vocabulary/);
  fs.writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ chat_template: 5 }));
  assert.throws(() => loadTokenizer(dir), /tokenizer_config\.json: field "chat_template"/);

  const config = presetConfig("qwen2.5-0.5b");
  checkTokenizerFitsModel(qwen, config, "qwen-dir");
  assert.throws(
    () => checkTokenizerFitsModel(qwen, { ...config, vocabSize: 1000 }, "qwen-dir"),
    /qwen-dir: tokenizer\/vocab size mismatch: the tokenizer has ids up to 151668 but config\.json vocab_size is 1000/,
  );
});
