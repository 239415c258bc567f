/** Entry point of the `seal` binary: run the command, report failures as `seal: <message>`, exit 1. */
import { createProgram } from "./program.js";

export async function main(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    const debug = process.env.SEAL_DEBUG === "1";
    const message = error instanceof Error ? (debug ? (error.stack ?? error.message) : error.message) : String(error);
    process.stderr.write(`seal: ${message}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
