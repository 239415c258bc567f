/**
 * `seal knowledge generate`: sample k self-edits per passage (reference §1.2) into a run directory:
 *
 *   run.json                 resolved config + model/data/template fingerprints (compared on --resume)
 *   self-edits.jsonl         one crash-safe record per finished passage, keyed `passage-{index}`
 *   self_edits.json          the reference's format (source record + `completions` + `prompt`), rewritten after
 *                            every chunk, so it is readable mid-way
 *   summary.md/summary.json  passages, k, empty completions, mean completion length, tokens/s, seconds
 *
 * Defaults reproduce the reference: `implications` prompt, raw text (no chat template), k=5, temperature 1,
 * top-p 0.95, max 8192 tokens. The engine is loaded only when the command runs.
 */
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { readPassagesAnyLayout } from "../../domains/knowledge/data.js";
import {
  buildSelfEditPrompt,
  isSelfEditPromptStyle,
  type PromptTemplate,
  readPromptTemplateFile,
  SELF_EDIT_PROMPT_STYLES,
  type SelfEditPromptStyle,
} from "../../domains/knowledge/prompts.js";
import type { SelfEditGenerationConfig, SelfEditSummary } from "../../domains/knowledge/self-edits.js";
import { checkOutputFolder } from "../../io/output-path.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";
import { parseNonNegativeNumber, parseProbability } from "./parsers.js";

export interface KnowledgeGenerateOptions {
  model: string;
  data: string;
  out?: string;
  style?: SelfEditPromptStyle;
  template?: string;
  chat?: boolean;
  k: number;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  seed: number;
  batch: number;
  start: number;
  limit?: number;
  /** `--resume` (continue `--out`) or `--resume DIR`. */
  resume?: boolean | string;
}

function parseStyle(value: string): SelfEditPromptStyle {
  if (!isSelfEditPromptStyle(value))
    throw new InvalidArgumentError(`expected one of ${SELF_EDIT_PROMPT_STYLES.join(", ")}`);
  return value;
}

export function registerKnowledgeGenerate(group: Command): void {
  group
    .command("generate")
    .description("sample k self-edits per passage into a run directory (self_edits.json in the reference's format)")
    .requiredOption("--model <dir>", "generator model folder (Hugging Face layout, with its tokenizer)")
    .requiredOption("--data <file>", "passages: JSON array of {title, context, questions}, or SQuAD v1.1 JSON")
    .option("--out <dir>", "run directory (new or empty; with --resume, the run to continue)")
    .option("--style <name>", `prompt style: ${SELF_EDIT_PROMPT_STYLES.join(", ")} (default implications)`, parseStyle)
    .option("--template <file>", "prompt template file with {title} and {context} (instead of --style)")
    .option("--chat", "render the prompt as a user message through the model's chat template (instruct models)")
    .option("--k <n>", "self-edits per passage", parsePositiveInt, 5)
    .option("--temperature <t>", "sampling temperature, 0 = greedy", parseNonNegativeNumber, 1)
    .option("--top-p <p>", "nucleus sampling mass", parseProbability, 0.95)
    .option("--top-k <k>", "keep the k most likely tokens, 0 = off", parseNonNegativeInt, 0)
    .option("--max-tokens <n>", "tokens to generate at most per self-edit", parsePositiveInt, 8192)
    .option("--seed <n>", "random seed", parseNonNegativeInt, 0)
    .option(
      "--batch <n>",
      "sequences decoded together (passages are sampled in chunks of batch/k)",
      parsePositiveInt,
      16,
    )
    .option("--start <n>", "first passage (index in the data file)", parseNonNegativeInt, 0)
    .option("--limit <n>", "passages to generate for at most", parsePositiveInt)
    .option("--resume [dir]", "continue the run in --out (or in dir) with the same options")
    .action(async (options: KnowledgeGenerateOptions) => {
      const summary = await runKnowledgeGenerate(options);
      process.stdout.write(
        `${summary.passages} passages × ${summary.k} self-edits (${summary.emptyCompletions} empty) → ${summary.file}\n`,
      );
    });
}

/** The run directory from `--out` / `--resume [dir]`. */
export function resolveRunDir(options: Pick<KnowledgeGenerateOptions, "out" | "resume">): {
  dir: string;
  resume: boolean;
} {
  const resumeDir = typeof options.resume === "string" ? options.resume : undefined;
  if (resumeDir !== undefined && options.out !== undefined && path.resolve(resumeDir) !== path.resolve(options.out)) {
    throw new Error(`--resume ${resumeDir} and --out ${options.out} name different folders; give one of them`);
  }
  const dir = resumeDir ?? options.out;
  if (dir === undefined) throw new Error("give the run directory: --out <dir> (or --resume <dir> to continue a run)");
  return { dir: path.resolve(dir), resume: options.resume !== undefined && options.resume !== false };
}

/** Generates (or continues generating) the self-edits; returns the summary it wrote. */
export async function runKnowledgeGenerate(options: KnowledgeGenerateOptions): Promise<SelfEditSummary> {
  const { dir, resume } = resolveRunDir(options);
  checkOutputFolder(dir, options.out !== undefined ? "--out" : "--resume");
  if (options.style !== undefined && options.template !== undefined) {
    throw new Error("give --style or --template, not both");
  }
  const passages = readPassagesAnyLayout(options.data);
  const template: PromptTemplate | SelfEditPromptStyle =
    options.template !== undefined ? readPromptTemplateFile(options.template) : (options.style ?? "implications");

  const selfEdits = await import("../../domains/knowledge/self-edits.js");
  const indices = selfEdits.selectPassageIndices(passages.length, options.start, options.limit ?? null);
  const config: SelfEditGenerationConfig = {
    style: typeof template === "string" ? template : null,
    chat: options.chat === true,
    k: options.k,
    temperature: options.temperature,
    topP: options.topP,
    topK: options.topK,
    maxTokens: options.maxTokens,
    seed: options.seed,
    batch: options.batch,
    start: options.start,
    limit: options.limit ?? null,
  };

  const { fingerprintFile, fingerprintModelFolder } = await import("../../seal/fingerprint.js");
  const { openRun } = await import("../../seal/run-dir.js");
  const fingerprints: Record<string, { sha256: string; [detail: string]: unknown }> = {
    model: { ...fingerprintModelFolder(options.model) },
    data: { ...fingerprintFile(options.data) },
  };
  if (options.template !== undefined) fingerprints.template = { ...fingerprintFile(options.template) };
  const paths = {
    model: path.resolve(options.model),
    data: path.resolve(options.data),
    template: options.template === undefined ? null : path.resolve(options.template),
  };
  // The inputs' contents are compared through their fingerprints; where they live may change between runs.
  const run = openRun(
    dir,
    { command: "knowledge generate", config: { ...config, paths }, fingerprints },
    { resume, allowDifferent: ["config.paths"] },
  );
  const { createProgress } = await import("../../seal/progress.js");
  const log = run.openRecords(selfEdits.SELF_EDIT_LOG_NAME, {
    validate: (record) => selfEdits.selfEditLogRecordSchema.parse(record),
  });
  const progress = createProgress({
    total: indices.length,
    name: "passages",
    done: selfEdits.finishedRecords(log, indices).length,
  });
  const writeOutputs = (): SelfEditSummary => {
    const records = selfEdits.finishedRecords(log, indices);
    const file = selfEdits.writeSelfEditsOfRun(run.dir, records);
    const summary = selfEdits.summarizeSelfEdits(records, indices.length, config, file);
    run.writeSummary({ markdown: selfEdits.selfEditSummaryMarkdown(summary), json: summary });
    return summary;
  };
  try {
    const pending = indices.some((index) => !log.has(selfEdits.passageKey(index)));
    if (pending) {
      const sampler = await loadSampler(options, config);
      selfEdits.generateSelfEdits({
        passages,
        indices,
        config,
        promptFor: (passage) => sampler.render(buildSelfEditPrompt(template, passage.title, passage.context)),
        sampler: sampler.sample,
        log,
        onChunkProgress: (chunk, p) =>
          progress.setLabel(
            `${selfEdits.passageKey(chunk.indices[0])}${chunk.indices.length > 1 ? `..${chunk.indices[chunk.indices.length - 1]}` : ""}: ` +
              `${p.finished}/${p.total} sequences, ${p.generatedTokens} tokens`,
          ),
        onChunkDone: (_chunk, appended) => {
          writeOutputs();
          progress.tick(appended);
        },
      });
    }
    const summary = writeOutputs();
    progress.finish();
    return summary;
  } finally {
    log.close();
    run.release();
  }
}

/** Loads the model and tokenizer and wraps the engine's batched sampler. */
async function loadSampler(
  options: KnowledgeGenerateOptions,
  config: SelfEditGenerationConfig,
): Promise<{
  render: (prompt: string) => string;
  sample: import("../../domains/knowledge/self-edits.js").SelfEditSampler;
}> {
  const { generate } = await import("../../engine/generate.js");
  const { Model } = await import("../../engine/model.js");
  const { loadModel } = await import("../../io/model-files.js");
  const { checkTokenizerFitsModel, loadTokenizer } = await import("../../io/tokenizer.js");
  const loaded = loadModel(options.model);
  const tokenizer = loadTokenizer(options.model);
  checkTokenizerFitsModel(tokenizer, loaded.config, options.model);
  if (config.chat && !tokenizer.hasChatTemplate) {
    throw new Error(`${options.model}: --chat needs a chat template, and this tokenizer has none`);
  }
  const model = new Model(loaded.config, loaded.weights);
  const stopTokenIds = [...new Set([...loaded.eosTokenIds, ...tokenizer.eosTokenIds])];
  const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
  return {
    render: (prompt) =>
      config.chat
        ? tokenizer.applyChatTemplate([{ role: "user", content: prompt }], { addGenerationPrompt: true })
        : prompt,
    sample: (prompts, seed, onProgress) => {
      const ids = prompts.map((text) => tokenizer.encode(text, { addSpecialTokens: !config.chat }));
      const generations = generate(
        model,
        ids,
        {
          temperature: config.temperature,
          topP: config.topP,
          topK: config.topK,
          maxNewTokens: config.maxTokens,
          beyondContext: "stop", // as vLLM, the reference's engine, ends a sequence at max_model_len
          n: config.k,
          stopTokenIds,
          stopStrings: [],
          seed,
          maxBatch: config.batch,
          decode,
        },
        onProgress,
      );
      const out = prompts.map(
        () => [] as { text: string; tokens: number; finishReason: (typeof generations)[number]["finishReason"] }[],
      );
      for (const generation of generations) {
        out[generation.promptIndex][generation.sampleIndex] = {
          text: generation.text ?? "",
          tokens: generation.tokens.length,
          finishReason: generation.finishReason,
        };
      }
      return out;
    },
  };
}
