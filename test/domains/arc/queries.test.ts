import assert from "node:assert/strict";
import { test } from "node:test";
import { applyInverter, IDENTITY_NAME, inverseAugmenter } from "../../../src/domains/arc/augment.js";
import { expandTestInputs } from "../../../src/domains/arc/data.js";
import type { ArcTask, Grid } from "../../../src/domains/arc/grid.js";
import { gridKey, gridsEqual } from "../../../src/domains/arc/grid.js";
import {
  type ArcQuery,
  buildQueries,
  leaveNQueries,
  QUERY_AUGMENTERS,
  QUERY_DEFAULTS,
} from "../../../src/domains/arc/queries.js";
import { exampleKey, taskKey } from "../../../src/domains/arc/task-key.js";
import { arcDataMissing, loadTrainingTasks } from "./shared-data.js";

const uniform = (colour: number): Grid => [
  [colour, colour],
  [colour, colour],
];

/** A small instance with distinct, asymmetric grids and a known test output. */
const instance: ArcTask = {
  id: "abc-0",
  train: [0, 1, 2, 3].map((k) => ({ input: [[k, 5, 6]], output: [[6], [k]] })),
  test: [{ input: [[7, 8, 9]], output: [[9], [7]] }],
};

const EXPECTED_INVERTERS: Record<string, string> = {
  Transpose: "Transpose",
  "Flip(0)": "Flip(0)",
  "Flip(1)": "Flip(1)",
  "Rotate(90)": "Rotate(270)",
  "Rotate(180)": "Rotate(180)",
};

test("defaults are the reference's: include_n [1], permute_n 2, seed 0, 8192 tokens; five transforms", () => {
  assert.deepEqual(QUERY_DEFAULTS, { includeN: [1], permuteN: 2, seed: 0, maxTokens: 8192 });
  assert.deepEqual(
    QUERY_AUGMENTERS.map((augmenter) => augmenter.name),
    ["Transpose", "Flip(0)", "Flip(1)", "Rotate(90)", "Rotate(180)"],
  );
});

test("leave-one-out variants: N−1 demos and the real test input; order permutations deduplicated", () => {
  const { queries, fallback } = buildQueries(instance);
  assert.equal(fallback, false);
  const plain = queries.filter((query) => query.augmenter === IDENTITY_NAME);
  assert.ok(plain.every((query) => query.inverter === IDENTITY_NAME));
  // 4 variants × (1 + 2 orders), fewer after removing repeated orders
  assert.ok(plain.length >= 4 && plain.length <= 12, `${plain.length}`);
  const demoKeys = new Set(instance.train.map(exampleKey));
  for (const query of plain) {
    assert.equal(query.leaveN, 1);
    assert.equal(query.task.train.length, 3);
    assert.ok(query.task.train.every((example) => demoKeys.has(exampleKey(example))));
    assert.deepEqual(query.task.test, instance.test);
    assert.equal(query.task.id, "abc-0");
  }
  // every leave-one-out set appears, in the original order too
  for (let left = 0; left < 4; left++) {
    const expected = taskKey({ train: instance.train.filter((_, j) => j !== left), test: instance.test });
    assert.ok(
      plain.some((query) => taskKey(query.task) === expected),
      `leave ${left} out`,
    );
  }
  const keys = queries.map((query) => taskKey(query.task));
  assert.equal(new Set(keys).size, keys.length);
});

test("transformed queries: one per transform, of a variant, with the inverse recorded", () => {
  const { queries } = buildQueries(instance);
  const transformed = queries.filter((query) => query.augmenter !== IDENTITY_NAME);
  assert.deepEqual(
    transformed.map((query) => query.augmenter),
    ["Transpose", "Flip(0)", "Flip(1)", "Rotate(90)", "Rotate(180)"],
  );
  const plainKeys = new Set(queries.filter((q) => q.augmenter === IDENTITY_NAME).map((q) => taskKey(q.task)));
  for (const query of transformed) {
    assert.equal(query.inverter, EXPECTED_INVERTERS[query.augmenter]);
    // undoing the transform on every grid gives one of the plain variants
    const back = inverseAugmenter(query.augmenter)!.applyToTask(query.task);
    assert.ok(plainKeys.has(taskKey(back)), query.augmenter);
  }
});

test("inverses give back the true output for every query of every training test input", {
  skip: arcDataMissing,
}, () => {
  let checked = 0;
  for (const item of expandTestInputs(loadTrainingTasks())) {
    const truth = item.test[0].output!;
    const { queries } = buildQueries(item);
    assert.ok(queries.length > 0, item.id);
    for (const query of queries) {
      // the "prediction" is the query's own (transformed) true output
      const prediction = query.task.test[0].output!;
      assert.ok(gridsEqual(applyInverter(query.inverter, prediction), truth), `${item.id} ${query.augmenter}`);
      assert.ok(gridsEqual(applyInverter(query.inverter, query.task.test[0].input), item.test[0].input));
      checked++;
    }
  }
  assert.ok(checked > 416 * 5, `${checked}`);
});

test("a transform that leaves the variant unchanged is skipped", () => {
  // uniform square grids: transpose, flips and rotations all give the same task back
  const symmetric: ArcTask = {
    id: "sym-0",
    train: [1, 2, 3].map((k) => ({ input: uniform(k), output: uniform(k + 3) })),
    test: [{ input: uniform(7) }],
  };
  const queries = leaveNQueries(symmetric, 1, 2, 0);
  assert.ok(queries.every((query) => query.augmenter === IDENTITY_NAME));
});

test("without a test output the query test has none; a multi-test task is refused", () => {
  const unsolved: ArcTask = { ...instance, test: [{ input: instance.test[0].input }] };
  for (const query of buildQueries(unsolved).queries) assert.equal(query.task.test[0].output, undefined);
  assert.throws(() => buildQueries({ ...instance, test: [instance.test[0], instance.test[0]] }), /expandTestInputs/);
});

test("seeded: the same seed gives the same queries; another seed may choose other variants", () => {
  const keys = (queries: ArcQuery[]) => queries.map((query) => `${query.augmenter}|${taskKey(query.task)}`);
  assert.deepEqual(keys(buildQueries(instance).queries), keys(buildQueries(instance).queries));
  const seeds = new Set<string>();
  for (let seed = 0; seed < 10; seed++) seeds.add(keys(buildQueries(instance, { seed }).queries).join("\n"));
  assert.ok(seeds.size > 1);
});

test("token filter drops queries at or over maxTokens; none left adds leave-2 variants", () => {
  // "tokens" = 1000 per demonstration: 3 demos (leave-1) cost 3000, 2 demos (leave-2) 2000
  const tokenCount = (query: ArcQuery) => query.task.train.length * 1000;
  const fits = buildQueries(instance, { tokenCount, maxTokens: 3001 });
  assert.equal(fits.fallback, false);
  assert.ok(fits.queries.length > 0);
  const none = buildQueries(instance, { tokenCount, maxTokens: 3000 });
  assert.equal(none.fallback, true);
  assert.ok(none.queries.length > 0);
  assert.ok(none.queries.every((query) => query.leaveN === 2 && query.task.train.length === 2));
  // all 6 leave-two-out sets appear
  const sets = new Set(
    none.queries
      .filter((query) => query.augmenter === IDENTITY_NAME)
      .map((query) =>
        query.task.train
          .map((example) => gridKey(example.input))
          .sort()
          .join(";"),
      ),
  );
  assert.equal(sets.size, 6);
  const nothing = buildQueries(instance, { tokenCount, maxTokens: 1000 });
  assert.deepEqual(nothing, { queries: [], fallback: true });
});

test("include_n [0] keeps all demonstrations (the baseline's setting)", () => {
  const queries = leaveNQueries(instance, 0, 2, 0);
  assert.ok(queries.every((query) => query.task.train.length === 4 && query.leaveN === 0));
  assert.ok(queries.length >= 1 && queries.length <= 3 + 5);
});
