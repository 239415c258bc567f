/** `seal data …`: obtain and convert datasets. */
import type { Command } from "commander";
import { registerDataSquad } from "./data-squad.js";

/** One registrar per subcommand file (`data-<name>.ts`); add new ones here. */
const SUBCOMMANDS: ((group: Command) => void)[] = [registerDataSquad];

export function registerDataCommands(program: Command): void {
  const group = program.command("data").description("download and convert datasets");
  for (const register of SUBCOMMANDS) register(group);
}
