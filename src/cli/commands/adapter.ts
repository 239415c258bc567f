/** `seal adapter …`: inspect PEFT LoRA adapters and merge them into their base models. */
import type { Command } from "commander";
import { registerAdapterInfo } from "./adapter-info.js";
import { registerAdapterMerge } from "./adapter-merge.js";

export function registerAdapterCommands(program: Command): void {
  const adapter = program.command("adapter").description("inspect LoRA adapters (PEFT format) and merge them");
  registerAdapterInfo(adapter);
  registerAdapterMerge(adapter);
}
