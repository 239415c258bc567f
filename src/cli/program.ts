/**
 * The `seal` command tree. Each command group lives in `commands/` and exports a `register…Commands(program)`
 * function; add new groups to COMMAND_GROUPS.
 */
import fs from "node:fs";
import { Command } from "commander";
import { registerAdapterCommands } from "./commands/adapter.js";
import { registerArcCommands } from "./commands/arc.js";
import { registerDataCommands } from "./commands/data.js";
import { registerDemo } from "./commands/demo.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerGenerate } from "./commands/generate.js";
import { registerKnowledgeCommands } from "./commands/knowledge.js";
import { registerMemoryCommands } from "./commands/memory.js";
import { registerMiniCommands } from "./commands/mini.js";
import { registerModelCommands } from "./commands/model.js";
import { registerServe } from "./commands/serve.js";
import { registerTrain } from "./commands/train.js";

export type CommandGroup = (program: Command) => void;

export const COMMAND_GROUPS: CommandGroup[] = [
  registerDemo,
  registerModelCommands,
  registerGenerate,
  registerTrain,
  registerAdapterCommands,
  registerKnowledgeCommands,
  registerArcCommands,
  registerMiniCommands,
  registerMemoryCommands,
  registerDataCommands,
  registerServe,
  registerDoctor,
];

/** The package version, read from package.json (dist/src/cli/ → package root). */
export function packageVersion(): string {
  const text = fs.readFileSync(new URL("../../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

export function createProgram(groups: CommandGroup[] = COMMAND_GROUPS): Command {
  const program = new Command();
  program
    .name("seal")
    .description("SEAL (self-adapting language models) on a CPU engine for Llama/Qwen2 models")
    .version(packageVersion())
    // Usage errors read like every other error: "seal: <message>".
    .configureOutput({ outputError: (text, write) => write(`seal: ${text.replace(/^error: /, "")}`) })
    .showHelpAfterError("(run with --help for usage)");
  for (const register of groups) register(program);
  return program;
}
