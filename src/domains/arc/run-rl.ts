/**
 * `seal arc rl` (reference-implementation.md §2.7, `BC-self-edit.py`): one round of ReST-EM as behaviour cloning.
 * The reward of a (task, self-edit) pair is 1 when `seal arc eval` found it solved; the generator is finetuned on
 * `prompt → response` of every solved pair (completion-only loss, the end-of-turn token appended) through a LoRA
 * (r=16, α=16, q/v/gate/up/down, 8 epochs, batch 5, lr 5e-5, cosine, no warmup), which is merged into a new
 * checkpoint folder (sft-merge.ts; tokenizer and generation config copied). `rl_summary.json` in that folder
 * lists the pairs, the settings and the losses.
 *
 * The folder is written as `{out}.partial` with rl_summary.json inside, then renamed: a killed run never leaves a
 * half-written checkpoint, or one without its summary, under `--out`; running the same command again redoes the
 * step with the same seed and gives the same checkpoint. (There is nothing finer to resume: one SFT of a few steps, then one merge.)
 *
 * The chain of inputs is checked: the eval run evaluated a TTT run made from this very self-edit file.
 */
import fs from "node:fs";
import path from "node:path";
import { writeJsonFile } from "../../io/json-file.js";
import { fingerprintFile } from "../../seal/fingerprint.js";
import { type SftOutcome, type SftSettings, sftMergeSave } from "../../seal/sft-merge.js";
import type { SftRow } from "../../seal/sft-rows.js";
import { EVAL_COMMAND, EVAL_RECORDS, validateEvalRecord } from "./eval-records.js";
import { fingerprintHash, readRunOf, readRunRecords } from "./run-common.js";
import { readArcSelfEditFile } from "./self-edit-sampling.js";
import { TTT_TARGETS } from "./ttt.js";
import { TTT_COMMAND } from "./ttt-records.js";

export const RL_SUMMARY_FILE = "rl_summary.json";

/** The reference's behaviour-cloning settings. */
export const REFERENCE_BC: Readonly<SftSettings> = {
  lora: { rank: 16, alpha: 16, dropout: 0, targets: [...TTT_TARGETS] },
  lr: 5e-5,
  epochs: 8,
  batchSize: 5,
  gradientAccumulation: 1,
  schedule: "cosine",
  seed: 0,
};

export interface ArcRlRequest {
  modelDir: string;
  selfEditsPath: string;
  evalDir: string;
  outDir: string;
  settings: SftSettings;
  /** Replace a non-empty --out folder. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface ArcRlSummary {
  pairs: { taskId: string; edit: number }[];
  /** Pairs the eval run scored, solved or not. */
  evaluatedPairs: number;
  settings: SftSettings;
  outcome: SftOutcome;
  sources: { model: string; selfEdits: string; eval: string };
}

/** The solved pairs' SFT rows, after checking that the eval run descends from this self-edit file. */
export function behaviourCloningRows(
  selfEditsPath: string,
  evalDir: string,
): { rows: SftRow[]; pairs: { taskId: string; edit: number }[]; evaluated: number } {
  const evalInfo = readRunOf(evalDir, EVAL_COMMAND, "--eval");
  const evalConfig = evalInfo.config as { mode?: string; paths?: { ttt?: string | null } };
  if (evalConfig.mode !== "adapters" || !evalConfig.paths?.ttt)
    throw new Error(`${evalDir}: an --no-adapter evaluation has no self-edits to reward; give the eval of a TTT run`);
  const tttDir = evalConfig.paths.ttt;
  const tttInfo = readRunOf(tttDir, TTT_COMMAND, `the TTT run of ${evalDir}`);
  const tttSource = (tttInfo.config as { source?: { kind?: string } }).source?.kind;
  if (tttSource !== "self-edits")
    throw new Error(
      `${evalDir}: its TTT run (${tttDir}) used hand-chosen configurations (--${tttSource === "fixed" ? "config" : "all-configs"}), ` +
        "not self-edits; there is no self-edit to clone",
    );
  const used = fingerprintHash(tttInfo.fingerprints.selfEdits);
  const given = fingerprintFile(selfEditsPath).sha256;
  if (used !== given)
    throw new Error(
      `${selfEditsPath}: not the self-edit file the eval run's TTT run (${tttDir}) trained on ` +
        `(sha256 ${given.slice(0, 12)}… vs ${used?.slice(0, 12)}…)`,
    );
  const records = readRunRecords(evalDir, EVAL_RECORDS, validateEvalRecord);
  const solved = records.filter((record) => record.correct);
  if (solved.length === 0)
    throw new Error(
      `${evalDir}: no (task, self-edit) pair was solved (0 of ${records.length} evaluated); ` +
        "behaviour cloning has nothing to clone",
    );
  const selfEdits = readArcSelfEditFile(selfEditsPath);
  const rows = solved.map((record): SftRow => {
    const entry = selfEdits.get(record.taskId)?.find((edit) => edit.index === record.edit);
    if (entry === undefined) throw new Error(`${selfEditsPath}: no self-edit ${record.edit} for task ${record.taskId}`);
    if (entry.prompt === null || entry.response === null)
      throw new Error(`${selfEditsPath}: task ${record.taskId} edit ${record.edit} lacks its prompt or response`);
    return { prompt: entry.prompt, completion: entry.response };
  });
  return { rows, pairs: solved.map((r) => ({ taskId: r.taskId, edit: r.edit })), evaluated: records.length };
}

/** Clones the solved self-edits into a new merged checkpoint in `outDir`; returns what it wrote there. */
export function runArcRl(request: ArcRlRequest): ArcRlSummary {
  const log = request.log ?? (() => {});
  const { rows, pairs, evaluated } = behaviourCloningRows(request.selfEditsPath, request.evalDir);
  const outDir = path.resolve(request.outDir);
  if (path.resolve(request.modelDir) === outDir) throw new Error(`--out ${request.outDir} is the input model folder`);
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0 && !request.force)
    throw new Error(`${request.outDir}: folder is not empty; choose a new folder or pass --force to replace it`);
  log(
    `behaviour cloning on ${rows.length} solved pairs of ${evaluated}: ${pairs.map((p) => `${p.taskId}/${p.edit}`).join(", ")}`,
  );
  const sources = {
    model: path.resolve(request.modelDir),
    selfEdits: path.resolve(request.selfEditsPath),
    eval: path.resolve(request.evalDir),
  };
  const summaryOf = (outcome: SftOutcome): ArcRlSummary => ({
    pairs,
    evaluatedPairs: evaluated,
    settings: request.settings,
    outcome,
    sources,
  });
  // rl_summary.json goes into the folder before it is renamed into place: a checkpoint never lacks it
  const outcome = sftMergeSave(request.modelDir, rows, request.settings, outDir, log, {
    divergenceHint: "lower --lr or --alpha",
    addFiles: (partial, trained) => writeJsonFile(path.join(partial, RL_SUMMARY_FILE), summaryOf(trained)),
  });
  return summaryOf(outcome);
}
