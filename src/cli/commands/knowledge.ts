/** `seal knowledge …`: SEAL's knowledge-incorporation domain (reference §1). */
import type { Command } from "commander";
import { registerKnowledgeContinual } from "./knowledge-continual.js";
import { registerKnowledgeCpt } from "./knowledge-cpt.js";
import { registerKnowledgeEvaluate } from "./knowledge-evaluate.js";
import { registerKnowledgeGenerate } from "./knowledge-generate.js";
import { registerKnowledgeRegrade } from "./knowledge-regrade.js";
import { registerKnowledgeTrain } from "./knowledge-train.js";

/** One registrar per subcommand file (`knowledge-<name>.ts`); add new ones here. */
const SUBCOMMANDS: ((group: Command) => void)[] = [
  registerKnowledgeGenerate,
  registerKnowledgeEvaluate,
  registerKnowledgeRegrade,
  registerKnowledgeTrain,
  registerKnowledgeCpt,
  registerKnowledgeContinual,
];

export function registerKnowledgeCommands(program: Command): void {
  const group = program
    .command("knowledge")
    .description("knowledge incorporation: self-edits from passages, LoRA updates, closed-book QA, ReST-EM");
  for (const register of SUBCOMMANDS) register(group);
}
