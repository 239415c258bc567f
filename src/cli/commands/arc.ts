/** `seal arc …`: SEAL's few-shot domain on ARC (reference §2). */
import type { Command } from "commander";
import { registerArcEval } from "./arc-eval.js";
import { registerArcRl } from "./arc-rl.js";
import { registerArcSelfEdit } from "./arc-self-edit.js";
import { registerArcTtt } from "./arc-ttt.js";

/** One registrar per subcommand file (`arc-<name>.ts`); add new ones here. */
const SUBCOMMANDS: ((group: Command) => void)[] = [registerArcSelfEdit, registerArcTtt, registerArcEval, registerArcRl];

export function registerArcCommands(program: Command): void {
  const group = program
    .command("arc")
    .description(
      "ARC few-shot: self-edits choose TTT augmentations and settings, LoRA per task, voted predictions, RL",
    );
  for (const register of SUBCOMMANDS) register(group);
}
