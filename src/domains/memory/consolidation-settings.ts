/**
 * The settings of one consolidation (the SEAL step of `seal serve`): how self-edits are sampled, the LoRA and its
 * training, replay, probe generation, closed-book answering and the promotion gate. They are plain JSON, stored in
 * the consolidation's row when it starts, so a resumed consolidation runs with exactly the settings it began with.
 *
 * SEAL-mini (a model folder with seal_mini.json) gets the `seal demo` inner loop, the settings measured to work on
 * a 3.7 M-parameter model (r=32/α=64 on every projection, lr 3e-3, 10 epochs, 24 answer tokens, 2 self-edits of up
 * to 320 tokens at temperature 1); any other model gets the reference's (r=32/α=64 on q/v, lr 1e-3, 10 epochs,
 * 64 answer tokens, 5 self-edits of up to 8192 tokens).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { PROJECTIONS } from "../../engine/config.js";
import { SCHEDULE_NAMES, type ScheduleName } from "../../engine/schedule.js";
import { describeIssues } from "../../io/json-file.js";
import { REFERENCE_INNER_LOOP } from "../knowledge/inner-loop.js";
import { SELF_EDIT_PROMPT_STYLES } from "../knowledge/prompts.js";
import { REFERENCE_SELF_EDIT_SAMPLING } from "../knowledge/self-edits.js";
import { MINI_MODEL_INFO_FILE } from "../mini/model-config.js";

/**
 * `seal demo`'s inner loop and self-edit sampling (DEMO_SETTINGS in cli/commands/demo-run.ts, which this layer may
 * not import; a test checks the two agree). Answers get 24 tokens there too.
 */
export const DEMO_INNER_LOOP = {
  rank: 32,
  alpha: 64,
  targets: PROJECTIONS,
  lr: 3e-3,
  epochs: 10,
  maxAnswerTokens: 24,
} as const;
export const DEMO_SELF_EDIT_SAMPLING = { k: 2, temperature: 1, topP: 0.95, maxTokens: 320 } as const;

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);

export const consolidationSettingsSchema = z
  .object({
    /** Which preset the settings came from (informative). */
    preset: z.enum(["seal-mini", "reference"]),
    selfEdits: z
      .object({
        style: z.enum(SELF_EDIT_PROMPT_STYLES),
        /** Self-edits written per document. */
        k: positiveInt,
        temperature: z.number().min(0),
        topP: z.number().gt(0).max(1),
        topK: nonNegativeInt,
        maxTokens: positiveInt,
        /** Sequences sampled together. */
        batch: positiveInt,
      })
      .strict(),
    lora: z
      .object({
        rank: positiveInt,
        alpha: z.number().positive(),
        dropout: z.number().min(0).lt(1),
        targets: z.array(z.enum(PROJECTIONS)).min(1),
      })
      .strict(),
    train: z
      .object({
        epochs: positiveInt,
        lr: z.number().positive(),
        batchSize: positiveInt,
        gradientAccumulation: positiveInt,
        schedule: z.enum(SCHEDULE_NAMES as [ScheduleName, ...ScheduleName[]]),
        warmupSteps: nonNegativeInt,
        maxGradNorm: z.number().min(0),
        weightDecay: z.number().min(0),
      })
      .strict(),
    /** One training sequence per self-edit line (the paper's setting). */
    splitNewlines: z.boolean(),
    addSpecialTokens: z.boolean(),
    answers: z.object({ maxTokens: positiveInt, batch: positiveInt }).strict(),
    /** Earlier documents (of the parent version) whose consolidated self-edits are trained again, against forgetting. */
    replay: z.object({ maxDocuments: nonNegativeInt }).strict(),
    probes: z
      .object({
        /**
         * The knowledge prompt the writer is given: "self-qa" (rewrite the passage as questions and answers) is the
         * default; "implications" harvests the `Question: … Answer: …` lines implications self-edits sometimes hold.
         */
        prompt: z.enum(["self-qa", "implications"]),
        samples: positiveInt,
        maxTokens: positiveInt,
        temperature: z.number().min(0),
        maxPerDocument: positiveInt,
        /** Keep a generated probe only when its answer and its question's names occur in the document. */
        requireGrounded: z.boolean(),
      })
      .strict(),
    /** Earlier documents whose probes are answered before and after (a seeded sample when there are more). */
    evaluation: z.object({ maxEarlierDocuments: nonNegativeInt }).strict(),
    gate: z
      .object({
        /** Largest drop of the earlier documents' probe accuracy (a fraction: 0.05 = 5 points) still promoted. */
        maxForgetting: fraction,
      })
      .strict(),
    seed: nonNegativeInt,
  })
  .strict();

export type ConsolidationSettings = z.output<typeof consolidationSettingsSchema>;

/** Validates settings read back from a consolidation row; errors name the field. */
export function parseConsolidationSettings(value: unknown): ConsolidationSettings {
  const result = consolidationSettingsSchema.safeParse(value);
  if (!result.success) throw new Error(`consolidation settings: ${describeIssues(result.error)}`);
  return result.data;
}

const COMMON = {
  splitNewlines: true,
  addSpecialTokens: REFERENCE_INNER_LOOP.addSpecialTokens,
  replay: { maxDocuments: 8 },
  evaluation: { maxEarlierDocuments: 24 },
  gate: { maxForgetting: 0.05 },
  seed: 0,
} as const;

function referenceTrain(overrides: { epochs?: number; lr?: number } = {}): ConsolidationSettings["train"] {
  const t = REFERENCE_INNER_LOOP.train;
  return {
    epochs: overrides.epochs ?? t.epochs ?? 10,
    lr: overrides.lr ?? t.lr ?? 1e-3,
    batchSize: t.batchSize ?? 1,
    gradientAccumulation: t.gradientAccumulation ?? 1,
    schedule: t.schedule ?? "linear",
    warmupSteps: t.warmupSteps ?? 0,
    maxGradNorm: t.maxGradNorm ?? 1,
    weightDecay: t.weightDecay ?? 0,
  };
}

/** The `seal demo` inner loop and self-edit sampling, for the shipped SEAL-mini model. */
export function sealMiniConsolidationSettings(): ConsolidationSettings {
  return {
    preset: "seal-mini",
    selfEdits: {
      style: "implications",
      k: DEMO_SELF_EDIT_SAMPLING.k,
      temperature: DEMO_SELF_EDIT_SAMPLING.temperature,
      topP: DEMO_SELF_EDIT_SAMPLING.topP,
      topK: 0,
      maxTokens: DEMO_SELF_EDIT_SAMPLING.maxTokens,
      batch: 16,
    },
    lora: {
      rank: DEMO_INNER_LOOP.rank,
      alpha: DEMO_INNER_LOOP.alpha,
      dropout: 0,
      targets: [...DEMO_INNER_LOOP.targets],
    },
    train: referenceTrain({ epochs: DEMO_INNER_LOOP.epochs, lr: DEMO_INNER_LOOP.lr }),
    answers: { maxTokens: DEMO_INNER_LOOP.maxAnswerTokens, batch: 16 },
    probes: {
      // SEAL-mini never saw the self-qa instruction, but sampled 32 times it writes Question/Answer lines, and the
      // grounding filter drops invented ones (measured on 10 held-out passages: 29 kept, all correct, 1-6 per passage).
      prompt: "self-qa",
      samples: 32,
      maxTokens: 160,
      temperature: 1,
      maxPerDocument: 6,
      requireGrounded: true,
    },
    ...COMMON,
  };
}

/** The reference's inner loop (§1.4–1.6) and self-edit sampling (§1.2), for any other model. */
export function referenceConsolidationSettings(): ConsolidationSettings {
  const lora = REFERENCE_INNER_LOOP.lora;
  const s = REFERENCE_SELF_EDIT_SAMPLING;
  return {
    preset: "reference",
    selfEdits: {
      style: "implications",
      k: s.k,
      temperature: s.temperature,
      topP: s.topP,
      topK: s.topK,
      maxTokens: s.maxTokens,
      batch: 16,
    },
    lora: { rank: lora.rank, alpha: lora.alpha, dropout: lora.dropout, targets: [...lora.targets] },
    train: referenceTrain(),
    answers: { maxTokens: REFERENCE_INNER_LOOP.maxAnswerTokens, batch: REFERENCE_INNER_LOOP.answerBatch },
    probes: {
      prompt: "self-qa",
      samples: 1,
      maxTokens: 1024,
      temperature: 0,
      maxPerDocument: 6,
      requireGrounded: true,
    },
    ...COMMON,
  };
}

/** SEAL-mini's settings when `modelDir` holds seal_mini.json, else the reference's. */
export function consolidationSettingsFor(modelDir: string): ConsolidationSettings {
  return fs.existsSync(path.join(modelDir, MINI_MODEL_INFO_FILE))
    ? sealMiniConsolidationSettings()
    : referenceConsolidationSettings();
}
