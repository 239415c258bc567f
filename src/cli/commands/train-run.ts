/** The work behind `seal train` (loaded only when the command runs, since it needs the native addon). */
import fs from "node:fs";
import path from "node:path";
import { type ModelConfig, projectionShape } from "../../engine/config.js";
import { TrainingDivergedError } from "../../engine/divergence.js";
import { createLoraAdapter, type LoraAdapter } from "../../engine/lora.js";
import { Model } from "../../engine/model.js";
import { Rng } from "../../engine/random.js";
import { type StepReport, type TrainOptions, type TrainResult, trainSft } from "../../engine/train.js";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { baseModelFingerprint } from "../../io/base-fingerprint.js";
import { writeJsonFile } from "../../io/json-file.js";
import { loadModel, saveModel } from "../../io/model-files.js";
import { copyGenerationConfig, copyTokenizerFiles, refuseOverwrite, samePath } from "../../io/model-folder.js";
import { checkOutputFolder } from "../../io/output-path.js";
import { ADAPTER_CONFIG_FILE, saveAdapter } from "../../io/peft.js";
import type { LoadableDtype } from "../../io/safetensors.js";
import { checkTokenizerFitsModel, loadTokenizer, tokenizerDir } from "../../io/tokenizer.js";
import { readJsonlFile, toJsonl } from "./jsonl.js";
import { TRAIN_CONFIG_FILE, TRAIN_LOG_FILE, type TrainCommandOptions } from "./train.js";
import { buildTrainData, parseTrainLines } from "./train-data.js";

/** One line of train_log.jsonl. */
export interface TrainLogRecord {
  step: number;
  total_steps: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping (null when clipping is off). */
  grad_norm: number | null;
  tokens: number;
  tokens_per_second: number;
}

export function formatStep(report: StepReport): string {
  const width = String(report.totalSteps).length;
  const gradNorm = Number.isNaN(report.gradNorm) ? "" : `  grad-norm ${report.gradNorm.toFixed(3)}`;
  return `step ${String(report.step).padStart(width)}/${report.totalSteps}  epoch ${report.epoch + 1}  loss ${report.loss.toFixed(4)}  lr ${report.lr.toExponential(2)}${gradNorm}  ${report.tokensPerSecond.toFixed(0)} tokens/s`;
}

/** A LoRA rank above min(in, out) of a target projection adds parameters but no capacity there: said once. */
function warnRankAboveProjections(
  config: ModelConfig,
  options: Pick<TrainCommandOptions, "rank" | "targets">,
  log: (line: string) => void,
): void {
  const narrow = options.targets
    .map((target) => ({ target, limit: Math.min(...projectionShape(config, target)) }))
    .filter(({ limit }) => options.rank > limit);
  if (narrow.length > 0)
    log(
      `warning: --rank ${options.rank} exceeds min(in, out) of ${narrow.map(({ target, limit }) => `${target} (${limit})`).join(", ")}: a rank above it adds no capacity`,
    );
}

export function runTrain(options: TrainCommandOptions, log: (line: string) => void): TrainResult {
  if (samePath(options.out, options.model)) throw new Error("--out must differ from --model");
  checkOutputFolder(options.out);
  refuseOverwrite(options.out, options.full ? "config.json" : ADAPTER_CONFIG_FILE, options.force);
  // The data's shape is checked before the model is loaded, so a bad line fails fast.
  const lines = parseTrainLines(readJsonlFile(options.data), options.data);
  const loaded = loadModel(options.model);
  const tokenizerSource = options.tokenizer ?? options.model;
  const tokenizer = loadTokenizer(tokenizerSource);
  checkTokenizerFitsModel(tokenizer, loaded.config, tokenizerSource);

  // Positions past max_position_embeddings would train RoPE extrapolation: examples are cut at the context.
  const maxLength = Math.min(options.maxLength, loaded.config.maxPositionEmbeddings);
  const data = buildTrainData(lines, tokenizer, {
    lossOnAllTokens: options.lossOnAllTokens === true,
    appendEos: options.eos,
    eosTokenId: tokenizer.eosTokenIds[0] ?? loaded.eosTokenIds[0] ?? null,
    maxLength,
  });
  if (data.truncated > 0)
    log(
      `warning: truncated ${data.truncated} of ${data.examples.length + data.skipped} examples to ${maxLength < options.maxLength ? `${maxLength} tokens, the model's max_position_embeddings (--max-length ${options.maxLength} is beyond it)` : `--max-length ${maxLength} tokens`}`,
    );
  if (!options.full) warnRankAboveProjections(loaded.config, options, log);
  if (data.skipped > 0) log(`warning: skipped ${data.skipped} examples with no token to train on`);
  if (data.examples.length === 0) throw new Error(`${options.data}: no example has a token to train on`);

  const model = new Model(loaded.config, loaded.weights);
  const trainOptions: Partial<TrainOptions> = {
    epochs: options.epochs,
    batchSize: options.batchSize,
    gradientAccumulation: options.gradAccum,
    lr: options.lr,
    schedule: options.schedule,
    warmupRatio: options.warmupRatio,
    warmupSteps: options.warmupSteps ?? null,
    maxGradNorm: options.maxGradNorm,
    weightDecay: options.weightDecay,
    seed: options.seed,
    shuffle: options.shuffle,
  };
  let adapter: LoraAdapter | null = null;
  if (!options.full)
    adapter = createLoraAdapter(
      loaded.config,
      { rank: options.rank, alpha: options.alpha, dropout: options.dropout, targets: options.targets },
      new Rng(options.seed),
    );
  log(
    `training ${options.full ? "all weights" : `a LoRA adapter (r ${options.rank}, alpha ${options.alpha}, ${options.targets.join(",")})`} on ${data.examples.length} examples (${data.targetTokens} target tokens), ${options.epochs} epochs`,
  );
  const records: TrainLogRecord[] = [];
  let result: TrainResult;
  try {
    result = trainSft(
      model,
      data.examples,
      adapter === null ? { kind: "full" } : { kind: "lora", adapter },
      trainOptions,
      (report) => {
        records.push({
          step: report.step,
          total_steps: report.totalSteps,
          epoch: report.epoch,
          loss: report.loss,
          lr: report.lr,
          grad_norm: Number.isNaN(report.gradNorm) ? null : report.gradNorm,
          tokens: report.tokens,
          tokens_per_second: report.tokensPerSecond,
        });
        log(formatStep(report));
      },
    );
  } catch (error) {
    if (!(error instanceof TrainingDivergedError)) throw error;
    const lower = adapter === null ? `--lr (${options.lr})` : `--lr (${options.lr}) or --alpha (${options.alpha})`;
    throw error.withHint(`nothing was written to ${options.out}; lower ${lower}`);
  }

  fs.mkdirSync(options.out, { recursive: true });
  if (adapter === null) {
    saveModel(options.out, {
      config: loaded.config,
      weights: model.weights,
      dtype: options.dtype.toUpperCase() as LoadableDtype,
      eosTokenIds: loaded.eosTokenIds,
    });
    copyGenerationConfig(options.model, options.out);
    copyTokenizerFiles(tokenizerDir(tokenizerSource), options.out);
  } else {
    saveAdapter(options.out, adapter, {
      baseModel: path.resolve(options.model),
      baseFingerprint: baseModelFingerprint(loaded.config, loaded.weights),
    });
  }
  writeFileAtomic(path.join(options.out, TRAIN_LOG_FILE), toJsonl(records));
  writeJsonFile(path.join(options.out, TRAIN_CONFIG_FILE), {
    model: path.resolve(options.model),
    data: path.resolve(options.data),
    kind: options.full ? "full" : "lora",
    lora: options.full
      ? null
      : { rank: options.rank, alpha: options.alpha, dropout: options.dropout, targets: options.targets },
    train_options: trainOptions,
    max_length: maxLength,
    loss_on_all_tokens: options.lossOnAllTokens === true,
    append_eos: options.eos,
    examples: data.examples.length,
    truncated: data.truncated,
    skipped: data.skipped,
    steps: result.steps,
    tokens_trained: result.tokensTrained,
    seconds: result.seconds,
    final_loss: result.losses[result.losses.length - 1] ?? null,
  });
  log(`wrote ${options.out} (${result.steps} steps in ${result.seconds.toFixed(1)} s)`);
  return result;
}
