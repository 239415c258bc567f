/**
 * ARC TTT inner loops per hour on this machine, at the reference's settings (`self-edit.py`: LoRA r=128, α=16 on
 * q,v,gate,up,down; batch 2; cosine schedule with 11 warmup steps; up to 250 TTT examples), on a
 * Llama-3.2-1B-shaped random model with the Llama 3 tokenizer and the Llama 3.2 chat template, for one task of the
 * reference's 1B training subset and `ttt.py`'s fixed configuration (all augmentations, output-token loss, lr 1e-4,
 * 2 epochs). Breakdown: data build / train / predict.
 *
 *   npm run bench:arc                 # ≈ 10 minutes: a few optimizer and decode steps on the 1B shape
 *   npm run bench:arc -- --quick      # a smoke run on tiny-llama
 *
 * A full inner loop trains a 1B model over hundreds of thousands of tokens, hours on a CPU, so only part of it is
 * run: the TTT data is built in full (measured), `--train-steps` optimizer steps are run on batches drawn at random
 * from the loop's examples and the rest is extrapolated by processed tokens (a step's cost is close to linear in its
 * tokens at these lengths), and the
 * prediction's prefill and `--decode-steps` decode steps at the query batch are measured and extrapolated to every
 * query answering with the solution's length (a random model never stops; a trained one writes the grid and stops).
 * Every extrapolated figure is printed with what was measured and how it was scaled.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { encodePrompt } from "../src/domains/arc/chat-examples.js";
import { readArcTasks } from "../src/domains/arc/data.js";
import type { ArcTask } from "../src/domains/arc/grid.js";
import { tttAnswerText, tttPromptMessages } from "../src/domains/arc/messages.js";
import { shuffleInPlace } from "../src/domains/arc/permute.js";
import { REFERENCE_PREDICT } from "../src/domains/arc/predict.js";
import { buildQueries } from "../src/domains/arc/queries.js";
import { parseSelfEditConfig, resolveSelfEditTraining } from "../src/domains/arc/self-edit-config.js";
import { buildTttExamples, REFERENCE_TTT } from "../src/domains/arc/ttt.js";
import { KvCache } from "../src/engine/kv-cache.js";
import { createLoraAdapter } from "../src/engine/lora.js";
import { Model } from "../src/engine/model.js";
import { Rng } from "../src/engine/random.js";
import { argmax } from "../src/engine/sampling.js";
import { trainSft } from "../src/engine/train.js";
import { presetConfig } from "../src/io/presets.js";
import { createRandomModel } from "../src/io/random-model.js";
import { loadTokenizer } from "../src/io/tokenizer.js";
import { llama32TokenizerDir } from "../test/io/llama32-tokenizer.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ARC_DATA = path.join(repoRoot, "../shared/data/seal-reference/few-shot/data");

/** `ttt.py`'s fixed configuration, as a self-edit would write it. */
const TTT_PY_CONFIG = {
  data_generation: {
    use_basic_augmentations: true,
    use_size_augmentations: true,
    use_chain_augmentations: true,
    use_repeat_augmentations: true,
  },
  training: { strategy: "train_using_output_tokens", learning_rate: 1e-4, num_train_epochs: 2 },
};

interface Options {
  preset: string;
  task: string;
  challenges: string;
  solutions: string;
  trainSteps: number;
  decodeSteps: number;
  quick: boolean;
  json: boolean;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

function main(): void {
  const opts = new Command()
    .name("bench:arc")
    .description("ARC TTT inner loops per hour at the reference's settings (measured in part, extrapolated)")
    .option("--preset <name>", "model preset (random weights)", "llama-3.2-1b")
    .option("--task <id>", "task of the training challenges", "67e8384a")
    .option("--challenges <file>", "challenges file", path.join(ARC_DATA, "arc-agi_training_challenges.json"))
    .option("--solutions <file>", "solutions file", path.join(ARC_DATA, "arc-agi_training_solutions.json"))
    .option("--train-steps <n>", "optimizer steps measured", (v) => Number.parseInt(v, 10), 3)
    .option("--decode-steps <n>", "decode steps measured", (v) => Number.parseInt(v, 10), 4)
    .option("--quick", "a smoke run: tiny-llama, 2 steps each", false)
    .option("--json", "print one JSON line", false)
    .parse()
    .opts<Options>();
  if (opts.quick) {
    opts.preset = "tiny-llama";
    opts.trainSteps = Math.min(opts.trainSteps, 2);
    opts.decodeSteps = Math.min(opts.decodeSteps, 2);
  }
  const say = (line: string) => {
    if (!opts.json) process.stderr.write(`bench: ${line}\n`);
  };

  const task = readArcTasks(opts.challenges, opts.solutions).find((t) => t.id === opts.task);
  if (task === undefined) throw new Error(`${opts.challenges}: no task ${opts.task}`);
  const tokenizer = loadTokenizer(llama32TokenizerDir());
  const preset = presetConfig(opts.preset);
  const config = {
    ...preset,
    vocabSize: Math.max(preset.vocabSize, tokenizer.vocabSize),
    maxPositionEmbeddings: Math.max(preset.maxPositionEmbeddings, 8192),
  };
  say(`building a random ${opts.preset} model…`);
  const model = new Model(config, createRandomModel(config, 0));
  const settings = REFERENCE_TTT;
  const parsed = parseSelfEditConfig(JSON.stringify(TTT_PY_CONFIG), { strictJson: true });
  if (parsed.kind !== "config") throw new Error("the ttt.py config does not parse");

  // 1. the TTT data, built in full
  let t = performance.now();
  const { examples } = buildTttExamples(tokenizer, task, parsed, settings);
  const dataSeconds = seconds(t);
  const training = resolveSelfEditTraining(parsed, examples.length);
  const exampleTokens = examples.map((e) => e.tokens.length);
  const stepsPerEpoch = Math.ceil(examples.length / settings.batchSize);
  const totalSteps = Math.ceil(training.epochs * stepsPerEpoch);
  const totalTrainTokens = training.epochs * exampleTokens.reduce((a, b) => a + b, 0);
  say(
    `task ${task.id}: ${examples.length} TTT examples of ${Math.min(...exampleTokens)}–${Math.max(...exampleTokens)} tokens ` +
      `(built in ${dataSeconds.toFixed(2)} s); the loop: ${totalSteps} steps over ${totalTrainTokens} tokens`,
  );

  // 2. training: `--train-steps` optimizer steps on batches drawn at random from the loop's examples, at the loop's
  // settings; the rest extrapolated by processed tokens (a step's cost is the forward and backward of its batch)
  const adapter = createLoraAdapter(config, settings.lora, new Rng(settings.loraSeed));
  const measuredSteps = Math.min(opts.trainSteps, totalSteps);
  const drawn = shuffleInPlace(
    examples.map((_, i) => i),
    new Rng(settings.seed),
  )
    .slice(0, measuredSteps * settings.batchSize)
    .map((i) => examples[i]);
  const steps: { tokens: number; seconds: number }[] = [];
  t = performance.now();
  trainSft(
    model,
    drawn,
    { kind: "lora", adapter },
    {
      epochs: 1,
      maxSteps: measuredSteps,
      lr: training.learningRate,
      batchSize: settings.batchSize,
      gradientAccumulation: settings.gradientAccumulation,
      schedule: "cosine",
      warmupSteps: 0,
      maxGradNorm: settings.maxGradNorm,
      weightDecay: 0,
      seed: settings.seed,
      shuffle: false,
    },
    (report) => {
      const batch = drawn.slice((report.step - 1) * settings.batchSize, report.step * settings.batchSize);
      const tokens = batch.reduce((sum, e) => sum + e.tokens.length, 0);
      const stepSeconds = report.tokens / report.tokensPerSecond;
      steps.push({ tokens, seconds: stepSeconds });
      say(`train step ${report.step}: ${tokens} tokens (${report.tokens} with loss) in ${stepSeconds.toFixed(2)} s`);
    },
  );
  const measuredTrainSeconds = seconds(t);
  // the first step also allocates the activation arena; leave it out when there are others
  const timed = steps.length > 1 ? steps.slice(1) : steps;
  const trainTokensPerSecond =
    timed.reduce((sum, s) => sum + s.tokens, 0) / timed.reduce((sum, s) => sum + s.seconds, 0);
  const trainSeconds = totalTrainTokens / trainTokensPerSecond;

  // 3. prediction with the adapter: queries of the first test input; prefill and decode measured on one batch
  model.adapter = adapter;
  const instance: ArcTask = { id: `${task.id}-0`, train: task.train, test: [task.test[0]] };
  const solution = task.test[0].output!;
  const answerTokens = tokenizer.encode(tttAnswerText(solution), { addSpecialTokens: false }).length + 1;
  const prompt = (q: { task: ArcTask }) =>
    encodePrompt(tokenizer, tttPromptMessages(q.task.train, q.task.test[0].input), REFERENCE_PREDICT.chat);
  const { queries } = buildQueries(instance, {
    ...REFERENCE_PREDICT.queries,
    tokenCount: (q) => prompt(q).length + answerTokens - 1,
  });
  const prompts = queries.map(prompt);
  const promptTokens = prompts.reduce((sum, p) => sum + p.length, 0);
  const batch = REFERENCE_PREDICT.batch;
  const sample = prompts.slice(0, batch);
  const sampleTokens = sample.reduce((sum, p) => sum + p.length, 0);
  // one batch of queries in a KV cache: each prompt prefilled, then greedy decode steps of all of them together
  const cache = new KvCache(config, sample.length, Math.max(...sample.map((p) => p.length)) + opts.decodeSteps + 2);
  const V = config.vocabSize;
  const last = new Int32Array(sample.length);
  t = performance.now();
  sample.forEach((ids, s) => {
    const logits = model.forwardCached(
      cache,
      Int32Array.from(ids),
      Int32Array.from(ids, (_, i) => i),
      new Int32Array(ids.length).fill(s),
      [ids.length - 1],
    );
    last[s] = argmax(logits.subarray(0, V));
  });
  const prefillSeconds = seconds(t);
  const stepSlots = Int32Array.from(sample, (_, s) => s);
  const outputRows = Array.from(sample, (_, s) => s);
  let decodeSeconds = 0;
  for (let step = 0; step <= opts.decodeSteps; step++) {
    const started = performance.now();
    const logits = model.forwardCached(
      cache,
      last,
      Int32Array.from(sample, (p) => p.length + step),
      stepSlots,
      outputRows,
    );
    for (let s = 0; s < sample.length; s++) last[s] = argmax(logits.subarray(s * V, (s + 1) * V));
    if (step > 0) decodeSeconds += seconds(started); // step 0 warms the decode buffers
  }
  const decodeStepSeconds = decodeSeconds / opts.decodeSteps;
  const prefillTokensPerSecond = sampleTokens / prefillSeconds;
  const waves = Math.ceil(prompts.length / batch);
  const predictSeconds = promptTokens / prefillTokensPerSecond + waves * answerTokens * decodeStepSeconds;
  model.adapter = null;

  const innerLoopSeconds = dataSeconds + trainSeconds + predictSeconds;
  const summary = {
    preset: opts.preset,
    task: task.id,
    examples: examples.length,
    example_tokens_mean: totalTrainTokens / training.epochs / examples.length,
    total_steps: totalSteps,
    total_train_tokens: totalTrainTokens,
    data_seconds: dataSeconds,
    measured_train_steps: steps.length,
    measured_train_seconds: measuredTrainSeconds,
    train_tokens_per_s: trainTokensPerSecond,
    train_seconds: trainSeconds,
    queries: prompts.length,
    query_tokens_mean: promptTokens / prompts.length,
    answer_tokens: answerTokens,
    prefill_tokens_per_s: prefillTokensPerSecond,
    decode_step_seconds: decodeStepSeconds,
    decode_batch: sample.length,
    predict_seconds: predictSeconds,
    inner_loop_seconds: innerLoopSeconds,
    inner_loops_per_hour: 3600 / innerLoopSeconds,
    peak_rss_mb: peakRssMb(),
  };
  if (opts.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(
    `model ${opts.preset} (random weights), Llama 3 tokenizer + Llama 3.2 chat template; task ${task.id} ` +
      `(${task.train.length} demonstrations); ttt.py's config (all augmentations, output tokens, lr 1e-4, 2 epochs); ` +
      `LoRA r${settings.lora.rank} α${settings.lora.alpha} on ${settings.lora.targets.join(",")}, batch ${settings.batchSize}`,
  );
  console.log(
    `data build   measured in full: ${examples.length} examples (mean ${f(summary.example_tokens_mean, 0)} tokens) in ${f(dataSeconds, 2)} s`,
  );
  console.log(
    `train        measured ${steps.length} of ${totalSteps} optimizer steps on random batches of the loop's examples (${f(measuredTrainSeconds)} s; ` +
      `${f(trainTokensPerSecond)} tokens/s${steps.length > 1 ? ", first step left out as warm-up" : ""}); ` +
      `extrapolated: ${totalTrainTokens} tokens / ${f(trainTokensPerSecond)} tokens/s = ${f(trainSeconds, 0)} s`,
  );
  console.log(
    `predict      ${prompts.length} queries (mean ${f(summary.query_tokens_mean, 0)} tokens), answers of ${answerTokens} tokens; ` +
      `measured prefill of ${sample.length} queries (${f(prefillTokensPerSecond)} tokens/s) and ${opts.decodeSteps} decode steps ` +
      `of the ${sample.length} together (${f(decodeStepSeconds, 2)} s/step, after one warm-up step); extrapolated: ${promptTokens} prompt tokens / ` +
      `${f(prefillTokensPerSecond)} + ${waves} waves × ${answerTokens} steps × ${f(decodeStepSeconds, 2)} s = ${f(predictSeconds)} s`,
  );
  console.log(
    `inner loop   ${f(dataSeconds, 1)} + ${f(trainSeconds, 0)} + ${f(predictSeconds, 0)} = ${f(innerLoopSeconds, 0)} s ` +
      `(${f(innerLoopSeconds / 3600, 2)} h) → ${f(summary.inner_loops_per_hour, 3)} inner loops per hour; peak RSS ${f(summary.peak_rss_mb, 0)} MB`,
  );
}

main();
