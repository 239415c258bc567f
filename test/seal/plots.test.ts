import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeXml, heatmapSvg, histogramCounts, histogramSvg, lineChartSvg, niceTicks } from "../../src/seal/plots.js";

/** Minimal well-formedness check: every tag closes in order, attributes are quoted, no raw `&` or `<` in text. */
function assertWellFormed(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m !== null; m = tag.exec(svg)) {
    const between = svg.slice(last, m.index);
    assert.doesNotMatch(between, /<|&(?!(amp|lt|gt|quot|apos);)/, `stray markup before ${m[0]}`);
    last = tag.lastIndex;
    if (m[1] === "/") assert.equal(stack.pop(), m[2], `closing ${m[2]}`);
    else if (m[4] !== "/") stack.push(m[2]);
  }
  assert.equal(svg.slice(last).trim(), "");
  assert.deepEqual(stack, []);
}

const count = (svg: string, pattern: RegExp) => (svg.match(pattern) ?? []).length;

describe("plots", () => {
  it("escapes XML text", () => {
    assert.equal(escapeXml(`a<b & "c" 'd'>`), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  });

  it("nice ticks cover the range with 1-2-5 steps", () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  });

  it("line chart: one polyline per non-empty series, legend entries, escaped labels", () => {
    const svg = lineChartSvg({
      title: "loss <train> & eval",
      xLabel: "step",
      yLabel: "loss",
      series: [
        {
          label: "a & b",
          points: [
            [1, 2],
            [2, 1],
            [3, Number.NaN],
          ],
        },
        {
          label: "c",
          points: [
            [1, 3],
            [3, 0.5],
          ],
        },
      ],
    });
    assertWellFormed(svg);
    assert.equal(count(svg, /<polyline /g), 2);
    assert.equal(count(svg, /class="legend"/g), 2);
    assert.ok(svg.includes("loss &lt;train&gt; &amp; eval"));
    assert.ok(svg.includes(">a &amp; b</text>"));
    assert.ok(!svg.includes("NaN"));
  });

  it("histogram: counts per bin and one bar per bin", () => {
    assert.deepEqual(histogramCounts([0, 0.1, 0.5, 0.99, 1, 2], 2, 0, 1), [2, 3]);
    const svg = histogramSvg({ title: "reward", xLabel: "gain", values: [0, 0.25, 0.5, 0.5, 1], bins: 4 });
    assertWellFormed(svg);
    assert.equal(count(svg, /<rect class="bar"/g), 4);
  });

  it("heatmap: a cell and a value per defined entry, labels, colour scale", () => {
    const svg = heatmapSvg({
      title: "forgetting",
      rowLabels: ["base", "edit 1", "edit 2"],
      columnLabels: ["p0", "p<1>"],
      values: [
        [0.25, 0.5],
        [0.75, null],
        [0.125, 1],
      ],
    });
    assertWellFormed(svg);
    assert.equal(count(svg, /<rect class="cell"/g), 5);
    assert.equal(count(svg, /class="value"/g), 5);
    assert.equal(count(svg, /class="row-label"/g), 3);
    assert.equal(count(svg, /class="column-label"/g), 2);
    assert.equal(count(svg, /<rect class="scale"/g), 10);
    assert.ok(svg.includes(">0.125</text>"));
    assert.ok(svg.includes(">p&lt;1&gt;</text>"));
    assert.throws(() => heatmapSvg({ title: "x", rowLabels: ["a"], columnLabels: ["b"], values: [[1, 2]] }), /row 0/);
  });
});
