/**
 * `seal demo`: the whole SEAL experiment on the SEAL-mini world, with the knowledge-incorporation pipeline unchanged
 * (only the data and the base model are small). Every step is a sub-run of an existing command in the demo folder,
 * so the demo resumes where it stopped and each number can be traced to its records:
 *
 *   world/                 the world the model was pretrained on, regenerated from its seed
 *   base/ passage/ oracle/ evaluate runs: no update, passage only, oracle self-edits
 *   base-self-edits/       generate (base model) + evaluate
 *   rl/                    `knowledge train`: ReST-EM rounds on the training passages
 *   seal-round-{r}/        generate (round r's checkpoint) + evaluate (on that checkpoint, as the reference)
 *   continual/             the forgetting experiment
 *   report.md, report.html, summary.json, plots
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { EvaluationConfig } from "../../domains/knowledge/evaluation-config.js";
import type { EvaluationSummary } from "../../domains/knowledge/evaluation-summary.js";
import type { DemoCondition, DemoReport } from "../../domains/mini/demo-report.js";
import { PROJECTIONS, type Projection } from "../../engine/config.js";

export interface DemoSettings {
  evalPassages: number;
  rlPassages: number;
  /** Self-edits sampled per held-out passage for the self-edit conditions. */
  evalK: number;
  /** ReST-EM: rounds, self-edits per training passage, inner loops per self-edit. */
  rounds: number;
  k: number;
  repeats: number;
  selfEditMaxTokens: number;
  temperature: number;
  innerLoop: { rank: number; alpha: number; targets: Projection[]; lr: number; epochs: number };
  sft: { rank: number; alpha: number; lr: number; epochs: number; batch: number; gradAccum: number };
  continual: { runs: number; sequenceLength: number } | null;
  seed: number;
}

export const DEMO_SETTINGS: Readonly<DemoSettings> = {
  evalPassages: 40,
  rlPassages: 40,
  evalK: 2,
  rounds: 2,
  k: 8,
  repeats: 1,
  selfEditMaxTokens: 320,
  temperature: 1,
  // The reference's LoRA (r=32, α=64, 10 epochs) on every projection at lr 3e-3: a 3.7 M-parameter model stores
  // facts in its MLPs, and q/v-only LoRA at 1e-3 left even oracle self-edits without effect (measured, README).
  innerLoop: { rank: 32, alpha: 64, targets: [...PROJECTIONS], lr: 3e-3, epochs: 10 },
  // The reference's SFT LoRA (r=64, α=128, all projections) with a stronger M-step, on 40 passages × best of 8: the
  // reference's lr 3e-4, 2 epochs, batch 10 (≈ 8 steps on 32 passages × best of 4) left the mean reward of the
  // next round's samples at 15.8% → 16.0%; lr 1e-3, 3 epochs, batch 4 took it from 16.4% to 19.7% (measured,
  // docs/seal-mini-demo/earlier/v2-reference-sft and the shipped report).
  sft: { rank: 64, alpha: 128, lr: 1e-3, epochs: 3, batch: 1, gradAccum: 4 },
  continual: { runs: 2, sequenceLength: 4 },
  seed: 0,
};

export const QUICK_DEMO_SETTINGS: Readonly<DemoSettings> = {
  ...DEMO_SETTINGS,
  evalPassages: 3,
  rlPassages: 3,
  evalK: 1,
  rounds: 1,
  k: 2,
  selfEditMaxTokens: 48,
  innerLoop: { ...DEMO_SETTINGS.innerLoop, epochs: 2 },
  sft: { ...DEMO_SETTINGS.sft, epochs: 1, gradAccum: 2 },
  continual: { runs: 1, sequenceLength: 2 },
};

/** The checkpoint shipped with the package (models/seal-mini), the demo's default model. */
export function shippedMiniModel(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, "models", "seal-mini");
    if (fs.existsSync(path.join(candidate, "config.json"))) return candidate;
  }
  throw new Error("the shipped SEAL-mini model (models/seal-mini) was not found; pass --model DIR");
}

export interface DemoRequest {
  model: string;
  out: string;
  settings: DemoSettings;
  quick: boolean;
  command: string;
  /** Inner loops run together (speed only; default DEFAULT_PARALLEL_ADAPTERS). */
  parallelAdapters?: number;
  log?: (line: string) => void;
}

const hasRun = (dir: string) => fs.existsSync(path.join(dir, "run.json"));

/**
 * Minutes already recorded by an earlier invocation of the demo in `out` (0 if none): a resumed demo reports the
 * time of every invocation that finished it, not just the last one. (Time spent by an invocation that crashed
 * before writing its summary is not known and not counted.)
 */
function previousMinutes(out: string): number {
  try {
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8")) as { minutes?: unknown };
    return typeof summary.minutes === "number" && Number.isFinite(summary.minutes) ? summary.minutes : 0;
  } catch {
    return 0;
  }
}

export async function runDemo(request: DemoRequest): Promise<DemoReport> {
  const started = performance.now();
  const log = request.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const s = request.settings;
  const parallel = request.parallelAdapters === undefined ? {} : { parallelAdapters: request.parallelAdapters };
  const out = path.resolve(request.out);
  const model = path.resolve(request.model);
  fs.mkdirSync(out, { recursive: true });
  const { readMiniModelInfo } = await import("../../domains/mini/model-config.js");
  const { writeMiniWorld } = await import("../../domains/mini/files.js");
  const { defaultEvaluationConfig } = await import("../../domains/knowledge/evaluation-config.js");
  const { evaluateKnowledge } = await import("../../domains/knowledge/evaluate.js");
  const { fingerprintModelFolder } = await import("../../seal/fingerprint.js");
  const { runKnowledgeGenerate } = await import("./knowledge-generate.js");
  const { runKnowledgeTrain } = await import("./knowledge-train.js");

  // (0) the world the model was pretrained on
  const info = readMiniModelInfo(model);
  const worldDir = path.join(out, "world");
  // the world is the one the model was pretrained on, so its seed comes from the model, never from --seed
  log(
    `demo: regenerating the SEAL-mini world in ${worldDir} (world seed ${info.seed}, fixed by the model that was ` +
      `pretrained on it; --seed ${s.seed} seeds the demo's sampling and training)`,
  );
  const { world } = writeMiniWorld(worldDir, { ...info.world, world: { seed: info.seed, ...info.world.world } });
  const worldTokenizer = fs.readFileSync(path.join(worldDir, "tokenizer", "tokenizer.json"), "utf8");
  if (worldTokenizer !== fs.readFileSync(path.join(model, "tokenizer.json"), "utf8"))
    throw new Error(
      `${model}: its tokenizer differs from the regenerated world's (world version ${info.worldVersion})`,
    );
  const evalFile = path.join(worldDir, "eval_passages.json");
  const rlFile = path.join(worldDir, "rl_passages.json");
  const oracleFile = path.join(worldDir, "eval_oracle.json");

  // Answers get 24 tokens: after a LoRA update on statements the mini model often answers with a statement
  // ("X was born in the city of Y"), and 8 tokens cut such an answer before its value (measured: oracle self-edits
  // 10% at 8 tokens, 37% at 24 on 20 held-out passages). The grader is the local contains-gold check.
  const { defaultInnerLoopConfig } = await import("../../domains/knowledge/inner-loop-config.js");
  const demoInnerLoop = {
    lora: { rank: s.innerLoop.rank, alpha: s.innerLoop.alpha, dropout: 0, targets: s.innerLoop.targets },
    train: { ...defaultInnerLoopConfig().train, epochs: s.innerLoop.epochs, lr: s.innerLoop.lr, batchSize: 1 },
    maxAnswerTokens: 24,
  };
  const innerLoop = (mode: EvaluationConfig["mode"], completions: number, seed: number): EvaluationConfig =>
    defaultEvaluationConfig({ ...demoInnerLoop, mode, completions, repeats: 1, start: 0, limit: s.evalPassages, seed });
  const evaluate = async (
    key: string,
    modelDir: string,
    input: string,
    config: EvaluationConfig,
  ): Promise<EvaluationSummary> => {
    const dir = path.join(out, key);
    log(`demo: ${key}: ${config.mode}, ${config.limit} passages`);
    const summary = await evaluateKnowledge({
      modelDir,
      inputPath: input,
      outDir: dir,
      resume: hasRun(dir),
      config,
      ...parallel,
      log,
    });
    if (!summary.complete) throw new Error(`${dir}: evaluation is incomplete`);
    return summary;
  };
  const generateOn = async (key: string, modelDir: string): Promise<string> => {
    const dir = path.join(out, key, "generate");
    log(`demo: ${key}: sampling ${s.evalK} self-edits per held-out passage`);
    await runKnowledgeGenerate({
      model: modelDir,
      data: evalFile,
      out: dir,
      k: s.evalK,
      temperature: s.temperature,
      topP: 0.95,
      topK: 0,
      maxTokens: s.selfEditMaxTokens,
      seed: s.seed,
      batch: 16,
      start: 0,
      limit: s.evalPassages,
      resume: hasRun(dir),
    });
    return path.join(dir, "self_edits.json");
  };

  const { readSelfEditFile } = await import("../../domains/knowledge/data.js");
  const { chosenRecords, recordFactRates } = await import("../../domains/mini/self-edit-facts.js");
  const { demoComparisons } = await import("../../domains/mini/demo-comparisons.js");
  const { readJsonFile } = await import("../../io/json-file.js");
  const conditions: DemoCondition[] = [];
  const add = (
    key: string,
    label: string,
    summary: EvaluationSummary,
    options: { useBaseline?: boolean; selfEdits?: string } = {},
  ) => {
    const useBaseline = options.useBaseline === true;
    const accuracies = summary.perPassage.map((p) => (useBaseline ? p.baseline : p.adapted));
    const pick = (intervals: EvaluationSummary["macro"]) => (useBaseline ? intervals.baseline : intervals.adapted);
    conditions.push({
      key,
      label,
      macro: pick(summary.macro),
      micro: pick(summary.micro),
      innerLoops: useBaseline ? 0 : summary.innerLoops.done,
      divergedInnerLoops: useBaseline ? 0 : summary.divergedInnerLoops,
      run: key,
      perPassage: accuracies,
      selfEditFacts:
        options.selfEdits === undefined
          ? null
          : recordFactRates(world, readSelfEditFile(options.selfEdits).slice(0, s.evalPassages)),
    });
  };

  add("base", "base model, no update", await evaluate("base", model, evalFile, innerLoop("no-update", 1, s.seed)), {
    useBaseline: true,
  });
  add(
    "passage",
    "LoRA on the passage only",
    await evaluate("passage", model, evalFile, innerLoop("passages-only", 1, s.seed)),
  );
  const baseEdits = await generateOn("base-self-edits", model);
  add(
    "base-self-edits",
    "passage + base-model self-edits",
    await evaluate("base-self-edits/evaluate", model, baseEdits, innerLoop("self-edits", s.evalK, s.seed)),
    { selfEdits: baseEdits },
  );
  add(
    "oracle",
    'passage + "oracle" self-edits (written from the ground-truth facts)',
    await evaluate("oracle", model, oracleFile, innerLoop("self-edits", 1, s.seed)),
    { selfEdits: oracleFile },
  );

  // ReST-EM on the training passages
  log(`demo: ReST-EM, ${s.rounds} rounds on ${s.rlPassages} training passages`);
  const rlDir = path.join(out, "rl");
  const train = await runKnowledgeTrain(
    {
      model,
      data: rlFile,
      out: rlDir,
      rounds: s.rounds,
      k: s.k,
      repeats: s.repeats,
      passages: s.rlPassages,
      start: 0,
      temperature: s.temperature,
      topP: 0.95,
      maxTokens: s.selfEditMaxTokens,
      genBatch: 16,
      sftRank: s.sft.rank,
      sftAlpha: s.sft.alpha,
      sftLr: s.sft.lr,
      sftEpochs: s.sft.epochs,
      sftBatch: s.sft.batch,
      sftGradAccum: s.sft.gradAccum,
      rank: s.innerLoop.rank,
      alpha: s.innerLoop.alpha,
      targets: s.innerLoop.targets,
      lr: s.innerLoop.lr,
      epochs: s.innerLoop.epochs,
      batchSize: 1,
      splitNewlines: true,
      maxAnswerTokens: 24,
      seed: s.seed,
      resume: hasRun(rlDir),
      ...parallel,
    },
    { log },
  );
  let afterEdits: string | null = null;
  for (const round of train.rounds) {
    if (round.model === null) continue;
    const key = `seal-round-${round.round + 1}`;
    const edits = await generateOn(key, round.model);
    afterEdits = edits;
    add(
      key,
      `SEAL after ReST-EM round ${round.round + 1}`,
      await evaluate(`${key}/evaluate`, round.model, edits, innerLoop("self-edits", s.evalK, s.seed)),
      { selfEdits: edits },
    );
  }

  // continual self-edits on the base model
  let forgetting: DemoReport["forgetting"] = null;
  if (s.continual !== null) {
    const { defaultContinualConfig, runContinual } = await import("../../domains/knowledge/continual.js");
    const dir = path.join(out, "continual");
    log(`demo: continual self-edits, ${s.continual.runs} runs × ${s.continual.sequenceLength} edits`);
    const summary = await runContinual({
      modelDir: model,
      dataPath: evalFile,
      outDir: dir,
      resume: hasRun(dir),
      config: defaultContinualConfig({
        runs: s.continual.runs,
        sequenceLength: s.continual.sequenceLength,
        ...demoInnerLoop,
        seed: s.seed,
        temperature: s.temperature,
        topP: 0.95,
        maxTokens: s.selfEditMaxTokens,
      }),
      log,
    });
    forgetting = { base: summary.base, justEdited: summary.justEdited, finalRow: summary.finalRow };
  }

  const examples: DemoReport["examples"] = [];
  if (afterEdits !== null) {
    const before = readSelfEditFile(baseEdits);
    const after = readSelfEditFile(afterEdits);
    for (let i = 0; i < Math.min(2, before.length, after.length); i++)
      examples.push({
        title: before[i].title,
        before: before[i].completions[0] ?? "",
        after: after[i].completions[0] ?? "",
      });
  }

  const plots: DemoReport["plots"] = [];
  const copyPlot = (from: string, file: string, caption: string) => {
    if (!fs.existsSync(from)) return;
    fs.copyFileSync(from, path.join(out, file));
    plots.push({ file, caption });
  };
  copyPlot(path.join(rlDir, "rounds.svg"), "rewards.svg", "mean reward per ReST-EM round (training passages)");
  copyPlot(
    path.join(out, "continual", "forgetting.svg"),
    "forgetting.svg",
    "continual self-edits: accuracy on each passage (column) after each edit (row)",
  );

  const roundFacts = (round: number) => {
    const dir = path.join(rlDir, `round-${round}`);
    const records = readSelfEditFile(path.join(dir, "generate", "self_edits.json"));
    const picks = readJsonFile(
      path.join(dir, "selection.json"),
      z.array(z.object({ title: z.string(), best: z.number().nullable(), kept: z.boolean() })),
    );
    return {
      factsAll: recordFactRates(world, records),
      factsChosen: recordFactRates(world, chosenRecords(records, picks)),
    };
  };

  const cpus = os.cpus();
  const report: DemoReport = {
    format: "seal-demo/1",
    command: request.command,
    quick: request.quick,
    model,
    modelFingerprint: fingerprintModelFolder(model).sha256,
    machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? "CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    minutes: previousMinutes(out) + (performance.now() - started) / 60000,
    settings: { ...s },
    conditions,
    comparisons: demoComparisons(conditions),
    rounds: train.rounds
      .filter((r) => r.selection !== null)
      .map((r) => ({
        round: r.round,
        meanRewardAll: r.selection?.meanRewardAll ?? null,
        meanRewardChosen: r.selection?.meanRewardChosen ?? null,
        meanBaseline: r.selection?.meanBaseline ?? null,
        ...roundFacts(r.round),
      })),
    plots,
    examples,
    forgetting,
  };
  const { demoHtml, demoMarkdown } = await import("../../domains/mini/demo-report.js");
  const { writeFileAtomic } = await import("../../io/atomic-file.js");
  const { writeJsonFile } = await import("../../io/json-file.js");
  writeFileAtomic(path.join(out, "report.md"), demoMarkdown(report));
  // the plots are inlined, so the page still shows them when moved without its sibling SVG files
  writeFileAtomic(
    path.join(out, "report.html"),
    demoHtml(report, (file) => fs.readFileSync(path.join(out, file), "utf8")),
  );
  writeJsonFile(path.join(out, "summary.json"), report);
  return report;
}
