/** Helpers for the CLI tests: run `bin/seal.js` in a child process, build a tiny model with a real tokenizer. */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { QWEN3_TOKENIZER, REPO_ROOT, tempDir } from "../io/fixtures.js";

/**
 * On a busy machine (more runnable threads than cores), libgomp's default spin-waiting was seen to make every
 * small OpenMP region cost milliseconds (a 32-step tiny training run: 13.6 s instead of 0.8 s); passive waiting
 * keeps these tests fast either way. A value already in the environment wins.
 */
export const CHILD_ENV: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: "passive", ...process.env, SEAL_DEBUG: "" };

export function seal(args: string[]): string {
  return execFileSync(process.execPath, ["bin/seal.js", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: CHILD_ENV,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs a command and returns everything it printed, whatever its exit status. */
export function sealResult(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["bin/seal.js", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: CHILD_ENV,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `seal model create --preset tiny-qwen2` with Qwen3's real tokenizer (vocabulary 151,669), in a temp folder. */
export function createTinyModel(prefix: string): { root: string; model: string } {
  const root = tempDir(prefix);
  const model = path.join(root, "model");
  seal(["model", "create", "--preset", "tiny-qwen2", "--tokenizer", QWEN3_TOKENIZER, "--out", model, "--seed", "1"]);
  return { root, model };
}

export interface OutputRecord {
  prompt_index: number;
  sample_index: number;
  prompt: string;
  completion: string;
  finish_reason: string;
  tokens: number[];
}

export function parseJsonl<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

/** Two passages (three questions) that the knowledge tests share; add `completions` and `prompt` for self-edits. */
export const LOST_LANDS = [
  {
    title: "Atlantis",
    context: "The capital of Atlantis is Poseidonia. It sank in 9600 BC.",
    questions: [
      { question: "What is the capital?", answer: "Poseidonia" },
      { question: "When did it sink?", answer: "9600 BC" },
    ],
  },
  {
    title: "Lemuria",
    context: "Lemuria lay in the Indian Ocean.",
    questions: [{ question: "Where was Lemuria?", answer: "Indian Ocean" }],
  },
];

/** LOST_LANDS as self-edit records: one completion each (same order). */
export function lostLandsWithSelfEdits(completions: [string, string]) {
  return LOST_LANDS.map((passage, i) => ({ ...passage, completions: [completions[i]], prompt: "p" }));
}
