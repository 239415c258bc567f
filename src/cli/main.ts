/** Entry point of the `seal` binary: run the command, report failures as `seal: <message>`, exit 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    // imported here so that a failure while loading (the native addon refusing its thread settings, say) is
    // reported like any other error instead of as an uncaught stack
    const { createProgram } = await import("./program.js");
    await createProgram().parseAsync(argv);
  } catch (error) {
    const debug = process.env.SEAL_DEBUG === "1";
    const message = error instanceof Error ? (debug ? (error.stack ?? error.message) : error.message) : String(error);
    process.stderr.write(`seal: ${message}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
