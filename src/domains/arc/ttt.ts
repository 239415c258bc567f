/**
 * ARC's inner loop, test-time training (reference-implementation.md §2.4–2.5): from one task's demonstrations and a
 * self-edit's tool choices, build the TTT data (leave-n tasks, the chosen augmentations, permutations, size and
 * token filters, the cap), render it with the model's chat template, and train a LoRA adapter with the self-edit's
 * learning rate, epochs and loss strategy.
 *
 * Every adapter of a run starts from the same A matrices (one seed), as the reference restores A before each task;
 * B starts at zero (PEFT), so an adapter that trains nothing has no effect, which is how an invalid self-edit is
 * applied. A task whose TTT data comes out empty gets no adapter at all, as in the reference.
 */
import type { Projection } from "../../engine/config.js";
import type { DivergenceRecord } from "../../engine/divergence.js";
import { createLoraAdapter, type LoraAdapter, type LoraConfig } from "../../engine/lora.js";
import type { Model } from "../../engine/model.js";
import { Rng } from "../../engine/random.js";
import type { TrainOptions } from "../../engine/train.js";
import { type AdapterJob, trainMany } from "../../engine/train-many.js";
import { crashPoint } from "../../io/crash-point.js";
import type { TextTokenizer } from "../../io/tokenizer.js";
import { selectAugmenters } from "./augment.js";
import {
  type ChatRenderOptions,
  type ChatTrainingExample,
  DEFAULT_CHAT_RENDER,
  encodeTrainingExample,
  renderTrainingText,
} from "./chat-examples.js";
import type { ArcTask, Example } from "./grid.js";
import { tttAnswerText, tttPromptMessages } from "./messages.js";
import {
  type RawSelfEditConfig,
  resolveSelfEditTraining,
  SELF_EDIT_TTT_BATCH_SIZE,
  type SelfEditConfig,
} from "./self-edit-config.js";
import { buildTttData, type LeaveNStats, TTT_DATA_DEFAULTS, type TttDataOptions } from "./ttt-data.js";

export const TTT_TARGETS: readonly Projection[] = ["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"];

export interface TttSettings {
  lora: LoraConfig;
  /** Seed of the A matrices every adapter of the run shares. */
  loraSeed: number;
  /** Training settings the self-edit does not choose. */
  batchSize: number;
  gradientAccumulation: number;
  warmupSteps: number;
  maxGradNorm: number;
  data: Omit<TttDataOptions, "augmenters" | "tokenCount">;
  chat: ChatRenderOptions;
  /** Seed of the data shuffling during training. */
  seed: number;
}

/** The reference's `self-edit.py` settings: r=128, α=16, 5 targets, batch 2, cosine with 11 warmup steps. */
export const REFERENCE_TTT: Readonly<TttSettings> = {
  lora: { rank: 128, alpha: 16, dropout: 0, targets: [...TTT_TARGETS] },
  loraSeed: 0,
  batchSize: SELF_EDIT_TTT_BATCH_SIZE,
  gradientAccumulation: 1,
  warmupSteps: 11,
  maxGradNorm: 1,
  data: { ...TTT_DATA_DEFAULTS },
  chat: DEFAULT_CHAT_RENDER,
  seed: 0,
};

export interface TttOutcome {
  /**
   * "trained"; "zero-effect" (invalid self-edit or 0 epochs: B stays zero); "no-data" (no adapter at all);
   * "diverged" (training stopped on a non-finite loss or gradient: no adapter, scored wrong).
   */
  status: "trained" | "zero-effect" | "no-data" | "diverged";
  valid: boolean;
  reason: string | null;
  examples: number;
  dataStats: LeaveNStats[];
  strategy: string;
  learningRate: number;
  epochs: number;
  steps: number;
  trainedTokens: number;
  firstLoss: number | null;
  lastLoss: number | null;
  /** Every optimizer step's loss, in order. */
  losses: number[];
  /** The config as the reference records it (fields zeroed where its checks zeroed them). */
  recordedConfig: RawSelfEditConfig;
  seconds: { data: number; train: number };
  /** Where and why the training diverged (status "diverged"). */
  divergence?: DivergenceRecord;
}

export interface TttResult {
  adapter: LoraAdapter | null;
  outcome: TttOutcome;
}

/** Builds the TTT examples of `instance`'s demonstrations for a self-edit (tokenized, with loss masks). */
export function buildTttExamples(
  tokenizer: TextTokenizer,
  instance: ArcTask,
  config: SelfEditConfig,
  settings: TttSettings,
): { examples: ChatTrainingExample[]; stats: LeaveNStats[] } {
  const messagesOf = (task: ArcTask) => {
    const test = task.test[0] as Example;
    return { messages: tttPromptMessages(task.train, test.input), answer: tttAnswerText(test.output) };
  };
  // The filter only asks whether a text has fewer than maxTokens tokens. A token covers at least one byte of the
  // text (a tokenizer may add one leading space), so a text that short needs no tokenizing; only the examples kept
  // after the cap are encoded with their masks (each candidate once: the reference formats them all).
  const { maxTokens } = settings.data;
  const tokenCount = (task: ArcTask): number => {
    const { messages, answer } = messagesOf(task);
    const text = renderTrainingText(tokenizer, messages, answer, settings.chat);
    const bound = Buffer.byteLength(text, "utf8") + 1;
    return bound < maxTokens ? bound : tokenizer.encode(text, { addSpecialTokens: false }).length;
  };
  const data = buildTttData(instance, {
    ...settings.data,
    augmenters: selectAugmenters(config.augmentations),
    tokenCount,
  });
  const examples = data.tasks.map((t) => {
    const { messages, answer } = messagesOf(t.task);
    return encodeTrainingExample(tokenizer, messages, answer, config.strategy, settings.chat);
  });
  return { examples, stats: data.perN };
}

/** One inner loop to run: a task's demonstrations and a self-edit's configuration. */
export interface TttUnit {
  instance: ArcTask;
  config: SelfEditConfig;
}

type ResolvedTraining = ReturnType<typeof resolveSelfEditTraining>;

/** What a unit needs before training: done already (no data, zero effect), or an adapter job for trainMany. */
type PreparedTtt =
  | { kind: "done"; result: TttResult }
  | {
      kind: "train";
      job: AdapterJob;
      base: Omit<
        TttOutcome,
        "status" | "epochs" | "steps" | "trainedTokens" | "firstLoss" | "lastLoss" | "losses" | "seconds"
      >;
      epochs: number;
      dataSeconds: number;
    };

function untrained(
  adapter: LoraAdapter | null,
  base: Extract<PreparedTtt, { kind: "train" }>["base"],
  status: "no-data" | "zero-effect",
  epochs: number,
  dataSeconds: number,
): PreparedTtt {
  const outcome: TttOutcome = {
    ...base,
    status,
    epochs,
    steps: 0,
    trainedTokens: 0,
    firstLoss: null,
    lastLoss: null,
    losses: [],
    seconds: { data: dataSeconds, train: 0 },
  };
  return { kind: "done", result: { adapter, outcome } };
}

/** HF Trainer's settings for a self-edit's training: ceil(epochs × steps per epoch) steps, cosine, no decay. */
function trainOptionsOf(training: ResolvedTraining, examples: number, settings: TttSettings): Partial<TrainOptions> {
  // `optimizerSteps` assumes the reference's batch of 2; the steps follow the batch actually used
  const stepsPerEpoch = Math.ceil(examples / (settings.batchSize * settings.gradientAccumulation));
  return {
    epochs: Math.ceil(training.epochs),
    maxSteps: Math.ceil(training.epochs * stepsPerEpoch),
    lr: training.learningRate,
    batchSize: settings.batchSize,
    gradientAccumulation: settings.gradientAccumulation,
    schedule: "cosine",
    warmupSteps: settings.warmupSteps,
    maxGradNorm: settings.maxGradNorm,
    weightDecay: 0,
    seed: settings.seed,
    shuffle: true,
  };
}

function prepareTtt(model: Model, tokenizer: TextTokenizer, unit: TttUnit, settings: TttSettings): PreparedTtt {
  const dataStarted = performance.now();
  const { examples, stats } = buildTttExamples(tokenizer, unit.instance, unit.config, settings);
  const dataSeconds = (performance.now() - dataStarted) / 1000;
  const training = resolveSelfEditTraining(unit.config, examples.length);
  const base = {
    valid: training.valid,
    reason: training.reason,
    examples: examples.length,
    dataStats: stats,
    strategy: training.strategy,
    learningRate: training.learningRate,
    recordedConfig: training.recordedConfig,
  };
  if (examples.length === 0) return untrained(null, base, "no-data", 0, dataSeconds);
  const adapter = createLoraAdapter(model.config, settings.lora, new Rng(settings.loraSeed));
  if (training.epochs <= 0 || training.optimizerSteps <= 0 || !(training.learningRate > 0))
    return untrained(adapter, base, "zero-effect", training.epochs, dataSeconds);
  const job = { examples, adapter, options: trainOptionsOf(training, examples.length, settings) };
  return { kind: "train", job, base, epochs: training.epochs, dataSeconds };
}

/**
 * Runs several inner loops at once: their adapters train together over one pass of the base model per step
 * (trainMany: each as if alone, up to float rounding). A diverging unit stops alone and keeps no adapter (its
 * values are NaN); arc eval scores it wrong. Training seconds are the group's, shared among its trained units.
 */
export function runTttMany(
  model: Model,
  tokenizer: TextTokenizer,
  units: readonly TttUnit[],
  settings: TttSettings,
  onStep?: (unit: number, step: number, totalSteps: number, loss: number) => void,
): TttResult[] {
  const prepared = units.map((unit) => prepareTtt(model, tokenizer, unit, settings));
  const training = prepared.flatMap((p, unit) => (p.kind === "train" ? [{ unit, p }] : []));
  const losses: number[][] = training.map(() => []);
  const trainStarted = performance.now();
  const outcomes = trainMany(
    model,
    training.map(({ p }) => p.job),
    {},
    (job, report) => {
      losses[job].push(report.loss);
      onStep?.(training[job].unit, report.step, report.totalSteps, report.loss);
      crashPoint("train-step", "ttt");
    },
  );
  const trainSeconds = (performance.now() - trainStarted) / 1000 / Math.max(1, training.length);
  const results = prepared.map((p) => (p.kind === "done" ? p.result : null));
  training.forEach(({ unit, p }, j) => {
    const outcome = outcomes[j];
    const mine = losses[j];
    const common = {
      ...p.base,
      epochs: p.epochs,
      firstLoss: mine[0] ?? null,
      lastLoss: mine[mine.length - 1] ?? null,
      losses: mine,
      seconds: { data: p.dataSeconds, train: trainSeconds },
    };
    results[unit] = outcome.ok
      ? {
          adapter: p.job.adapter,
          outcome: {
            ...common,
            status: "trained",
            steps: outcome.result.steps,
            trainedTokens: outcome.result.tokensTrained,
          },
        }
      : {
          adapter: null,
          outcome: {
            ...common,
            status: "diverged",
            steps: mine.length,
            trainedTokens: 0,
            divergence: outcome.error.toRecord(),
          },
        };
  });
  return results as TttResult[];
}

/** Runs the inner loop for one task and self-edit; the model's own adapter slot is left as it was. */
export function runTtt(
  model: Model,
  tokenizer: TextTokenizer,
  instance: ArcTask,
  config: SelfEditConfig,
  settings: TttSettings,
  onStep?: (step: number, totalSteps: number, loss: number) => void,
): TttResult {
  const [result] = runTttMany(
    model,
    tokenizer,
    [{ instance, config }],
    settings,
    onStep && ((_, step, total, loss) => onStep(step, total, loss)),
  );
  return result;
}
