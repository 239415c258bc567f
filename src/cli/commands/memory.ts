/** `seal memory …`: the hybrid memory that `seal serve` keeps (retrieval now, weights after consolidation). */
import type { Command } from "commander";
import { registerMemoryDemo } from "./memory-demo.js";

export function registerMemoryCommands(program: Command): void {
  const group = program.command("memory").description("the memory `seal serve` keeps: documents, consolidation, demo");
  registerMemoryDemo(group);
}
