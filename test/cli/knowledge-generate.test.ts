/**
 * `seal knowledge generate` end to end on a tiny Qwen2-shaped model with Qwen3's real tokenizer: the reference's
 * record format, determinism, resume after a simulated crash, refused resume with other options.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { type Passage, readSelfEditFile } from "../../src/domains/knowledge/data.js";
import { buildSelfEditPrompt } from "../../src/domains/knowledge/prompts.js";
import { knowledgeDataPath } from "../domains/knowledge/shared-data.js";
import { createTinyModel, seal, sealResult } from "./cli-fixtures.js";

const { root, model } = createTinyModel("seal-cli-knowledge-generate-");

/** The first 3 passages of the reference's squad_val.json when it is here, else 3 made-up ones. */
function passages(): Passage[] {
  const reference = knowledgeDataPath("squad_val.json");
  if (fs.existsSync(reference)) return (JSON.parse(fs.readFileSync(reference, "utf8")) as Passage[]).slice(0, 3);
  return [0, 1, 2].map((i) => ({
    title: `Topic ${i}`,
    context: `Passage ${i} says that the river ${i} flows north into the lake.`,
    questions: [{ question: `Where does river ${i} flow?`, answer: "north" }],
  }));
}

const DATA = path.join(root, "passages.json");
fs.writeFileSync(DATA, JSON.stringify(passages()));
/** k=2 and batch 4: two passages per chunk, so 3 passages make chunks [0, 1] and [2]. */
const ARGS = ["--model", model, "--data", DATA, "--k", "2", "--max-tokens", "8", "--batch", "4", "--seed", "3"];

function run(out: string, extra: string[] = []): string {
  return seal(["knowledge", "generate", ...ARGS, "--out", out, ...extra]);
}

const uninterrupted = path.join(root, "run-a");
run(uninterrupted);
const selfEditsText = fs.readFileSync(path.join(uninterrupted, "self_edits.json"), "utf8");

test("knowledge generate --help lists its options", () => {
  const help = seal(["knowledge", "generate", "--help"]);
  for (const option of ["--model", "--data", "--out", "--style", "--template", "--chat", "--k", "--temperature"])
    assert.ok(help.includes(option), `--help mentions ${option}`);
  for (const option of ["--top-p", "--top-k", "--max-tokens", "--seed", "--batch", "--start", "--limit", "--resume"])
    assert.ok(help.includes(option), `--help mentions ${option}`);
});

test("writes the reference's format: source record + k stripped completions + the exact prompt", () => {
  const source = passages();
  const records = readSelfEditFile(path.join(uninterrupted, "self_edits.json"));
  assert.equal(records.length, 3);
  records.forEach((record, i) => {
    assert.equal(record.title, source[i].title);
    assert.equal(record.context, source[i].context);
    assert.deepEqual(record.questions, source[i].questions);
    assert.equal(record.prompt, buildSelfEditPrompt("implications", source[i].title, source[i].context));
    assert.equal(record.completions.length, 2);
    for (const completion of record.completions) assert.equal(completion, completion.trim());
  });
  const log = fs.readFileSync(path.join(uninterrupted, "self-edits.jsonl"), "utf8").trim().split("\n");
  assert.deepEqual(
    log.map((line) => (JSON.parse(line) as { key: string }).key),
    ["passage-0", "passage-1", "passage-2"],
  );
  const summary = JSON.parse(fs.readFileSync(path.join(uninterrupted, "summary.json"), "utf8")) as Record<
    string,
    unknown
  >;
  assert.equal(summary.passages, 3);
  assert.equal(summary.k, 2);
  assert.equal(summary.completions, 6);
  assert.equal(typeof summary.emptyCompletions, "number");
  assert.ok((summary.meanCompletionTokens as number) >= 1 && (summary.meanCompletionTokens as number) <= 8);
  assert.ok((summary.tokensPerSecond as number) > 0);
  assert.match(fs.readFileSync(path.join(uninterrupted, "summary.md"), "utf8"), /\| passages \| 3 of 3 \|/);
  const info = JSON.parse(fs.readFileSync(path.join(uninterrupted, "run.json"), "utf8")) as {
    command: string;
    config: Record<string, unknown>;
  };
  assert.equal(info.command, "knowledge generate");
  assert.equal(info.config.topP, 0.95, "reference default top-p");
  assert.equal(info.config.style, "implications");
});

test("the same seed gives the same file; --start/--limit take a slice with the same samples", () => {
  const again = path.join(root, "run-b");
  run(again);
  assert.equal(fs.readFileSync(path.join(again, "self_edits.json"), "utf8"), selfEditsText);
  // Passages 0 and 1 form one aligned chunk, so the slice samples them exactly as the full run did.
  const slice = path.join(root, "run-slice");
  run(slice, ["--start", "0", "--limit", "2"]);
  const full = readSelfEditFile(path.join(uninterrupted, "self_edits.json"));
  assert.deepEqual(readSelfEditFile(path.join(slice, "self_edits.json")), full.slice(0, 2));
});

test("resume after a crash mid-chunk ends with the uninterrupted run's file; other options are refused", () => {
  const crashed = path.join(root, "run-crashed");
  fs.cpSync(uninterrupted, crashed, { recursive: true });
  // What a kill during the first chunk's appends leaves: passage-0 recorded, passage-1 torn, no later output.
  const logFile = path.join(crashed, "self-edits.jsonl");
  const lines = fs.readFileSync(logFile, "utf8").split("\n");
  fs.writeFileSync(logFile, `${lines[0]}\n${lines[1].slice(0, 40)}`);
  fs.rmSync(path.join(crashed, "self_edits.json"));
  fs.rmSync(path.join(crashed, "summary.json"));

  const refused = sealResult(["knowledge", "generate", ...ARGS, "--k", "3", "--resume", crashed]);
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    /cannot resume, 1 field\(s\) differ from the stored run:\n {2}config\.k: run has 2, now 3/,
  );
  const notEmpty = sealResult(["knowledge", "generate", ...ARGS, "--out", crashed]);
  assert.equal(notEmpty.status, 1);
  assert.match(notEmpty.stderr, /run folder is not empty: it holds a run \(run\.json\); resume it \(--resume\)/);

  run(crashed, ["--resume"]);
  assert.equal(fs.readFileSync(path.join(crashed, "self_edits.json"), "utf8"), selfEditsText);
  const keys = fs
    .readFileSync(logFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { key: string }).key);
  assert.deepEqual(keys, ["passage-0", "passage-1", "passage-2"]);
});

test("--chat renders the prompt as a user message; --style and --template conflict", () => {
  const chat = path.join(root, "run-chat");
  run(chat, ["--chat", "--limit", "1", "--style", "self-qa"]);
  const [record] = readSelfEditFile(path.join(chat, "self_edits.json"));
  const source = passages()[0];
  assert.ok(record.prompt.startsWith("<|im_start|>user\n"), record.prompt.slice(0, 40));
  assert.ok(record.prompt.includes(buildSelfEditPrompt("self-qa", source.title, source.context).trimEnd()));
  assert.ok(record.prompt.endsWith("<|im_start|>assistant\n"));

  const template = path.join(root, "template.txt");
  fs.writeFileSync(template, "Notes on {title}:\n{context}\n");
  const templated = path.join(root, "run-template");
  run(templated, ["--template", template, "--limit", "1"]);
  assert.equal(
    readSelfEditFile(path.join(templated, "self_edits.json"))[0].prompt,
    `Notes on ${source.title}:\n${source.context}\n`,
  );
  const both = sealResult([
    "knowledge",
    "generate",
    ...ARGS,
    "--style",
    "rewrite",
    "--template",
    template,
    "--out",
    path.join(root, "run-both"),
  ]);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /give --style or --template, not both/);
  const badStyle = sealResult(["knowledge", "generate", ...ARGS, "--style", "poems", "--out", path.join(root, "x")]);
  assert.equal(badStyle.status, 1);
  assert.match(badStyle.stderr, /expected one of implications, implications-long/);
});
