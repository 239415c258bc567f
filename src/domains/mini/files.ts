/**
 * Writes a whole SEAL-mini world to a folder:
 * - `world.json`: version, options, value sets and every person's ground truth (with split);
 * - `{pretrain,rl,eval}_passages.json`: passage files (data.ts format);
 * - `{rl,eval}_oracle.json`: oracle self-edit files (`seal knowledge evaluate --self-edits`);
 * - `corpus.jsonl`: the pretraining corpus, one `{"text"}` per line (`seal train` appends EOS to each);
 * - `tokenizer/`: `tokenizer.json` + `tokenizer_config.json`;
 * - `stats.json`: sizes and token counts.
 * Before writing it checks, rather than assumes, that no held-out name is in the corpus and that every text
 * round-trips through the tokenizer.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../io/atomic-file.js";
import { writeJsonFile } from "../../io/json-file.js";
import { loadTokenizer } from "../../io/tokenizer.js";
import type { Passage } from "../knowledge/data.js";
import { writeSelfEditFile } from "../knowledge/data.js";
import { buildSelfEditPrompt, closedBookQaPrompt, SELF_EDIT_PROMPT_STYLES } from "../knowledge/prompts.js";
import { buildPretrainCorpus, CORPUS_KINDS, type CorpusDocument, type CorpusOptions, corpusOptions } from "./corpus.js";
import { oracleRecords, splitPassages } from "./held-out.js";
import { assertNoLeakage } from "./leakage.js";
import { DEFAULT_ORACLE_OPTIONS, type OracleOptions } from "./oracle.js";
import { buildTokenizer, writeTokenizerFiles } from "./tokenizer-builder.js";
import { generateWorld, type World, type WorldOptions } from "./world.js";

export interface MiniWorldOptions {
  world: Partial<WorldOptions>;
  corpus: Partial<CorpusOptions>;
  oracle: OracleOptions;
  /** Oracle self-edits per passage. */
  oracleCompletions: number;
}

export const DEFAULT_MINI_WORLD_OPTIONS: Readonly<MiniWorldOptions> = {
  world: {},
  corpus: {},
  oracle: DEFAULT_ORACLE_OPTIONS,
  oracleCompletions: 1,
};

export interface MiniWorldStats {
  version: number;
  people: { pretrain: number; rl: number; eval: number };
  vocabSize: number;
  documents: Record<string, number>;
  corpusTokens: Record<string, number>;
  meanTokensPerPassage: number;
  meanTokensPerOracleSelfEdit: number;
}

/** Texts of the held-out splits and the fixed prompts: their words get tokens too. */
export function heldOutTexts(passages: readonly Passage[], oracle: readonly string[]): string[] {
  const texts: string[] = [...oracle];
  for (const passage of passages) {
    texts.push(`${passage.title}\n${passage.context}`);
    for (const qa of passage.questions) texts.push(closedBookQaPrompt(passage.title, qa.question) + qa.answer);
  }
  if (passages.length > 0) {
    for (const style of SELF_EDIT_PROMPT_STYLES)
      texts.push(buildSelfEditPrompt(style, passages[0].title, passages[0].context));
  }
  return texts;
}

export interface WrittenMiniWorld {
  world: World;
  corpus: CorpusDocument[];
  stats: MiniWorldStats;
}

export function writeMiniWorld(outDir: string, overrides: Partial<MiniWorldOptions> = {}): WrittenMiniWorld {
  const options = { ...DEFAULT_MINI_WORLD_OPTIONS, ...overrides };
  const world = generateWorld(options.world);
  const resolvedCorpus = corpusOptions(world, options.corpus);
  const corpus = buildPretrainCorpus(world, resolvedCorpus);
  const corpusTexts = corpus.map((doc) => doc.text);
  assertNoLeakage(world, corpusTexts);

  const passages = {
    pretrain: splitPassages(world, "pretrain"),
    rl: splitPassages(world, "rl"),
    eval: splitPassages(world, "eval"),
  };
  const oracle = {
    rl: oracleRecords(world, "rl", options.oracleCompletions, options.oracle),
    eval: oracleRecords(world, "eval", options.oracleCompletions, options.oracle),
  };
  const oracleTexts = [...oracle.rl, ...oracle.eval].flatMap((record) => record.completions);
  const built = buildTokenizer([...corpusTexts, ...heldOutTexts([...passages.rl, ...passages.eval], oracleTexts)]);

  fs.mkdirSync(outDir, { recursive: true });
  const tokenizerDir = path.join(outDir, "tokenizer");
  writeTokenizerFiles(tokenizerDir, built);
  const tokenizer = loadTokenizer(tokenizerDir);
  const count = (text: string): number => {
    const ids = tokenizer.encode(text);
    if (tokenizer.decode(ids) !== text)
      throw new Error(`tokenizer does not round-trip: ${JSON.stringify(text.slice(0, 80))}`);
    return ids.length;
  };

  const documents: Record<string, number> = {};
  const corpusTokens: Record<string, number> = { total: 0 };
  for (const kind of CORPUS_KINDS) {
    documents[kind] = 0;
    corpusTokens[kind] = 0;
  }
  for (const doc of corpus) {
    const tokens = count(doc.text) + 1; // + EOS
    documents[doc.kind] += 1;
    corpusTokens[doc.kind] += tokens;
    corpusTokens.total += tokens;
  }
  const heldOut = [...passages.rl, ...passages.eval];
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);
  const stats: MiniWorldStats = {
    version: world.version,
    people: { pretrain: passages.pretrain.length, rl: passages.rl.length, eval: passages.eval.length },
    vocabSize: tokenizer.vocabSize,
    documents,
    corpusTokens,
    meanTokensPerPassage: mean(heldOut.map((p) => count(`${p.title}\n${p.context}`))),
    meanTokensPerOracleSelfEdit: mean(oracleTexts.map(count)),
  };

  writeJsonFile(path.join(outDir, "world.json"), {
    version: world.version,
    options: world.options,
    corpusOptions: resolvedCorpus,
    values: world.values,
    people: world.people.map((p) => ({ name: p.name, split: p.split, pronoun: p.pronoun, attributes: p.attributes })),
  });
  for (const split of ["pretrain", "rl", "eval"] as const)
    writeJsonFile(path.join(outDir, `${split}_passages.json`), passages[split]);
  writeSelfEditFile(path.join(outDir, "rl_oracle.json"), oracle.rl);
  writeSelfEditFile(path.join(outDir, "eval_oracle.json"), oracle.eval);
  writeFileAtomic(
    path.join(outDir, "corpus.jsonl"),
    corpusTexts.map((text) => `${JSON.stringify({ text })}\n`).join(""),
  );
  writeJsonFile(path.join(outDir, "stats.json"), stats);
  return { world, corpus, stats };
}
