/** `seal mini …`: the SEAL-mini world and its base model. */
import type { Command } from "commander";
import { registerMiniPretrain } from "./mini-pretrain.js";

/** One registrar per subcommand file (`mini-<name>.ts`); add new ones here. */
const SUBCOMMANDS: ((group: Command) => void)[] = [registerMiniPretrain];

export function registerMiniCommands(program: Command): void {
  const group = program
    .command("mini")
    .description("SEAL-mini: a generated world of invented people and the small base model pretrained on it");
  for (const register of SUBCOMMANDS) register(group);
}
