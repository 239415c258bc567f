/**
 * `seal knowledge train`: ReST-EM rounds that teach a model to write better self-edits (reference §1.7). Per round r,
 * in the run folder:
 *
 *   round-{r}/generate/   a `seal knowledge generate` run: k self-edits per training passage from the generator
 *   round-{r}/evaluate/   a `seal knowledge evaluate` run: `repeats` inner loops per self-edit on the student
 *   round-{r}/sft.jsonl   the best self-edit per passage as {prompt, completion} rows (selection.json: all rewards)
 *   round-{r}/model/      the generator after SFT on those rows with the LoRA merged (HF folder, tokenizer copied)
 *   phases.jsonl          one record per finished phase (generate, evaluate, select, sft), appended last
 *   run.json, summary.md, summary.json
 *
 * The generator of round 0 is `--teacher` (when given) or `--model`; later rounds use the previous round's
 * checkpoint. The student (the model the inner loops update) is `--model` when a teacher is given; otherwise it is
 * the current checkpoint, as in the reference (its eval baselines change from round to round, §1.7).
 *
 * `--resume` continues at the first unfinished phase; the generate and evaluate phases resume their own sub-runs.
 * `--sft-data FILE` runs only the SFT + merge step on given rows (e.g. the reference's EM_SFT files) into `model/`.
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { Projection } from "../../engine/config.js";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { checkOutputFolder } from "../../io/output-path.js";
import { addParallelAdaptersOption, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber } from "../options.js";
import {
  addGraderOptions,
  addInnerLoopOptions,
  type GraderOptions,
  graderFromOptions,
  type InnerLoopOptions,
  innerLoopConfigFromOptions,
  judgeSettingsFromOptions,
} from "./knowledge-options.js";
import { parseNonNegativeNumber, parseProbability, parseTargets } from "./parsers.js";

export const TRAIN_COMMAND = "knowledge train";
export const PHASES_LOG = "phases";
export const PHASES = ["generate", "evaluate", "select", "sft"] as const;
/** What to lower when the M-step's SFT diverges (it then stops: no NaN checkpoint is promoted). */
const SFT_DIVERGENCE_HINT = "lower --sft-lr or --sft-alpha";
export type Phase = (typeof PHASES)[number];

export interface KnowledgeTrainOptions extends InnerLoopOptions, Partial<GraderOptions> {
  model: string;
  data?: string;
  sftData?: string;
  out: string;
  teacher?: string;
  rounds: number;
  k: number;
  repeats: number;
  passages: number;
  start: number;
  onlyImproving?: boolean;
  temperature: number;
  topP: number;
  maxTokens: number;
  genBatch: number;
  sftRank: number;
  sftAlpha: number;
  sftTargets?: Projection[];
  sftLr: number;
  sftEpochs: number;
  sftBatch: number;
  sftGradAccum: number;
  seed: number;
  resume?: boolean;
  /** Inner loops run together in the evaluation phase (default DEFAULT_PARALLEL_ADAPTERS). */
  parallelAdapters?: number;
}

/** Test hooks and output of the run. */
export interface KnowledgeTrainHooks {
  log?: (line: string) => void;
  /** A judge to use instead of one built from --grader judge (tests). */
  judge?: import("../../domains/knowledge/answer-grading.js").AnswerJudge;
  /** Called after each phase's record is appended (key `round-{r}/{phase}`, or `sft` with --sft-data). */
  onPhaseDone?: (key: string) => void;
}

/** `--sft-targets`: a comma-separated list, `all-linear`, or `all` (the reference's seven projections). */
function parseSftTargets(value: string): Projection[] {
  return parseTargets(value.trim() === "all" ? "all-linear" : value);
}

export function registerKnowledgeTrain(group: Command): void {
  const command = group
    .command("train")
    .description(
      "ReST-EM: rounds of sample k self-edits per passage → score each with inner loops → keep the best per " +
        "passage → SFT the generator on them (completion-only loss, LoRA merged) → next round from the new checkpoint",
    )
    .requiredOption(
      "--model <dir>",
      "model folder (HF layout, with tokenizer): the generator, or the student with --teacher",
    )
    .option("--data <file>", "training passages: JSON array of {title, context, questions}, or SQuAD v1.1 JSON")
    .option("--sft-data <file>", "only SFT + merge --model on these {prompt, completion} JSONL rows (no RL rounds)")
    .requiredOption("--out <dir>", "run folder (new or empty; with --resume, the run to continue)")
    .option("--teacher <dir>", "generator model folder; RL trains it, --model is the student the inner loops update")
    .option("--rounds <n>", "ReST-EM rounds", parsePositiveInt, 2)
    .option("--k <n>", "self-edits sampled per passage", parsePositiveInt, 5)
    .option(
      "--repeats <n>",
      "inner loops per self-edit (its reward is their mean adapted accuracy)",
      parsePositiveInt,
      3,
    )
    .option("--passages <n>", "training passages per round (from --start)", parsePositiveInt, 50)
    .option("--start <n>", "first passage (index in --data)", parseNonNegativeInt, 0)
    .option("--only-improving", "keep a passage's best self-edit only when it beats the passage's baseline")
    .option("--temperature <t>", "sampling temperature for self-edits", parseNonNegativeNumber, 1)
    .option("--top-p <p>", "nucleus sampling mass for self-edits", parseProbability, 0.95)
    .option("--max-tokens <n>", "tokens per self-edit at most", parsePositiveInt, 8192)
    .option("--gen-batch <n>", "sequences decoded together when sampling self-edits", parsePositiveInt, 16)
    .option("--sft-rank <n>", "SFT LoRA rank", parsePositiveInt, 64)
    .option("--sft-alpha <x>", "SFT LoRA alpha", parsePositiveNumber, 128)
    .option("--sft-targets <list>", "SFT LoRA targets: comma-separated, or all (default: all seven)", parseSftTargets)
    .option("--sft-lr <x>", "SFT learning rate (linear decay, no warmup)", parsePositiveNumber, 3e-4)
    .option("--sft-epochs <n>", "SFT epochs", parsePositiveInt, 2)
    .option("--sft-batch <n>", "SFT rows per micro-batch", parsePositiveInt, 1)
    .option("--sft-grad-accum <n>", "SFT micro-batches per optimizer step", parsePositiveInt, 10);
  addInnerLoopOptions(command, {
    epochs: 10,
    batchSize: 1,
    splitNewlines: true,
    helpPrefix: "inner-loop ",
    splitNewlinesHelp: "keep each ---separated piece of a self-edit whole in the inner loop",
  });
  addParallelAdaptersOption(command);
  addGraderOptions(command)
    .option("--seed <n>", "run seed (round r samples and trains with seed + r)", parseNonNegativeInt, 0)
    .option("--resume", "continue the run in --out at its first unfinished phase")
    .action(async (options: KnowledgeTrainOptions) => {
      checkOutputFolder(options.out);
      const summary = await runKnowledgeTrain(options);
      process.stdout.write(`final checkpoint: ${summary.finalModel ?? "(none)"}\nwrote ${path.resolve(options.out)}\n`);
    });
}

function roundDir(runDir: string, round: number): string {
  return path.join(runDir, `round-${round}`);
}

function phaseKey(round: number, phase: Phase): string {
  return `round-${round}/${phase}`;
}

interface PhaseRecord {
  key: string;
  round: number;
  phase: Phase;
  seconds: number;
  /** The checkpoint this phase produced (sft), relative to the run folder or absolute. */
  model?: string;
  selection?: import("../../domains/knowledge/rest-em.js").SelectionStats;
  sft?: import("../../seal/sft-merge.js").SftOutcome | null;
  detail?: Record<string, unknown>;
}

/** Runs (or resumes) the ReST-EM rounds, or with --sft-data the single SFT step; returns the summary it wrote. */
export async function runKnowledgeTrain(
  options: KnowledgeTrainOptions,
  hooks: KnowledgeTrainHooks = {},
): Promise<import("../../domains/knowledge/rest-em.js").RestEmSummary> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.sftData !== undefined && options.data !== undefined)
    throw new Error("give --data or --sft-data, not both");
  if (options.sftData === undefined && options.data === undefined) {
    throw new Error("give --data (training passages) or --sft-data (SFT rows only)");
  }
  if (options.sftData !== undefined && options.teacher !== undefined) {
    throw new Error("--teacher applies to RL rounds; with --sft-data the model trained is --model");
  }
  // The grader decides the rewards: a self-edit's reward is its inner loops' mean adapted accuracy under it.
  const grader = await graderFromOptions({ ...options, grader: options.grader ?? "local" });
  const restEm = await import("../../domains/knowledge/rest-em.js");
  const { fingerprintFile, fingerprintModelFolder } = await import("../../seal/fingerprint.js");
  const { openRun } = await import("../../seal/run-dir.js");

  const runDir = path.resolve(options.out);
  const sft: import("../../seal/sft-merge.js").SftSettings = {
    lora: {
      rank: options.sftRank,
      alpha: options.sftAlpha,
      dropout: 0,
      targets: options.sftTargets ?? [...restEm.ALL_PROJECTIONS],
    },
    lr: options.sftLr,
    schedule: "linear",
    epochs: options.sftEpochs,
    batchSize: options.sftBatch,
    gradientAccumulation: options.sftGradAccum,
    seed: options.seed,
  };
  const sftOnly = options.sftData !== undefined;
  const config = sftOnly
    ? { mode: "sft-data", sft }
    : {
        mode: "rest-em",
        rounds: options.rounds,
        k: options.k,
        repeats: options.repeats,
        passages: options.passages,
        start: options.start,
        onlyImproving: options.onlyImproving === true,
        teacher: options.teacher !== undefined,
        generation: {
          temperature: options.temperature,
          topP: options.topP,
          maxTokens: options.maxTokens,
          batch: options.genBatch,
        },
        innerLoop: {
          rank: options.rank,
          alpha: options.alpha,
          targets: options.targets,
          lr: options.lr,
          epochs: options.epochs,
          batchSize: options.batchSize,
          splitNewlines: options.splitNewlines,
          maxAnswerTokens: options.maxAnswerTokens,
        },
        grader,
        sft,
        seed: options.seed,
      };
  const dataFile = (options.sftData ?? options.data) as string;
  const fingerprints: Record<string, { sha256: string; [detail: string]: unknown }> = {
    model: { ...fingerprintModelFolder(options.model) },
    data: { ...fingerprintFile(dataFile) },
  };
  if (options.teacher !== undefined) fingerprints.teacher = { ...fingerprintModelFolder(options.teacher) };
  const paths = {
    model: path.resolve(options.model),
    data: path.resolve(dataFile),
    teacher: options.teacher === undefined ? null : path.resolve(options.teacher),
  };
  const run = openRun(
    runDir,
    { command: TRAIN_COMMAND, config: { ...config, paths }, fingerprints },
    // More rounds may be asked for when resuming; where the inputs live may change.
    { resume: options.resume === true, allowDifferent: ["config.paths", "config.rounds"] },
  );
  try {
    const phases = run.openRecords<PhaseRecord>(PHASES_LOG);
    try {
      const finish = (key: string, record: Omit<PhaseRecord, "key">): void => {
        phases.appendRecord(key, { key, ...record });
        hooks.onPhaseDone?.(key);
      };
      if (sftOnly) return await runSftOnly(options, sft, runDir, phases, finish, log, run);
      return await runRounds(options, sft, grader, hooks.judge, runDir, phases, finish, log, run, config);
    } finally {
      phases.close();
    }
  } finally {
    run.release();
  }
}

type Finish = (key: string, record: Omit<PhaseRecord, "key">) => void;
type RecordLogOf<T> = import("../../seal/records.js").RecordLog<T>;
type RunOf = import("../../seal/run-dir.js").Run;

function stripLosses(outcome: import("../../seal/sft-merge.js").SftOutcome | null | undefined) {
  if (outcome === null || outcome === undefined) return null;
  const { stepLosses: _stepLosses, ...rest } = outcome;
  return rest;
}

async function runSftOnly(
  options: KnowledgeTrainOptions,
  settings: import("../../seal/sft-merge.js").SftSettings,
  runDir: string,
  phases: RecordLogOf<PhaseRecord>,
  finish: Finish,
  log: (line: string) => void,
  run: RunOf,
): Promise<import("../../domains/knowledge/rest-em.js").RestEmSummary> {
  const { readSftJsonl } = await import("../../domains/knowledge/data.js");
  const { restEmSummaryMarkdown } = await import("../../domains/knowledge/rest-em.js");
  const modelDir = path.join(runDir, "model");
  if (!phases.has("sft")) {
    const rows = readSftJsonl(options.sftData as string);
    if (rows.length === 0) throw new Error(`${options.sftData}: no rows`);
    const started = performance.now();
    const { sftMergeSave } = await import("../../seal/sft-merge.js");
    const outcome = sftMergeSave(options.model, rows, settings, modelDir, log, { divergenceHint: SFT_DIVERGENCE_HINT });
    finish("sft", {
      round: 0,
      phase: "sft",
      seconds: (performance.now() - started) / 1000,
      model: "model",
      sft: outcome,
    });
  } else log("SFT already finished; nothing to do");
  const record = phases.get("sft") as PhaseRecord;
  const summary = {
    format: "seal-knowledge-train/1" as const,
    config: run.info.config,
    rounds: [
      {
        round: 0,
        generator: path.resolve(options.model),
        student: null,
        selection: null,
        sft: stripLosses(record.sft),
        model: modelDir,
        complete: true,
      },
    ],
    finalModel: modelDir,
  };
  run.writeSummary({ markdown: restEmSummaryMarkdown(summary), json: summary });
  return summary;
}

async function runRounds(
  options: KnowledgeTrainOptions,
  sftSettings: import("../../seal/sft-merge.js").SftSettings,
  grader: import("../../domains/knowledge/inner-loop-config.js").GraderConfig,
  judge: import("../../domains/knowledge/answer-grading.js").AnswerJudge | undefined,
  runDir: string,
  phases: RecordLogOf<PhaseRecord>,
  finish: Finish,
  log: (line: string) => void,
  run: RunOf,
  config: unknown,
): Promise<import("../../domains/knowledge/rest-em.js").RestEmSummary> {
  const restEm = await import("../../domains/knowledge/rest-em.js");
  const { readSelfEditFile, writeSftJsonl } = await import("../../domains/knowledge/data.js");
  const { defaultEvaluationConfig } = await import("../../domains/knowledge/evaluation-config.js");
  const { evaluateKnowledge } = await import("../../domains/knowledge/evaluate.js");
  const { EVALUATION_RECORDS } = await import("../../domains/knowledge/evaluation-records.js");
  const { runKnowledgeGenerate } = await import("./knowledge-generate.js");
  const { openRecordLog } = await import("../../seal/records.js");
  const { writeJsonFile } = await import("../../io/json-file.js");
  const { SELF_EDITS_FILE } = await import("../../domains/knowledge/self-edits.js");

  const resolveModel = (value: string) => path.resolve(runDir, value);
  const firstGenerator = path.resolve(options.teacher ?? options.model);
  const generatorOf = (round: number): string => {
    if (round === 0) return firstGenerator;
    const previous = phases.get(phaseKey(round - 1, "sft"));
    if (previous?.model === undefined) throw new Error(`round ${round - 1} has no checkpoint`);
    return resolveModel(previous.model);
  };
  const studentOf = (generator: string): string =>
    options.teacher !== undefined ? path.resolve(options.model) : generator;
  const subRunExists = (dir: string) => fs.existsSync(path.join(dir, "run.json"));

  const writeOutputs = () => {
    const summary = summarize(options, runDir, phases, generatorOf, studentOf, config);
    const plots = restEm.restEmPlots(summary, rewardsByRound(runDir, summary));
    for (const plot of plots) writeFileAtomic(path.join(runDir, plot.file), plot.svg);
    run.writeSummary({
      markdown: restEm.restEmSummaryMarkdown(
        summary,
        plots.map((plot) => plot.file),
      ),
      json: summary,
    });
    return summary;
  };

  for (let round = 0; round < options.rounds; round++) {
    const dir = roundDir(runDir, round);
    fs.mkdirSync(dir, { recursive: true });
    const generator = generatorOf(round);
    const student = studentOf(generator);
    const generateDir = path.join(dir, "generate");
    const evaluateDir = path.join(dir, "evaluate");
    const selfEditsFile = path.join(generateDir, SELF_EDITS_FILE);
    const roundSeed = options.seed + round;

    // (1) sample k self-edits per passage with the generator
    let key = phaseKey(round, "generate");
    if (phases.has(key)) log(`round ${round}: generate already finished`);
    else {
      log(`round ${round}: generating ${options.k} self-edits per passage with ${generator}`);
      const started = performance.now();
      const summary = await runKnowledgeGenerate({
        model: generator,
        data: options.data as string,
        out: generateDir,
        k: options.k,
        temperature: options.temperature,
        topP: options.topP,
        topK: 0,
        maxTokens: options.maxTokens,
        seed: roundSeed,
        batch: options.genBatch,
        start: options.start,
        limit: options.passages,
        resume: subRunExists(generateDir),
      });
      finish(key, {
        round,
        phase: "generate",
        seconds: (performance.now() - started) / 1000,
        detail: { passages: summary.passages, emptyCompletions: summary.emptyCompletions, tokens: summary.tokens },
      });
    }

    // (2) score each self-edit with `repeats` inner loops on the student
    key = phaseKey(round, "evaluate");
    if (phases.has(key)) log(`round ${round}: evaluate already finished`);
    else {
      log(`round ${round}: evaluating on ${student}`);
      const started = performance.now();
      const summary = await evaluateKnowledge({
        modelDir: student,
        inputPath: selfEditsFile,
        outDir: evaluateDir,
        resume: subRunExists(evaluateDir),
        config: defaultEvaluationConfig({
          mode: "self-edits",
          completions: options.k,
          repeats: options.repeats,
          start: 0,
          limit: options.passages,
          ...innerLoopConfigFromOptions(options, defaultEvaluationConfig()),
          grader,
          seed: roundSeed,
        }),
        ...(judge === undefined ? {} : { judge }),
        ...(options.parallelAdapters === undefined ? {} : { parallelAdapters: options.parallelAdapters }),
        judgeSettings: judgeSettingsFromOptions(options),
        log,
      });
      if (!summary.complete) throw new Error(`${evaluateDir}: evaluation is incomplete`);
      if (summary.judgeVerdicts !== null) {
        log(`round ${round}: ${summary.judgeVerdicts.failed} of ${summary.judgeVerdicts.total} judge verdicts failed`);
      }
      finish(key, {
        round,
        phase: "evaluate",
        seconds: (performance.now() - started) / 1000,
        detail: {
          innerLoops: summary.innerLoops.done,
          macroAdapted: summary.macro.adapted.mean,
          ...(summary.judgeVerdicts === null ? {} : { judgeVerdicts: summary.judgeVerdicts }),
        },
      });
    }

    // (3) keep the best self-edit per passage
    key = phaseKey(round, "select");
    const sftFile = path.join(dir, "sft.jsonl");
    if (phases.has(key)) log(`round ${round}: select already finished`);
    else {
      const started = performance.now();
      const records = readSelfEditFile(selfEditsFile);
      const logOfRecords = openRecordLog<import("../../domains/knowledge/evaluation-records.js").EvaluationRecord>(
        path.join(evaluateDir, `${EVALUATION_RECORDS}.jsonl`),
      );
      let outcomes: import("../../domains/knowledge/rest-em.js").InnerLoopOutcome[];
      try {
        outcomes = logOfRecords.values();
      } finally {
        logOfRecords.close();
      }
      const picks = restEm.selectBestSelfEdits(outcomes, options.k, { onlyImproving: options.onlyImproving === true });
      const rows = picks
        .filter((pick) => pick.kept && pick.best !== null)
        .map((pick) => ({
          prompt: records[pick.passage].prompt,
          completion: records[pick.passage].completions[pick.best as number],
        }));
      writeJsonFile(
        path.join(dir, "selection.json"),
        picks.map((pick) => ({ ...pick, dataIndex: options.start + pick.passage, title: records[pick.passage].title })),
      );
      writeSftJsonl(sftFile, rows);
      const selection = restEm.selectionStats(picks);
      log(
        `round ${round}: kept ${selection.rows} of ${selection.passages} passages ` +
          `(${selection.picksBeatingBaseline} beat their baseline)` +
          (selection.divergedInnerLoops > 0
            ? `; ${selection.divergedInnerLoops} inner loops diverged (scored 0; lower --lr or --alpha)`
            : ""),
      );
      finish(key, { round, phase: "select", seconds: (performance.now() - started) / 1000, selection });
    }

    // (4) SFT the generator on prompt → chosen completion, merge, save round-{r}/model
    key = phaseKey(round, "sft");
    if (phases.has(key)) log(`round ${round}: sft already finished`);
    else {
      const { readSftJsonl } = await import("../../domains/knowledge/data.js");
      const rows = readSftJsonl(sftFile);
      const started = performance.now();
      if (rows.length === 0) {
        log(`round ${round}: no rows to train on; the generator carries over unchanged`);
        finish(key, { round, phase: "sft", seconds: 0, model: generator, sft: null });
      } else {
        const { sftMergeSave } = await import("../../seal/sft-merge.js");
        const outcome = sftMergeSave(
          generator,
          rows,
          { ...sftSettings, seed: sftSettings.seed + round },
          path.join(dir, "model"),
          log,
          { divergenceHint: SFT_DIVERGENCE_HINT },
        );
        finish(key, {
          round,
          phase: "sft",
          seconds: (performance.now() - started) / 1000,
          model: path.relative(runDir, path.join(dir, "model")),
          sft: outcome,
        });
      }
    }
    writeOutputs();
  }
  return writeOutputs();
}

/** Every self-edit's reward (non-null) of each round with a selection, from its `selection.json`. */
function rewardsByRound(
  runDir: string,
  summary: import("../../domains/knowledge/rest-em.js").RestEmSummary,
): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const round of summary.rounds) {
    const file = path.join(roundDir(runDir, round.round), "selection.json");
    if (round.selection === null || !fs.existsSync(file)) continue;
    const picks = JSON.parse(fs.readFileSync(file, "utf8")) as { rewards: (number | null)[] }[];
    out.set(
      round.round,
      picks.flatMap((pick) => pick.rewards.filter((reward): reward is number => reward !== null)),
    );
  }
  return out;
}

function summarize(
  options: KnowledgeTrainOptions,
  runDir: string,
  phases: RecordLogOf<PhaseRecord>,
  generatorOf: (round: number) => string,
  studentOf: (generator: string) => string,
  config: unknown,
): import("../../domains/knowledge/rest-em.js").RestEmSummary {
  const rounds: import("../../domains/knowledge/rest-em.js").RoundSummary[] = [];
  let finalModel: string | null = null;
  for (let round = 0; round < options.rounds; round++) {
    if (round > 0 && !phases.has(phaseKey(round - 1, "sft"))) break;
    const generator = generatorOf(round);
    const sftRecord = phases.get(phaseKey(round, "sft"));
    const model = sftRecord?.model === undefined ? null : path.resolve(runDir, sftRecord.model);
    if (model !== null) finalModel = model;
    rounds.push({
      round,
      generator,
      student: studentOf(generator),
      selection: phases.get(phaseKey(round, "select"))?.selection ?? null,
      sft: stripLosses(sftRecord?.sft),
      model,
      complete: sftRecord !== undefined,
    });
  }
  return { format: "seal-knowledge-train/1", config, rounds, finalModel };
}
