/** `seal model …`: create and inspect model folders. */
import type { Command } from "commander";
import { registerModelCreate } from "./model-create.js";
import { registerModelInfo } from "./model-info.js";

export function registerModelCommands(program: Command): void {
  const model = program.command("model").description("create and inspect models in Hugging Face layout");
  registerModelCreate(model);
  registerModelInfo(model);
}
