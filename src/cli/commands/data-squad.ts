/**
 * `seal data squad`: download the official SQuAD v1.1 files (checksum-verified) and convert them to passage files,
 * `squad_val.json` (dev) and `squad_train.json` (train).
 */
import { type Command, Option } from "commander";
import type { DownloadProgress, SquadSplit } from "../../domains/knowledge/squad-download.js";
import { checkOutputFolder } from "../../io/output-path.js";

export interface DataSquadOptions {
  out: string;
  split: "dev" | "train" | "both";
  baseUrl?: string;
  force?: boolean;
}

function count(bytes: number): string {
  return bytes.toLocaleString("en-US");
}

/** Progress on stderr: a rewritten line on a terminal, otherwise a line every 10%. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (progress: DownloadProgress) => void {
  let lastKey = "";
  let lastTime = 0;
  return (progress) => {
    const name = progress.url.slice(progress.url.lastIndexOf("/") + 1);
    const percent =
      progress.total !== undefined && progress.total > 0
        ? Math.min(100, Math.floor((100 * progress.received) / progress.total))
        : undefined;
    const text = `${name}: ${count(progress.received)}${progress.total !== undefined ? ` / ${count(progress.total)}` : ""} bytes${percent !== undefined ? ` (${percent}%)` : ""}`;
    if (stream.isTTY) {
      const now = Date.now();
      if (!progress.done && now - lastTime < 200) return;
      lastTime = now;
      stream.write(`\r${text}\x1b[K${progress.done ? "\n" : ""}`);
      return;
    }
    const key = `${progress.url} ${percent !== undefined ? Math.floor(percent / 10) : Math.floor(progress.received / 5e6)}`;
    if (progress.done || key !== lastKey) {
      lastKey = key;
      stream.write(`${text}\n`);
    }
  };
}

export function registerDataSquad(group: Command): void {
  group
    .command("squad")
    .description("download SQuAD v1.1 (SHA-256 verified) and convert it to squad_val.json / squad_train.json")
    .requiredOption("--out <dir>", "folder to write the passage files into")
    .addOption(
      new Option("--split <split>", "which split(s): dev → squad_val.json, train → squad_train.json")
        .choices(["dev", "train", "both"])
        .default("both"),
    )
    .option("--base-url <url>", "folder URL of a mirror holding dev-v1.1.json / train-v1.1.json")
    .option("--force", "overwrite existing passage files")
    .action(async (options: DataSquadOptions) => {
      checkOutputFolder(options.out);
      const { downloadSquad } = await import("../../domains/knowledge/squad-download.js");
      const splits: SquadSplit[] = options.split === "both" ? ["dev", "train"] : [options.split];
      const results = await downloadSquad({
        outDir: options.out,
        splits,
        baseUrl: options.baseUrl,
        force: options.force,
        onProgress: progressPrinter(),
        log: (line) => process.stderr.write(`seal: ${line}\n`),
      });
      for (const result of results)
        process.stdout.write(
          `wrote ${result.outPath}: ${result.passages} passages, ${result.questions} questions (${result.url}, ${result.bytes} bytes, sha256 ${result.sha256})\n`,
        );
    });
}
