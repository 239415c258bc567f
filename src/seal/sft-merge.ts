/**
 * The M-step of SEAL's outer loop (ReST-EM, and ARC's behaviour cloning): finetune a generator on prompt → chosen
 * completion rows (completion-only loss) through a fresh LoRA adapter, merge the adapter into the weights, and save
 * the result as a new model folder.
 */
import { TrainingDivergedError } from "../engine/divergence.js";
import { createLoraAdapter, type LoraConfig, mergeAdapter } from "../engine/lora.js";
import { Model } from "../engine/model.js";
import { Rng } from "../engine/random.js";
import type { ScheduleName } from "../engine/schedule.js";
import { type StepReport, type TrainOptions, trainSft } from "../engine/train.js";
import { writeDirectoryAtomically } from "../io/atomic-file.js";
import { crashPoint } from "../io/crash-point.js";
import { type LoadedModel, loadModel, saveModel } from "../io/model-files.js";
import { checkpointDtype, copyGenerationConfig, copyTokenizerFiles } from "../io/model-folder.js";
import { checkTokenizerFitsModel, loadTokenizer, type TextTokenizer, tokenizerDir } from "../io/tokenizer.js";
import { type SftRow, sftEosTokenId, tokenizeSftRows } from "./sft-rows.js";
import { mean } from "./stats.js";

/** The M-step's settings (no warmup, global-norm clipping at 1, no weight decay: HF Trainer's defaults). */
export interface SftSettings {
  lora: LoraConfig;
  lr: number;
  epochs: number;
  batchSize: number;
  gradientAccumulation: number;
  schedule: ScheduleName;
  seed: number;
}

export interface SftOutcome {
  rows: number;
  steps: number;
  stepLosses: number[];
  /** Mean step loss of the first and the last epoch (nats per completion token). */
  firstEpochLoss: number;
  lastEpochLoss: number;
  completionTokens: number;
  seconds: number;
}

/**
 * Finetunes `loaded` (in place) on the rows with completion-only loss through a fresh LoRA adapter, then merges
 * the adapter into its weights. The caller saves the result.
 */
export function sftAndMerge(
  loaded: LoadedModel,
  tokenizer: TextTokenizer,
  rows: readonly SftRow[],
  settings: SftSettings,
  onStep?: (report: StepReport) => void,
): SftOutcome {
  if (rows.length === 0) throw new Error("no SFT rows to train on");
  const examples = tokenizeSftRows(tokenizer, rows, sftEosTokenId(tokenizer, loaded.eosTokenIds));
  const model = new Model(loaded.config, loaded.weights);
  const adapter = createLoraAdapter(loaded.config, settings.lora, new Rng(settings.seed));
  const options: Partial<TrainOptions> = {
    epochs: settings.epochs,
    lr: settings.lr,
    batchSize: settings.batchSize,
    gradientAccumulation: settings.gradientAccumulation,
    schedule: settings.schedule,
    warmupRatio: 0,
    warmupSteps: 0,
    maxGradNorm: 1,
    weightDecay: 0,
    seed: settings.seed,
    shuffle: true,
  };
  const stepLosses: number[] = [];
  const epochLosses = new Map<number, number[]>();
  const result = trainSft(model, examples, { kind: "lora", adapter }, options, (report) => {
    stepLosses.push(report.loss);
    const list = epochLosses.get(report.epoch) ?? [];
    list.push(report.loss);
    epochLosses.set(report.epoch, list);
    onStep?.(report);
    crashPoint("train-step", "sft");
  });
  model.adapter = null;
  mergeAdapter(loaded.config, loaded.weights, adapter);
  const epochs = [...epochLosses.keys()].sort((a, b) => a - b);
  return {
    rows: rows.length,
    steps: result.steps,
    stepLosses,
    firstEpochLoss: mean(epochLosses.get(epochs[0]) ?? [Number.NaN]),
    lastEpochLoss: mean(epochLosses.get(epochs[epochs.length - 1]) ?? [Number.NaN]),
    completionTokens: examples.reduce((sum, example) => sum + example.completionTokens, 0),
    seconds: result.seconds,
  };
}

/**
 * Loads `generatorDir`, runs sftAndMerge on `rows`, and saves the merged model (same on-disk dtype, tokenizer and
 * generation config copied) to `outDir`: written to `{outDir}.partial`, then renamed, so a crash never leaves a
 * half-written checkpoint under the final name. A diverged SFT stops with a TrainingDivergedError (nothing is
 * written); `divergenceHint` says which flags to lower. `addFiles` writes more files into the folder before the
 * rename (e.g. a summary that must not be missing from a checkpoint that exists).
 */
export function sftMergeSave(
  generatorDir: string,
  rows: readonly SftRow[],
  settings: SftSettings,
  outDir: string,
  log: (line: string) => void,
  options: {
    divergenceHint?: string;
    addFiles?: (partialDir: string, outcome: SftOutcome) => void;
  } = {},
): SftOutcome {
  const loaded = loadModel(generatorDir);
  const tokenizer = loadTokenizer(generatorDir);
  checkTokenizerFitsModel(tokenizer, loaded.config, generatorDir);
  log(`SFT on ${rows.length} rows: LoRA r${settings.lora.rank} α${settings.lora.alpha}, ${settings.epochs} epochs`);
  const divergenceHint = options.divergenceHint ?? "lower the SFT learning rate (or the LoRA alpha)";
  let outcome: SftOutcome;
  try {
    outcome = sftAndMerge(loaded, tokenizer, rows, settings, (step) =>
      log(`  SFT step ${step.step}/${step.totalSteps} loss ${step.loss.toFixed(4)}`),
    );
  } catch (error) {
    if (!(error instanceof TrainingDivergedError)) throw error;
    throw error.withHint(`no checkpoint was written to ${outDir}; ${divergenceHint}`, "SFT of the merged checkpoint");
  }
  writeDirectoryAtomically(outDir, (partial) => {
    saveModel(partial, {
      config: loaded.config,
      weights: loaded.weights,
      dtype: checkpointDtype(generatorDir),
      eosTokenIds: loaded.eosTokenIds,
    });
    copyGenerationConfig(generatorDir, partial);
    copyTokenizerFiles(tokenizerDir(generatorDir), partial);
    options.addFiles?.(partial, outcome);
  });
  return outcome;
}
