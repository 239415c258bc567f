import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MAX_SELF_EDIT_STEPS,
  parseSelfEditConfig,
  referenceStepEstimate,
  resolveSelfEditTraining,
  type SelfEditConfig,
  type SelfEditParseResult,
  selfEditConfigKey,
} from "../../../src/domains/arc/self-edit-config.js";

const ALL_ON = {
  use_basic_augmentations: true,
  use_size_augmentations: true,
  use_chain_augmentations: true,
  use_repeat_augmentations: true,
};
const GOOD = {
  data_generation: { ...ALL_ON, use_size_augmentations: false },
  training: { strategy: "train_using_output_tokens", learning_rate: 1e-4, num_train_epochs: 2 },
};

function configOf(result: SelfEditParseResult): SelfEditConfig {
  assert.equal(result.kind, "config", result.kind === "unparseable" ? result.reason : "");
  return result as SelfEditConfig;
}

function parseObject(value: unknown): SelfEditConfig {
  return configOf(parseSelfEditConfig(JSON.stringify(value)));
}

function withTraining(training: Record<string, unknown>): unknown {
  return { data_generation: ALL_ON, training };
}

test("a well-formed config", () => {
  const config = configOf(parseSelfEditConfig(JSON.stringify(GOOD, null, 2)));
  assert.equal(config.extraction, "whole");
  assert.deepEqual(config.augmentations, { basic: true, size: false, chain: true, repeat: true });
  assert.equal(config.strategy, "train_using_output_tokens");
  assert.equal(config.learningRate, 1e-4);
  assert.equal(config.epochs, 2);
  assert.equal(config.valid, true);
  assert.equal(config.reason, null);
  assert.deepEqual(config.notes, []);
  assert.deepEqual(config.raw, GOOD);
});

test("model text around the JSON: fences, prose, leading and trailing junk", () => {
  const json = JSON.stringify(GOOD);
  for (const text of [
    `\`\`\`json\n${json}\n\`\`\``,
    `Here is the configuration:\n${json}\nGood luck!`,
    `assistant\n\n${json}<|eot_id|>`,
    `Example output:\n{\n  "data_generation": {\n    "use_basic_augmentations": ...,\n  }\n}\nMine: ${json}`,
    `{"note": "first"} ${json}`,
    `${json}}}`,
  ]) {
    const config = configOf(parseSelfEditConfig(text));
    assert.equal(config.extraction, "embedded", text);
    assert.equal(config.epochs, 2, text);
    assert.deepEqual(config.raw, GOOD, text);
  }
  // Whitespace around the JSON is JSON, so still "whole".
  assert.equal(configOf(parseSelfEditConfig(`\n  ${json}\n`)).extraction, "whole");
});

test("strictJson reproduces the reference's json.loads on the whole text", () => {
  const json = JSON.stringify(GOOD);
  assert.equal(configOf(parseSelfEditConfig(` ${json}\n`, { strictJson: true })).extraction, "whole");
  const fenced = parseSelfEditConfig(`\`\`\`json\n${json}\n\`\`\``, { strictJson: true });
  assert.equal(fenced.kind, "unparseable");
  assert.match((fenced as { reason: string }).reason, /invalid JSON/);
  const array = parseSelfEditConfig("[1, 2]", { strictJson: true });
  assert.equal(array.kind, "unparseable");
});

test("unparseable: garbage, empty, truncated, not an object, missing or non-object sections — never throws", () => {
  const json = JSON.stringify(GOOD);
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["   \n", /empty/],
    ["I think basic augmentations are best.", /no JSON object/],
    [json.slice(0, json.length - 1), /truncated/],
    [json.slice(0, 60), /truncated/],
    ['{"data_generation": {"use_basic_augmentations": true', /truncated/],
    ["{'data_generation': {}, 'training': {}}", /no JSON object/],
    ['{"training": {"learning_rate": NaN}}', /no JSON object/],
    ["42", /no JSON object/],
    ['"{}"', /no JSON object/],
    ["null", /no JSON object/],
    ["[]", /no JSON object/],
    ['{"training": {}}', /data_generation/],
    ['{"data_generation": {}}', /training/],
    ['{"data_generation": [], "training": {}}', /data_generation/],
    ['{"data_generation": {}, "training": "fast"}', /training/],
    ['{"data_generation": null, "training": {}}', /data_generation/],
    // Lists and objects inside a section: the reference cannot hash its key and crashes.
    ['{"data_generation": {"use_basic_augmentations": [true]}, "training": {}}', /use_basic_augmentations: a list/],
    ['{"data_generation": {}, "training": {"learning_rate": {"value": 1}}}', /training.learning_rate: a list/],
    ['{"data_generation": {"extra": {}}, "training": {}}', /data_generation.extra: a list/],
    ["{}", /data_generation/],
    ["{{{{", /truncated/],
    ["}}}}", /no JSON object/],
  ];
  for (const [text, reason] of cases) {
    const result = parseSelfEditConfig(text);
    assert.equal(result.kind, "unparseable", text);
    assert.match((result as { reason: string }).reason, reason, text);
  }
  assert.equal(parseSelfEditConfig(undefined as unknown as string).kind, "unparseable");
  // A truncated outer object never yields one of its complete inner objects.
  const truncated = '{"data_generation": {"use_basic_augmentations": true}, "training": {"strategy": "train_u';
  assert.equal(parseSelfEditConfig(truncated).kind, "unparseable");
});

test("missing augmentation keys: no augmenters and 0 epochs", () => {
  const config = parseObject({
    data_generation: { use_basic_augmentations: true, use_size_augmentations: true },
    training: GOOD.training,
  });
  assert.deepEqual(config.augmentations, { basic: false, size: false, chain: false, repeat: false });
  assert.equal(config.epochs, 0);
  assert.equal(config.valid, false);
  assert.match(config.reason ?? "", /data_generation lacks use_chain_augmentations, use_repeat_augmentations/);
  // lr and strategy stay as written, as in the reference (only num_train_epochs is zeroed).
  assert.equal(config.learningRate, 1e-4);
  assert.equal(config.strategy, "train_using_output_tokens");
  const resolved = resolveSelfEditTraining(config, 100);
  assert.equal(resolved.epochs, 0);
  assert.equal(resolved.optimizerSteps, 0);
  assert.deepEqual(resolved.recordedConfig.training, { ...GOOD.training, num_train_epochs: 0 });
});

test("missing training keys: 0 epochs, lr 0, all-token strategy", () => {
  for (const training of [
    { strategy: "train_using_output_tokens", learning_rate: 1e-4 },
    { strategy: "train_using_output_tokens", num_train_epochs: 3 },
    { learning_rate: 1e-4, num_train_epochs: 3 },
    {},
  ]) {
    const config = parseObject(withTraining(training));
    assert.equal(config.epochs, 0);
    assert.equal(config.learningRate, 0);
    assert.equal(config.strategy, "train_using_all_tokens");
    assert.equal(config.valid, false);
    assert.match(config.reason ?? "", /training lacks/);
    assert.deepEqual(config.augmentations, { basic: true, size: true, chain: true, repeat: true });
    assert.deepEqual(resolveSelfEditTraining(config, 10).recordedConfig.training, {
      ...training,
      num_train_epochs: 0,
      learning_rate: 0,
      strategy: "train_using_all_tokens",
    });
  }
});

test("a missing augmentation key first supplies num_train_epochs = 0, as the reference's order of checks does", () => {
  const config = parseObject({
    data_generation: { use_basic_augmentations: true },
    training: { strategy: "train_using_output_tokens", learning_rate: 1e-4 },
  });
  assert.equal(config.epochs, 0);
  assert.equal(config.learningRate, 1e-4);
  assert.equal(config.strategy, "train_using_output_tokens");
  assert.doesNotMatch(config.reason ?? "", /training lacks/);
  // A bad epochs value is never read then (it was overwritten).
  const bad = parseObject({ data_generation: {}, training: { ...GOOD.training, num_train_epochs: "many" } });
  assert.doesNotMatch(bad.reason ?? "", /num_train_epochs/);
  assert.equal(bad.epochs, 0);
});

test("unknown strategy: 0 epochs (exact, case-sensitive names only)", () => {
  for (const strategy of ["train_using_some_tokens", "TRAIN_USING_ALL_TOKENS", "", null, 1, true]) {
    const config = parseObject(withTraining({ ...GOOD.training, strategy }));
    assert.equal(config.epochs, 0, String(strategy));
    assert.equal(config.valid, false);
    assert.match(config.reason ?? "", /unknown strategy/);
    assert.equal(config.learningRate, 1e-4);
  }
  const all = parseObject(withTraining({ ...GOOD.training, strategy: "train_using_all_tokens" }));
  assert.equal(all.strategy, "train_using_all_tokens");
  assert.equal(all.valid, true);
});

test("learning rate: finite ≥ 0 kept (> 1 noted), negative / non-number / non-finite invalid, bool as 0/1", () => {
  const lr = (value: unknown): SelfEditConfig =>
    configOf(
      parseSelfEditConfig(
        `{"data_generation": ${JSON.stringify(ALL_ON)}, "training": {"strategy": "train_using_all_tokens", ` +
          `"learning_rate": ${typeof value === "string" && value.startsWith("raw:") ? value.slice(4) : JSON.stringify(value)}, "num_train_epochs": 2}}`,
      ),
    );
  assert.equal(lr(0).learningRate, 0);
  assert.equal(lr(0).valid, true);
  assert.equal(lr(3e-5).learningRate, 3e-5);
  const large = lr(5);
  assert.equal(large.learningRate, 5);
  assert.equal(large.valid, true);
  assert.equal(large.epochs, 2);
  assert.match(large.notes.join(), /learning_rate 5 > 1/);
  for (const bad of [-1e-4, "1e-4", null, "raw:1e400", "raw:-1e400"]) {
    const config = lr(bad);
    assert.equal(config.valid, false, String(bad));
    assert.equal(config.epochs, 0, String(bad));
    assert.equal(config.learningRate, 0, String(bad));
    assert.match(config.reason ?? "", /learning_rate .* is not a finite number ≥ 0/);
  }
  const yes = lr(true);
  assert.equal(yes.learningRate, 1);
  assert.equal(yes.valid, true);
  assert.match(yes.notes.join(), /learning_rate true read as 1/);
});

test("epochs: 0 valid, fractional kept, negative / non-number / non-finite invalid, bool as 0/1", () => {
  const epochs = (value: unknown): SelfEditConfig =>
    parseObject(withTraining({ ...GOOD.training, num_train_epochs: value }));
  const zero = epochs(0);
  assert.equal(zero.valid, true);
  assert.equal(zero.epochs, 0);
  const fractional = epochs(2.5);
  assert.equal(fractional.valid, true);
  assert.equal(fractional.epochs, 2.5);
  assert.match(fractional.notes.join(), /fractional/);
  assert.equal(epochs(3.0).epochs, 3);
  for (const bad of [-1, -0.5, "3", null]) {
    const config = epochs(bad);
    assert.equal(config.valid, false, String(bad));
    assert.equal(config.epochs, 0);
    assert.match(config.reason ?? "", /num_train_epochs .* is not a finite number ≥ 0/);
  }
  const infinite = configOf(
    parseSelfEditConfig(
      `{"data_generation": ${JSON.stringify(ALL_ON)}, "training": {"strategy": "train_using_all_tokens", "learning_rate": 1e-4, "num_train_epochs": 1e999}}`,
    ),
  );
  assert.equal(infinite.valid, false);
  assert.equal(epochs(true).epochs, 1);
  assert.equal(epochs(false).epochs, 0);
});

test("step cap: epochs × examples // 2 > 375 → 0 epochs (the TTT data size is an argument)", () => {
  assert.equal(MAX_SELF_EDIT_STEPS, 375);
  const three = epochs3();
  // 3 × 250 // 2 = 375: allowed; 3 × 251 // 2 = 376: capped.
  assert.equal(referenceStepEstimate(3, 250), 375);
  const allowed = resolveSelfEditTraining(three, 250);
  assert.equal(allowed.epochs, 3);
  assert.equal(allowed.valid, true);
  assert.equal(allowed.optimizerSteps, 375);
  assert.deepEqual(allowed.recordedConfig, three.raw);
  const capped = resolveSelfEditTraining(three, 251);
  assert.equal(capped.epochs, 0);
  assert.equal(capped.valid, false);
  assert.match(capped.reason ?? "", /3 epochs × 251 examples \/\/ 2 = 376 steps > 375/);
  assert.equal(capped.recordedConfig.training.num_train_epochs, 0);
  assert.equal(three.raw.training.num_train_epochs, 3, "the parsed config is not mutated");
  // Huge epochs are capped for any non-empty data; odd sizes round steps up per epoch, as HF's dataloader does.
  const huge = parseObject(withTraining({ ...GOOD.training, num_train_epochs: 1e12 }));
  assert.equal(resolveSelfEditTraining(huge, 1).epochs, 0);
  assert.equal(resolveSelfEditTraining(huge, 0).epochs, 1e12);
  assert.equal(resolveSelfEditTraining(three, 7).optimizerSteps, 12);
  // Fractional epochs: floor for the cap, ceil(epochs × steps per epoch) steps.
  const fractional = parseObject(withTraining({ ...GOOD.training, num_train_epochs: 2.5 }));
  assert.equal(resolveSelfEditTraining(fractional, 299).epochs, 2.5);
  assert.equal(resolveSelfEditTraining(fractional, 299).optimizerSteps, 375);
  assert.equal(resolveSelfEditTraining(fractional, 300).epochs, 2.5);
  assert.equal(resolveSelfEditTraining(fractional, 301).epochs, 0);
  // Reasons accumulate when an already invalid config would also pass the cap check (it cannot: 0 epochs).
  const invalid = parseObject(withTraining({ ...GOOD.training, num_train_epochs: 1e12, strategy: "x" }));
  assert.equal(resolveSelfEditTraining(invalid, 250).reason, invalid.reason);
});

function epochs3(): SelfEditConfig {
  return parseObject(withTraining({ ...GOOD.training, num_train_epochs: 3 }));
}

test("non-boolean augmentation flags are read with Python truthiness and noted", () => {
  const config = parseObject({
    data_generation: {
      use_basic_augmentations: "false",
      use_size_augmentations: 0,
      use_chain_augmentations: null,
      use_repeat_augmentations: "no",
    },
    training: GOOD.training,
  });
  assert.deepEqual(config.augmentations, { basic: true, size: false, chain: false, repeat: true });
  assert.equal(config.valid, true);
  assert.equal(config.notes.length, 4);
  assert.match(config.notes[0], /use_basic_augmentations is "false", not a boolean: read as true/);
  const more = parseObject({
    data_generation: {
      ...ALL_ON,
      use_basic_augmentations: "",
      use_size_augmentations: -0.0,
      use_chain_augmentations: 2,
    },
    training: GOOD.training,
  });
  assert.deepEqual(more.augmentations, { basic: false, size: false, chain: true, repeat: true });
});

test("unknown extra keys are ignored and noted", () => {
  const config = parseObject({
    reasoning: "augment everything",
    data_generation: { ...GOOD.data_generation, use_color_augmentations: true },
    training: { ...GOOD.training, batch_size: 8 },
  });
  assert.equal(config.valid, true);
  assert.deepEqual(config.augmentations, { basic: true, size: false, chain: true, repeat: true });
  assert.deepEqual(config.notes, [
    'ignored top-level key "reasoning"',
    'ignored data_generation key "use_color_augmentations"',
    'ignored training key "batch_size"',
  ]);
});

test("several problems give one reason each, in the reference's order", () => {
  const config = parseObject({
    data_generation: ALL_ON,
    training: { strategy: "fast", learning_rate: -1, num_train_epochs: -2 },
  });
  assert.equal(
    config.reason,
    'unknown strategy "fast"; learning_rate -1 is not a finite number ≥ 0; num_train_epochs -2 is not a finite number ≥ 0',
  );
});

test("de-duplication key: the two sections' items sorted, extras in sections included, top-level extras not", () => {
  const a = parseObject(GOOD);
  const reordered = parseObject({
    training: { num_train_epochs: 2, learning_rate: 1e-4, strategy: "train_using_output_tokens" },
    data_generation: {
      use_repeat_augmentations: true,
      use_chain_augmentations: true,
      use_size_augmentations: false,
      use_basic_augmentations: true,
    },
    comment: "ignored",
  });
  assert.equal(a.key, reordered.key);
  assert.equal(a.key, selfEditConfigKey(GOOD));
  assert.equal(
    a.key,
    '{"data_generation":{"use_basic_augmentations":true,"use_chain_augmentations":true,"use_repeat_augmentations":true,' +
      '"use_size_augmentations":false},"training":{"learning_rate":0.0001,"num_train_epochs":2,"strategy":"train_using_output_tokens"}}',
  );
  // 2 and 2.0 are the same number (as in Python); a different lr or an extra section key is a different config.
  assert.equal(
    configOf(parseSelfEditConfig(JSON.stringify(GOOD).replace('"num_train_epochs":2', '"num_train_epochs":2.0'))).key,
    a.key,
  );
  assert.notEqual(parseObject(withTraining({ ...GOOD.training, learning_rate: 2e-4 })).key, a.key);
  assert.notEqual(parseObject({ ...GOOD, training: { ...GOOD.training, extra: 1 } }).key, a.key);
});

test("random junk never throws", () => {
  const pieces = ['{"data_generation": ', '{"training": ', "{", "}", '"', "true", "1e-4", ",", ":", "[", "]", " ", "x"];
  let state = 3;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.floor((state / 2147483648) * n);
  };
  for (let i = 0; i < 5000; i++) {
    let text = "";
    for (let j = next(30); j > 0; j--) text += pieces[next(pieces.length)];
    const result = parseSelfEditConfig(text);
    if (result.kind === "config") resolveSelfEditTraining(result, next(300));
  }
  // Special property names come through as plain data.
  const proto = configOf(
    parseSelfEditConfig(
      `{"__proto__": {"x": 1}, "data_generation": ${JSON.stringify(ALL_ON)}, "training": {"__proto__": 1}}`,
    ),
  );
  assert.match(proto.notes.join(), /ignored top-level key "__proto__"/);
  assert.equal(proto.valid, false);
});
