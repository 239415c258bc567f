/**
 * The ARC self-edit: the model's JSON tool call choosing augmentations and a training configuration
 * (reference-implementation.md §2.2, `self-edit.py`). Nothing here throws on model output.
 *
 * Outcomes, in the reference's terms (its code either handles a case, or crashes; a crash is given a defined outcome):
 * - Text that is not JSON → `unparseable`; the caller samples again, as the reference does on `JSONDecodeError`.
 *   The reference calls `json.loads` on the whole text; by default we also accept an object embedded in other text or
 *   in a code fence (`strictJson: true` restores the reference's rule). A truncated object is unparseable. Python's
 *   `NaN`/`Infinity` literals are not JSON and are unparseable here (the reference would read them, then crash).
 * - JSON the reference cannot even turn into its de-duplication key → `unparseable` (it crashes there; sampling
 *   again is the nearest behaviour that does not stop the run): not an object, `data_generation` or `training`
 *   missing or not an object, or a list or object as a value inside either section (unhashable in Python).
 * - A missing augmentation key → no augmenters and 0 epochs (reference). A present one that is not a boolean is read
 *   with Python truthiness, as the reference's `if include_basic` does (`"false"` is true!, 0, "" and null are
 *   false), and noted.
 * - A missing `strategy`, `learning_rate` or `num_train_epochs` → 0 epochs, lr 0, all-token strategy (reference).
 * - An unknown strategy → 0 epochs (reference; its trainer would then mask to output tokens, so we report that).
 * - `learning_rate`: a boolean counts as 0/1 (a Python bool is an int); a finite number ≥ 0 is used as given, > 1
 *   included (the reference trains with it; noted). Negative, non-finite (`1e400` parses as Infinity) or not a
 *   number → 0 epochs, lr 0 (the reference's optimizer would raise, or train to NaN weights).
 * - `num_train_epochs`: a boolean counts as 0/1; 0 is valid and trains nothing (the reference trains no step); a
 *   fractional value is kept (the reference's HF Trainer runs ceil(epochs × steps per epoch) steps; see
 *   `optimizerSteps`) and noted. Negative (the reference trains no step), non-finite or not a number → 0 epochs.
 * - `epochs × examples // 2 > 375` (the TTT data size is known only later) → 0 epochs, in `resolveSelfEditTraining`.
 * - Unknown extra keys, at the top or inside the two sections → ignored and noted (the reference ignores them too,
 *   but the section extras are part of its de-duplication key, and of ours).
 * Every invalid case yields 0 epochs, i.e. a zero-effect ("dummy") adapter, and is recorded with its reason.
 */
import { z } from "zod";

export const AUGMENTATION_KEYS = [
  "use_basic_augmentations",
  "use_size_augmentations",
  "use_chain_augmentations",
  "use_repeat_augmentations",
] as const;
export const TRAINING_KEYS = ["strategy", "learning_rate", "num_train_epochs"] as const;
export const TRAINING_STRATEGIES = ["train_using_all_tokens", "train_using_output_tokens"] as const;
export type TrainingStrategy = (typeof TRAINING_STRATEGIES)[number];

/** The reference's cap on `epochs * len(train_data) // 2` (optimizer steps at batch 2). */
export const MAX_SELF_EDIT_STEPS = 375;
/** The reference's TTT batch size (`self-edit.py`), which the cap assumes. */
export const SELF_EDIT_TTT_BATCH_SIZE = 2;

/** Which augmenter families the TTT data uses (`get_augmenters`' four flags). */
export interface AugmentationChoice {
  basic: boolean;
  size: boolean;
  chain: boolean;
  repeat: boolean;
}

/** The JSON object the model wrote, as written (sections checked to be objects of JSON scalars). */
export interface RawSelfEditConfig {
  data_generation: Record<string, unknown>;
  training: Record<string, unknown>;
  [key: string]: unknown;
}

/** A readable config, with what it does before the TTT data size is known. */
export interface SelfEditConfig {
  raw: RawSelfEditConfig;
  /** "whole": the text was exactly one JSON value (the reference's rule); "embedded": found inside other text. */
  extraction: "whole" | "embedded";
  augmentations: AugmentationChoice;
  strategy: TrainingStrategy;
  learningRate: number;
  /** 0 when invalid; may be fractional (see the module comment). */
  epochs: number;
  /** False when the config trains nothing because it is invalid (a valid 0-epoch config stays valid). */
  valid: boolean;
  /** Why it is invalid, in the reference's order of checks, joined by "; "; null when valid. */
  reason: string | null;
  /** Things read differently from the schema's letter (extra keys, non-boolean flags, …), for the record. */
  notes: string[];
  /** De-duplication key (`--skip-repeated-configs`), see `selfEditConfigKey`. */
  key: string;
}

export type SelfEditParseResult = { kind: "unparseable"; reason: string } | ({ kind: "config" } & SelfEditConfig);

/** What the inner loop trains once the TTT data size is known. */
export interface SelfEditTraining {
  augmentations: AugmentationChoice;
  strategy: TrainingStrategy;
  learningRate: number;
  /** 0 → save a zero-effect adapter, as the reference does. */
  epochs: number;
  /** Steps HF's Trainer would run: ceil(epochs × ceil(examples / batch)); differs from epochs × steps/epoch only
   *  for fractional epochs. */
  optimizerSteps: number;
  valid: boolean;
  reason: string | null;
  /** The config as the reference stores it in `final_configs_and_indices.json` (its fields zeroed in place). */
  recordedConfig: RawSelfEditConfig;
}

/** A section's values must be JSON scalars: the reference puts them in a tuple it hashes. */
const sectionShape = z.record(
  z.string(),
  z.unknown().refine((value) => value === null || typeof value !== "object", {
    error: "a list or object (the reference cannot hash it)",
  }),
);
const configShape = z.object({ data_generation: sectionShape, training: sectionShape }).loose();

/** Python's `bool(value)` for a JSON scalar. */
function pythonTruthy(value: unknown): boolean {
  return !(value === null || value === false || value === 0 || value === "");
}

/** A JSON value in Python's numeric sense (a bool is an int), or undefined when it is not a number. */
function pythonNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Index just past the `}` closing the object opened at `start`, or -1 if the text ends first (strings respected). */
function balancedObjectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return i + 1;
  }
  return -1;
}

const MAX_EMBEDDED_CANDIDATES = 200;

/** An object that is meant as the config: it names at least one of the two sections. */
function isConfigLike(value: unknown): boolean {
  return isPlainObject(value) && ("data_generation" in value || "training" in value);
}

/**
 * Finds the config object in model text: the whole text if it is a JSON object, else the first balanced `{…}` that
 * parses and has both sections (else the first that names one, so its shape error can be reported). Stops at an
 * object the text leaves open: anything later is inside it, and a truncated call is not a config.
 */
function extractJsonValue(
  text: string,
  strict: boolean,
): { ok: true; value: unknown; extraction: "whole" | "embedded" } | { ok: false; error: string } {
  const whole = parseJson(text);
  if (whole.ok && (strict || isPlainObject(whole.value))) return { ok: true, value: whole.value, extraction: "whole" };
  if (strict) return { ok: false, error: whole.ok ? "not a JSON object" : `invalid JSON (${whole.error})` };
  let partial: unknown;
  let truncated = false;
  let candidates = 0;
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    if (++candidates > MAX_EMBEDDED_CANDIDATES) break;
    const end = balancedObjectEnd(text, start);
    if (end < 0) {
      truncated = true;
      break;
    }
    const parsed = parseJson(text.slice(start, end));
    if (!parsed.ok || !isConfigLike(parsed.value)) continue;
    const value = parsed.value as Record<string, unknown>;
    if ("data_generation" in value && "training" in value) return { ok: true, value, extraction: "embedded" };
    partial ??= value;
  }
  if (partial !== undefined) return { ok: true, value: partial, extraction: "embedded" };
  if (truncated) return { ok: false, error: "truncated JSON object" };
  if (text.trim() === "") return { ok: false, error: "empty text" };
  return { ok: false, error: "no JSON object with data_generation or training in the text" };
}

/** JSON text with object keys sorted at every depth, so equal configs give equal strings. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  // Non-finite numbers (JSON's 1e400) would print as null.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? "null";
}

/**
 * The de-duplication key: the two sections' items, sorted by key, as written (extra keys included, top-level
 * extras not), like the reference's `(("data_generation", sorted items), ("training", sorted items))`. Python
 * would also equate `true` with `1`; we do not (a model writing both forms is not worth a special rule).
 */
export function selfEditConfigKey(raw: RawSelfEditConfig): string {
  return canonicalJson({ data_generation: raw.data_generation, training: raw.training });
}

function lacksAugmentationKey(raw: RawSelfEditConfig): boolean {
  return AUGMENTATION_KEYS.some((key) => !Object.hasOwn(raw.data_generation, key));
}

/**
 * The training section the reference's later checks see: a missing augmentation key has already set
 * `num_train_epochs` to 0 (so a missing epochs key then no longer resets lr and strategy, nor is a bad one read).
 */
function trainingAsChecked(raw: RawSelfEditConfig): Record<string, unknown> {
  return lacksAugmentationKey(raw) ? { ...raw.training, num_train_epochs: 0 } : raw.training;
}

function readAugmentations(section: Record<string, unknown>, reasons: string[], notes: string[]): AugmentationChoice {
  const missing = AUGMENTATION_KEYS.filter((key) => !Object.hasOwn(section, key));
  if (missing.length > 0) {
    reasons.push(`data_generation lacks ${missing.join(", ")}`);
    return { basic: false, size: false, chain: false, repeat: false };
  }
  const flag = (key: (typeof AUGMENTATION_KEYS)[number]): boolean => {
    const value = section[key];
    if (typeof value === "boolean") return value;
    const truthy = pythonTruthy(value);
    notes.push(`${key} is ${canonicalJson(value)}, not a boolean: read as ${truthy} (Python truthiness)`);
    return truthy;
  };
  return {
    basic: flag("use_basic_augmentations"),
    size: flag("use_size_augmentations"),
    chain: flag("use_chain_augmentations"),
    repeat: flag("use_repeat_augmentations"),
  };
}

function readTraining(
  section: Record<string, unknown>,
  reasons: string[],
  notes: string[],
): { strategy: TrainingStrategy; learningRate: number; epochs: number } {
  const missing = TRAINING_KEYS.filter((key) => !Object.hasOwn(section, key));
  if (missing.length > 0) {
    reasons.push(`training lacks ${missing.join(", ")}`);
    return { strategy: "train_using_all_tokens", learningRate: 0, epochs: 0 };
  }
  let ok = true;
  const strategyValue = section.strategy;
  let strategy: TrainingStrategy = "train_using_output_tokens";
  const knownStrategy = z.enum(TRAINING_STRATEGIES).safeParse(strategyValue);
  if (knownStrategy.success) strategy = knownStrategy.data;
  else {
    ok = false;
    reasons.push(`unknown strategy ${canonicalJson(strategyValue)}`);
  }

  let learningRate = pythonNumber(section.learning_rate);
  if (typeof section.learning_rate === "boolean")
    notes.push(`learning_rate ${section.learning_rate} read as ${learningRate}`);
  if (learningRate === undefined || !Number.isFinite(learningRate) || learningRate < 0) {
    ok = false;
    reasons.push(`learning_rate ${canonicalJson(section.learning_rate)} is not a finite number ≥ 0`);
    learningRate = 0;
  } else if (learningRate > 1) notes.push(`learning_rate ${learningRate} > 1`);

  let epochs = pythonNumber(section.num_train_epochs);
  if (typeof section.num_train_epochs === "boolean")
    notes.push(`num_train_epochs ${section.num_train_epochs} read as ${epochs}`);
  if (epochs === undefined || !Number.isFinite(epochs) || epochs < 0) {
    ok = false;
    reasons.push(`num_train_epochs ${canonicalJson(section.num_train_epochs)} is not a finite number ≥ 0`);
  } else if (!Number.isInteger(epochs)) notes.push(`num_train_epochs ${epochs} is fractional`);
  if (!ok || epochs === undefined) epochs = 0;
  return { strategy, learningRate, epochs };
}

/** Reads the model's text as a self-edit config. Never throws. */
export function parseSelfEditConfig(text: string, options: { strictJson?: boolean } = {}): SelfEditParseResult {
  if (typeof text !== "string") return { kind: "unparseable", reason: "not text" };
  const extracted = extractJsonValue(text, options.strictJson ?? false);
  if (!extracted.ok) return { kind: "unparseable", reason: extracted.error };
  const shape = configShape.safeParse(extracted.value);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join(".") : "the JSON value";
    return { kind: "unparseable", reason: `${where}: ${issue.message}` };
  }
  // The value as parsed (zod's copy would be equal; keeping ours avoids re-creating special keys like __proto__).
  const raw = extracted.value as RawSelfEditConfig;
  const reasons: string[] = [];
  const notes: string[] = [];
  for (const key of Object.keys(raw))
    if (key !== "data_generation" && key !== "training") notes.push(`ignored top-level key ${JSON.stringify(key)}`);
  for (const key of Object.keys(raw.data_generation))
    if (!(AUGMENTATION_KEYS as readonly string[]).includes(key))
      notes.push(`ignored data_generation key ${JSON.stringify(key)}`);
  for (const key of Object.keys(raw.training))
    if (!(TRAINING_KEYS as readonly string[]).includes(key)) notes.push(`ignored training key ${JSON.stringify(key)}`);

  const augmentations = readAugmentations(raw.data_generation, reasons, notes);
  const training = readTraining(trainingAsChecked(raw), reasons, notes);
  return {
    kind: "config",
    raw,
    extraction: extracted.extraction,
    augmentations,
    strategy: training.strategy,
    learningRate: training.learningRate,
    epochs: training.epochs,
    valid: reasons.length === 0,
    reason: reasons.length === 0 ? null : reasons.join("; "),
    notes,
    key: selfEditConfigKey(raw),
  };
}

/** The reference's step estimate for the cap: Python's `epochs * n // 2` (floor division). */
export function referenceStepEstimate(epochs: number, numTrainExamples: number): number {
  return Math.floor((epochs * numTrainExamples) / 2);
}

/**
 * Applies the step cap to a parsed config once the TTT data size is known. (The reference skips a config whose TTT
 * data is empty before any of its checks — no adapter at all; that is the caller's to reproduce.)
 */
export function resolveSelfEditTraining(config: SelfEditConfig, numTrainExamples: number): SelfEditTraining {
  let { epochs, valid, reason } = config;
  const estimate = referenceStepEstimate(epochs, numTrainExamples);
  if (estimate > MAX_SELF_EDIT_STEPS) {
    const capReason = `${epochs} epochs × ${numTrainExamples} examples // 2 = ${estimate} steps > ${MAX_SELF_EDIT_STEPS}`;
    reason = reason === null ? capReason : `${reason}; ${capReason}`;
    valid = false;
    epochs = 0;
  }
  const stepsPerEpoch = Math.ceil(numTrainExamples / SELF_EDIT_TTT_BATCH_SIZE);
  return {
    augmentations: { ...config.augmentations },
    strategy: config.strategy,
    learningRate: config.learningRate,
    epochs,
    optimizerSteps: Math.ceil(epochs * stepsPerEpoch),
    valid,
    reason,
    recordedConfig: recordedConfig(config.raw, epochs),
  };
}

/**
 * What the reference writes for a config after its checks mutated it: `num_train_epochs` set to 0 whenever it
 * trains nothing for a reason, and a training section missing a key gets lr 0 and the all-token strategy.
 */
function recordedConfig(raw: RawSelfEditConfig, effectiveEpochs: number): RawSelfEditConfig {
  const training: Record<string, unknown> = { ...trainingAsChecked(raw) };
  if (TRAINING_KEYS.some((key) => !Object.hasOwn(training, key))) {
    training.num_train_epochs = 0;
    training.learning_rate = 0;
    training.strategy = "train_using_all_tokens";
  } else if (effectiveEpochs === 0) training.num_train_epochs = 0;
  return { ...raw, data_generation: { ...raw.data_generation }, training };
}
