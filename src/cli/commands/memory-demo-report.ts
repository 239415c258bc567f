/** The memory demo's table: accuracy per condition with its 95% interval (Student's t over the 0/1 grades). */
import { meanConfidenceInterval } from "../../seal/stats.js";
import type { MemoryDemoSummary } from "./memory-demo-run.js";

export interface DemoRow {
  condition: string;
  retrieval: "none" | "pending" | "all";
  questions: number;
  correct: number;
  accuracy: number;
  /** 95% interval of the accuracy; null with fewer than two questions. */
  lower: number | null;
  upper: number | null;
  /** Questions whose own document retrieval put into the prompt (null with retrieval off). */
  ownDocumentRetrieved: number | null;
}

export function demoRow(
  condition: string,
  retrieval: DemoRow["retrieval"],
  correct: readonly number[],
  ownDocumentRetrieved: number | null = null,
): DemoRow {
  const sum = correct.reduce((s, c) => s + c, 0);
  const interval = correct.length >= 2 ? meanConfidenceInterval(correct) : null;
  return {
    condition,
    retrieval,
    questions: correct.length,
    correct: sum,
    accuracy: correct.length === 0 ? 0 : sum / correct.length,
    lower: interval ? Math.max(0, interval.lower) : null,
    upper: interval ? Math.min(1, interval.upper) : null,
    ownDocumentRetrieved,
  };
}

const percent = (x: number | null) => (x === null ? "—" : `${(100 * x).toFixed(1)}%`);

function cells(row: DemoRow): string[] {
  const interval = row.lower === null ? "—" : `[${percent(row.lower)}, ${percent(row.upper)}]`;
  const retrieved = row.ownDocumentRetrieved === null ? "—" : `${row.ownDocumentRetrieved}/${row.questions}`;
  return [row.condition, row.retrieval, retrieved, `${row.correct}/${row.questions}`, percent(row.accuracy), interval];
}

const HEADER = ["condition", "retrieval", "own document retrieved", "correct", "accuracy", "95% interval"];

/** A Markdown table (with its header unless `header` is false, for progress lines). */
export function demoTable(rows: readonly DemoRow[], header = true): string {
  const lines = rows.map((r) => `| ${cells(r).join(" | ")} |`);
  if (!header) return lines.join("\n");
  return [`| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`, ...lines].join("\n");
}

export function demoMarkdown(summary: MemoryDemoSummary): string {
  const consolidations = summary.consolidations.map((c) => {
    const gate = (c.report?.gate as { reason?: string } | undefined)?.reason ?? "";
    const seconds = Object.values((c.report?.seconds as Record<string, number> | undefined) ?? {}).reduce(
      (s, x) => s + x,
      0,
    );
    return `| ${c.id} | ${c.mode} | ${c.documentIds.length} | ${c.state} | ${seconds.toFixed(0)} s | ${gate} |`;
  });
  return [
    "# seal memory demo",
    "",
    `\`${summary.command}\` — model ${summary.model}, ${summary.passagesPerBatch} passages per batch, ${summary.minutes.toFixed(1)} min.`,
    "",
    demoTable(summary.rows),
    "",
    "| consolidation | mode | new documents | state | time | gate |",
    "|---|---|---|---|---|---|",
    ...consolidations,
    "",
    `Forgotten document ${summary.forgottenDocument}: retrieved in ${summary.forgottenRetrieved} of its questions' answers with retrieval of all documents.`,
    "",
  ].join("\n");
}
