/** `seal memory demo`: ingest → retrieval → consolidation → forgetting → forget, measured against a live server. */
import path from "node:path";
import type { Command } from "commander";
import { parsePositiveInt } from "../options.js";
import { shippedMiniModel } from "./demo-run.js";

export function registerMemoryDemo(group: Command): void {
  group
    .command("demo")
    .description(
      "run the memory cycle on the SEAL-mini world against a fresh `seal serve`: closed-book accuracy before, with retrieval, after consolidation, forgetting after a second batch, and a forgotten document",
    )
    .option("--model <dir>", "a SEAL-mini model folder (default: the shipped one)")
    .option("--out <dir>", "where summary.json, report.md and the server's data go", "seal-memory-demo")
    .option("--passages <n>", "held-out passages per batch (two batches)", parsePositiveInt, 10)
    .option("--max-answer-tokens <n>", "tokens per answer", parsePositiveInt, 32)
    .option("--concurrency <n>", "questions in flight at once", parsePositiveInt, 16)
    .action(
      async (options: {
        model?: string;
        out: string;
        passages: number;
        maxAnswerTokens: number;
        concurrency: number;
      }) => {
        const { runMemoryDemo } = await import("./memory-demo-run.js");
        const { demoTable } = await import("./memory-demo-report.js");
        const summary = await runMemoryDemo({
          model: path.resolve(options.model ?? shippedMiniModel()),
          out: options.out,
          passages: options.passages,
          maxAnswerTokens: options.maxAnswerTokens,
          concurrency: options.concurrency,
          command: `seal memory demo ${process.argv.slice(4).join(" ")}`.trim(),
          log: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(`${demoTable(summary.rows)}\n`);
        process.stdout.write(`(${summary.minutes.toFixed(1)} min; report: ${path.join(options.out, "report.md")})\n`);
      },
    );
}
