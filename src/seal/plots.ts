/**
 * Small, dependency-free SVG charts for run reports: a line chart, a histogram and a heatmap. Each writer returns a
 * standalone SVG document (XML declaration not needed; `xmlns` set) whose text is escaped, so labels may contain
 * any characters. Non-finite values are skipped (line chart, histogram) or drawn as empty cells (heatmap).
 */

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** A number for an SVG coordinate (short, no exponent). */
function n(value: number): string {
  return (Math.round(value * 100) / 100).toString();
}

/** A compact tick label. */
export function formatTick(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(1);
  return Number.parseFloat(value.toPrecision(3)).toString();
}

/** About `count` "nice" ticks (1, 2, 5 × 10^k steps) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  const last = Math.floor(max / step + 1e-9);
  for (let i = Math.ceil(min / step - 1e-9); i <= last; i++) {
    ticks.push(Number.parseFloat((i * step).toPrecision(12)));
  }
  return ticks;
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const FONT = 'font-family="sans-serif"';

function svgOpen(width: number, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}">\n<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="white"/>`
  );
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${n(x)}" y="${n(y)}" ${FONT} ${attributes}>${escapeXml(content)}</text>`;
}

interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Axes, ticks, grid lines and axis titles of a chart whose data spans [x0, x1] × [y0, y1]. */
function axes(
  frame: Frame,
  x: { min: number; max: number; label: string },
  y: { min: number; max: number; label: string },
): { parts: string[]; px: (v: number) => number; py: (v: number) => number } {
  const xSpan = x.max - x.min || 1;
  const ySpan = y.max - y.min || 1;
  const px = (v: number) => frame.left + ((v - x.min) / xSpan) * frame.width;
  const py = (v: number) => frame.top + frame.height - ((v - y.min) / ySpan) * frame.height;
  const bottom = frame.top + frame.height;
  const parts: string[] = [
    `<line class="axis" x1="${n(frame.left)}" y1="${n(bottom)}" x2="${n(frame.left + frame.width)}" y2="${n(bottom)}" stroke="black"/>`,
    `<line class="axis" x1="${n(frame.left)}" y1="${n(frame.top)}" x2="${n(frame.left)}" y2="${n(bottom)}" stroke="black"/>`,
  ];
  for (const t of niceTicks(x.min, x.max)) {
    if (t < x.min || t > x.max) continue;
    parts.push(
      `<line class="tick" x1="${n(px(t))}" y1="${n(bottom)}" x2="${n(px(t))}" y2="${n(bottom + 4)}" stroke="black"/>`,
    );
    parts.push(text(px(t), bottom + 16, formatTick(t), 'font-size="10" text-anchor="middle"'));
  }
  for (const t of niceTicks(y.min, y.max)) {
    if (t < y.min || t > y.max) continue;
    parts.push(
      `<line class="grid" x1="${n(frame.left)}" y1="${n(py(t))}" x2="${n(frame.left + frame.width)}" y2="${n(py(t))}" stroke="#e0e0e0"/>`,
    );
    parts.push(text(frame.left - 6, py(t) + 3, formatTick(t), 'font-size="10" text-anchor="end"'));
  }
  parts.push(text(frame.left + frame.width / 2, bottom + 34, x.label, 'font-size="12" text-anchor="middle"'));
  const yMid = frame.top + frame.height / 2;
  parts.push(text(14, yMid, y.label, `font-size="12" text-anchor="middle" transform="rotate(-90 14 ${n(yMid)})"`));
  return { parts, px, py };
}

function extent(values: number[]): { min: number; max: number } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { min: 0, max: 1 };
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  return { min, max };
}

export interface LineSeries {
  label: string;
  points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  width?: number;
  height?: number;
  /** Fixed y range (default: the data's). */
  yRange?: [number, number];
}

/** A line chart: one polyline per series (points with non-finite coordinates dropped), axes, ticks and a legend. */
export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const frame: Frame = { left: 60, top: 40, width: width - 200, height: height - 90 };
  const clean = options.series.map((s) => ({
    label: s.label,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const xs = extent(clean.flatMap((s) => s.points.map(([x]) => x)));
  const ys = options.yRange
    ? { min: options.yRange[0], max: options.yRange[1] }
    : extent(clean.flatMap((s) => s.points.map(([, y]) => y)));
  const { parts, px, py } = axes(frame, { ...xs, label: options.xLabel }, { ...ys, label: options.yLabel });
  const out = [svgOpen(width, height), text(width / 2, 22, options.title, 'font-size="14" text-anchor="middle"')];
  out.push(...parts);
  clean.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    if (s.points.length > 0) {
      const coords = s.points.map(([x, y]) => `${n(px(x))},${n(py(y))}`).join(" ");
      out.push(`<polyline class="series" fill="none" stroke="${color}" stroke-width="1.5" points="${coords}"/>`);
    }
    const ly = frame.top + 10 + i * 18;
    const lx = frame.left + frame.width + 16;
    out.push(
      `<line class="legend" x1="${n(lx)}" y1="${n(ly)}" x2="${n(lx + 18)}" y2="${n(ly)}" stroke="${color}" stroke-width="2"/>`,
    );
    out.push(text(lx + 24, ly + 4, s.label, 'font-size="11"'));
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

export interface HistogramOptions {
  title: string;
  xLabel: string;
  values: readonly number[];
  /** Number of equal-width bins (default 10). */
  bins?: number;
  /** Fixed value range (default: the data's). */
  range?: [number, number];
  width?: number;
  height?: number;
}

/** Bin counts of `values` over `bins` equal bins of [min, max] (the last bin closed). */
export function histogramCounts(values: readonly number[], bins: number, min: number, max: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const span = max - min || 1;
  for (const v of values) {
    if (!Number.isFinite(v) || v < min || v > max) continue;
    counts[Math.min(bins - 1, Math.floor(((v - min) / span) * bins))]++;
  }
  return counts;
}

/** A histogram: one `rect class="bar"` per bin, with axes and a count axis. */
export function histogramSvg(options: HistogramOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram bins must be a positive integer, got ${bins}`);
  const frame: Frame = { left: 60, top: 40, width: width - 90, height: height - 90 };
  const { min, max } = options.range ? { min: options.range[0], max: options.range[1] } : extent([...options.values]);
  const counts = histogramCounts(options.values, bins, min, max);
  const top = Math.max(1, ...counts);
  const { parts, px, py } = axes(frame, { min, max, label: options.xLabel }, { min: 0, max: top, label: "count" });
  const out = [svgOpen(width, height), text(width / 2, 22, options.title, 'font-size="14" text-anchor="middle"')];
  out.push(...parts);
  const binWidth = (max - min) / bins;
  counts.forEach((count, i) => {
    const x0 = px(min + i * binWidth);
    const x1 = px(min + (i + 1) * binWidth);
    const y = py(count);
    out.push(
      `<rect class="bar" x="${n(x0)}" y="${n(y)}" width="${n(Math.max(0, x1 - x0 - 1))}" ` +
        `height="${n(frame.top + frame.height - y)}" fill="${PALETTE[0]}"><title>${count}</title></rect>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

export interface HeatmapOptions {
  title: string;
  rowLabels: readonly string[];
  columnLabels: readonly string[];
  /** rows × columns; null (or non-finite) cells are left empty. */
  values: readonly (readonly (number | null)[])[];
  /** Colour scale range (default: the finite values'). */
  range?: [number, number];
  /** Cell text (default: 3 decimals). */
  format?: (value: number) => string;
  rowAxisLabel?: string;
  columnAxisLabel?: string;
  cellSize?: number;
}

/** White → blue, t in [0, 1]. */
function heatColor(t: number): string {
  const c = Math.max(0, Math.min(1, t));
  const mix = (from: number, to: number) => Math.round(from + (to - from) * c);
  return `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`;
}

/**
 * A heatmap: one `rect class="cell"` per defined cell with its value printed (`text class="value"`), row and column
 * labels, and a colour-scale bar (`rect class="scale"` steps) with its min and max.
 */
export function heatmapSvg(options: HeatmapOptions): string {
  const rows = options.values.length;
  const columns = options.columnLabels.length;
  if (options.rowLabels.length !== rows) {
    throw new Error(`heatmap: ${options.rowLabels.length} row labels for ${rows} rows`);
  }
  options.values.forEach((row, r) => {
    if (row.length !== columns) throw new Error(`heatmap: row ${r} has ${row.length} values, expected ${columns}`);
  });
  const cell = options.cellSize ?? 56;
  const format = options.format ?? ((v: number) => v.toFixed(3));
  const finite = options.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const [min, max] = options.range ?? [
    finite.length ? Math.min(...finite) : 0,
    finite.length ? Math.max(...finite) : 1,
  ];
  const span = max - min || 1;
  const left = 110;
  const top = 70;
  const width = left + columns * cell + 110;
  const height = top + rows * cell + 40;
  const out = [svgOpen(width, height), text(width / 2, 22, options.title, 'font-size="14" text-anchor="middle"')];
  if (options.columnAxisLabel) {
    out.push(text(left + (columns * cell) / 2, 42, options.columnAxisLabel, 'font-size="12" text-anchor="middle"'));
  }
  options.columnLabels.forEach((label, c) => {
    out.push(
      text(left + c * cell + cell / 2, top - 8, label, 'class="column-label" font-size="11" text-anchor="middle"'),
    );
  });
  options.rowLabels.forEach((label, r) => {
    out.push(
      text(left - 8, top + r * cell + cell / 2 + 4, label, 'class="row-label" font-size="11" text-anchor="end"'),
    );
  });
  if (options.rowAxisLabel) {
    const yMid = top + (rows * cell) / 2;
    out.push(
      text(16, yMid, options.rowAxisLabel, `font-size="12" text-anchor="middle" transform="rotate(-90 16 ${n(yMid)})"`),
    );
  }
  options.values.forEach((row, r) => {
    row.forEach((value, c) => {
      if (value === null || !Number.isFinite(value)) return;
      const t = (value - min) / span;
      const x = left + c * cell;
      const y = top + r * cell;
      out.push(
        `<rect class="cell" x="${n(x)}" y="${n(y)}" width="${cell}" height="${cell}" fill="${heatColor(t)}" stroke="white"/>`,
      );
      out.push(
        text(
          x + cell / 2,
          y + cell / 2 + 4,
          format(value),
          `class="value" font-size="11" text-anchor="middle" fill="${t > 0.55 ? "white" : "black"}"`,
        ),
      );
    });
  });
  const steps = 10;
  const scaleX = left + columns * cell + 30;
  const scaleHeight = rows * cell;
  for (let i = 0; i < steps; i++) {
    const y = top + scaleHeight - ((i + 1) * scaleHeight) / steps;
    out.push(
      `<rect class="scale" x="${n(scaleX)}" y="${n(y)}" width="16" height="${n(scaleHeight / steps)}" fill="${heatColor((i + 0.5) / steps)}"/>`,
    );
  }
  out.push(text(scaleX + 22, top + 10, format(max), 'class="scale-label" font-size="10"'));
  out.push(text(scaleX + 22, top + scaleHeight, format(min), 'class="scale-label" font-size="10"'));
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
