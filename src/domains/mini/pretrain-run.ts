/**
 * `seal mini pretrain`: builds the SEAL-mini world (seeded) and pretrains the mini base model on its corpus from
 * random weights, into a resumable run folder:
 *
 *   world/       the world's files (passages, oracle self-edits, corpus.jsonl, tokenizer/, stats.json)
 *   train/       the latest checkpoint (weights + AdamW moments + log), for --resume
 *   model/       the finished model in HF layout, with the tokenizer
 *   loss.svg, pretrain_log.jsonl, run.json, summary.md, summary.json
 *
 * One document in 50 is held out of training and gives the held-out loss curve.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { saveModel } from "../../io/model-files.js";
import { copyTokenizerFiles } from "../../io/model-folder.js";
import { createRandomModel } from "../../io/random-model.js";
import { loadTokenizer } from "../../io/tokenizer.js";
import { fingerprintModelFolder } from "../../seal/fingerprint.js";
import { lineChartSvg } from "../../seal/plots.js";
import { DEFAULT_PRETRAIN, type PretrainLogEntry, type PretrainSettings, pretrain } from "../../seal/pretrain.js";
import { createProgress } from "../../seal/progress.js";
import { openRun } from "../../seal/run-dir.js";
import { type MiniWorldOptions, writeMiniWorld } from "./files.js";
import { miniModelConfig, writeMiniModelInfo } from "./model-config.js";

export const MINI_PRETRAIN_COMMAND = "mini pretrain";
/** Every EVAL_STRIDE-th corpus document is held out. */
const EVAL_STRIDE = 50;

/** The shipped model's recipe: ≈ 12 epochs of the ≈ 0.55 M-token corpus (`seal mini pretrain`'s world). */
export const MINI_PRETRAIN_DEFAULTS: Readonly<PretrainSettings> = {
  ...DEFAULT_PRETRAIN,
  steps: 800,
  tokensPerStep: 8192,
  maxSequenceTokens: 512,
  lr: 3e-3,
  warmupSteps: 30,
  weightDecay: 0.1,
  checkpointEvery: 25,
  evalEvery: 50,
};

export interface MiniPretrainRequest {
  outDir: string;
  /** World and weight-initialisation seed. */
  seed: number;
  settings: PretrainSettings;
  world: Partial<MiniWorldOptions>;
  resume: boolean;
  log?: (line: string) => void;
}

export interface MiniPretrainSummary {
  format: "seal-mini-pretrain/1";
  modelDir: string;
  parameters: number;
  steps: number;
  trainTokens: number;
  firstLoss: number;
  finalLoss: number;
  finalEvalLoss: number | null;
  seconds: number;
  modelFingerprint: string;
}

export function runMiniPretrain(request: MiniPretrainRequest): MiniPretrainSummary {
  const log = request.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const outDir = path.resolve(request.outDir);
  const run = openRun(
    outDir,
    {
      command: MINI_PRETRAIN_COMMAND,
      config: { seed: request.seed, settings: request.settings, world: request.world },
      fingerprints: {},
    },
    { resume: request.resume },
  );
  try {
    const worldDir = path.join(outDir, "world");
    const written = writeMiniWorld(worldDir, {
      ...request.world,
      world: { seed: request.seed, ...request.world.world },
      corpus: { ...request.world.corpus },
    });
    const tokenizer = loadTokenizer(path.join(worldDir, "tokenizer"));
    const eos = tokenizer.eosTokenIds[0];
    if (eos === undefined) throw new Error("the mini tokenizer has no end-of-text token");
    const encodeDoc = (text: string) => [...tokenizer.encode(text), eos];
    const train: number[][] = [];
    const held: number[][] = [];
    written.corpus.forEach((doc, i) => {
      (i % EVAL_STRIDE === EVAL_STRIDE - 1 ? held : train).push(encodeDoc(doc.text));
    });
    const config = miniModelConfig(tokenizer.vocabSize, eos);
    const initialWeights = createRandomModel(config, request.seed);
    const parameters = countParameters(initialWeights);
    log(
      `SEAL-mini: ${written.world.people.length} people, corpus ${train.length} training / ${held.length} held-out ` +
        `documents, vocabulary ${tokenizer.vocabSize}, model ${(parameters / 1e6).toFixed(2)} M parameters`,
    );
    const progress = createProgress({ total: request.settings.steps, name: "steps" });
    const started = performance.now();
    const result = pretrain({
      config,
      initialWeights,
      documents: train,
      evalDocuments: held,
      settings: request.settings,
      dir: path.join(outDir, "train"),
      log,
      onStep: (entry) => {
        const evalText = entry.evalLoss === undefined ? "" : `, held-out ${entry.evalLoss.toFixed(3)}`;
        progress.update(
          entry.step,
          `loss ${entry.loss.toFixed(3)}${evalText}, ${Math.round(entry.tokens / entry.seconds)} tok/s`,
        );
      },
    });
    progress.finish();
    const modelDir = path.join(outDir, "model");
    const partial = `${modelDir}.partial`;
    fs.rmSync(partial, { recursive: true, force: true });
    saveModel(partial, { config, weights: result.weights });
    copyTokenizerFiles(path.join(worldDir, "tokenizer"), partial);
    writeMiniModelInfo(partial, { worldVersion: written.world.version, seed: request.seed, world: request.world });
    fs.rmSync(modelDir, { recursive: true, force: true });
    fs.renameSync(partial, modelDir);

    writeFileAtomic(
      path.join(outDir, "pretrain_log.jsonl"),
      `${result.log.map((e) => JSON.stringify(e)).join("\n")}\n`,
    );
    writeFileAtomic(path.join(outDir, "loss.svg"), lossChart(result.log));
    const last = result.log[result.log.length - 1];
    const evals = result.log.filter((e) => e.evalLoss !== undefined);
    const summary: MiniPretrainSummary = {
      format: "seal-mini-pretrain/1",
      modelDir,
      parameters,
      steps: result.log.length,
      trainTokens: result.log.reduce((n, e) => n + e.tokens, 0),
      firstLoss: result.log[0].loss,
      finalLoss: last.loss,
      finalEvalLoss: evals.length === 0 ? null : (evals[evals.length - 1].evalLoss as number),
      seconds: (performance.now() - started) / 1000,
      modelFingerprint: fingerprintModelFolder(modelDir).sha256,
    };
    run.writeSummary({ markdown: summaryMarkdown(summary), json: summary });
    return summary;
  } finally {
    run.release();
  }
}

function countParameters(weights: import("../../engine/weights.js").ModelWeights): number {
  let n = weights.embedTokens.length + weights.finalNorm.length;
  if (weights.lmHead !== weights.embedTokens) n += weights.lmHead.length;
  for (const layer of weights.layers)
    for (const t of Object.values(layer)) if (t instanceof Float32Array) n += t.length;
  return n;
}

function lossChart(entries: readonly PretrainLogEntry[]): string {
  return lineChartSvg({
    title: "SEAL-mini pretraining loss",
    xLabel: "step",
    yLabel: "loss (nats/token)",
    series: [
      { label: "training", points: entries.map((e) => [e.step, e.loss] as const) },
      {
        label: "held-out",
        points: entries.filter((e) => e.evalLoss !== undefined).map((e) => [e.step, e.evalLoss as number] as const),
      },
    ],
  });
}

function summaryMarkdown(summary: MiniPretrainSummary): string {
  return [
    "# SEAL-mini pretraining",
    "",
    `- model: \`${summary.modelDir}\` (${(summary.parameters / 1e6).toFixed(2)} M parameters, sha256 ${summary.modelFingerprint.slice(0, 16)}…)`,
    `- ${summary.steps} steps, ${summary.trainTokens} training tokens, ${(summary.seconds / 60).toFixed(1)} min in this process`,
    `- loss ${summary.firstLoss.toFixed(3)} → ${summary.finalLoss.toFixed(3)}; held-out ${summary.finalEvalLoss?.toFixed(3) ?? "—"}`,
    "",
    "![loss](loss.svg)",
    "",
  ].join("\n");
}
