import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { configFromOptions } from "../../src/cli/commands/model-create.js";
import { PRESETS } from "../../src/io/hf-config.js";
import { loadModel } from "../../src/io/model-files.js";
import { loadSafetensors, writeSafetensors } from "../../src/io/safetensors.js";
import { loadTokenizer } from "../../src/io/tokenizer.js";
import { parameterCount } from "../../src/io/weight-names.js";
import { QWEN3_TOKENIZER, REPO_ROOT, tempDir } from "../io/fixtures.js";

function seal(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, ["bin/seal.js", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
}

function sealFailing(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["bin/seal.js", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, SEAL_DEBUG: "", ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("--version prints package.json's version; --help lists the commands", () => {
  const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version;
  assert.equal(seal(["--version"]).trim(), version);
  assert.match(seal(["--help"]), /model\s+create and inspect models/);
  assert.match(seal(["model", "--help"]), /create \[options\]/);
  const createHelp = seal(["model", "create", "--help"]);
  for (const option of ["--arch", "--preset", "--out", "--tokenizer", "--seed", "--dtype", "--layers"])
    assert.ok(createHelp.includes(option), `create --help mentions ${option}`);
  assert.match(seal(["model", "info", "--help"]), /--model <dir>/);
});

test("model create writes a loadable tiny model and model info describes it", () => {
  const out = path.join(tempDir("seal-cli-"), "tiny");
  const created = seal(["model", "create", "--preset", "tiny-qwen2", "--out", out, "--seed", "3"]);
  assert.match(created, /creating qwen2 model from preset tiny-qwen2/);
  assert.deepEqual(fs.readdirSync(out).sort(), ["config.json", "generation_config.json", "model.safetensors"]);
  const loaded = loadModel(out);
  assert.deepEqual(loaded.config, PRESETS["tiny-qwen2"]);
  assert.equal(loaded.weights.lmHead, loaded.weights.embedTokens);

  const info = JSON.parse(seal(["model", "info", "--model", out, "--json"]));
  assert.equal(info.config.architecture, "qwen2");
  assert.equal(info.parameters, parameterCount(PRESETS["tiny-qwen2"]));
  assert.deepEqual(info.dtypes, ["F32"]);
  assert.deepEqual(info.weightFiles, ["model.safetensors"]);
  assert.equal(info.tokenizer, null);

  const text = seal(["model", "info", "--model", out]);
  assert.match(text, /architecture: qwen2/);
  assert.match(text, /parameters: {3}[\d,]+ \(tied embeddings\)/);
  assert.match(text, /tokenizer: {4}none/);

  // Same seed, same bytes; --force is needed to overwrite.
  const again = path.join(tempDir("seal-cli-"), "tiny");
  seal(["model", "create", "--arch", "qwen2", "--out", again, "--seed", "3"]);
  assert.ok(
    fs.readFileSync(path.join(out, "model.safetensors")).equals(fs.readFileSync(path.join(again, "model.safetensors"))),
  );
  const refused = sealFailing(["model", "create", "--arch", "qwen2", "--out", again]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^seal: .*already holds a model.*--force/);
});

test("model create --tokenizer copies the tokenizer and raises the vocabulary to fit it", () => {
  const out = path.join(tempDir("seal-cli-"), "with-tokenizer");
  seal([
    "model",
    "create",
    "--arch",
    "llama",
    "--out",
    out,
    "--tokenizer",
    QWEN3_TOKENIZER,
    "--dtype",
    "bf16",
    "--layers",
    "1",
    "--hidden-size",
    "32",
    "--heads",
    "2",
    "--kv-heads",
    "1",
    "--intermediate-size",
    "48",
  ]);
  for (const file of ["tokenizer.json", "tokenizer_config.json"])
    assert.ok(fs.readFileSync(path.join(out, file)).equals(fs.readFileSync(path.join(QWEN3_TOKENIZER, file))), file);
  const info = JSON.parse(seal(["model", "info", "--model", out, "--json"]));
  assert.equal(info.config.vocabSize, 151669);
  assert.equal(info.config.numLayers, 1);
  assert.equal(info.config.headDim, 16, "head_dim follows hidden/heads");
  assert.deepEqual(info.config.eosTokenIds, [151645], "stop token is the tokenizer's <|im_end|>");
  assert.deepEqual(info.dtypes, ["BF16"]);
  assert.deepEqual(info.tokenizer, { vocabSize: 151669, chatTemplate: true, fitsModel: true });
  const model = loadModel(out);
  const tokenizer = loadTokenizer(out);
  assert.equal(model.weights.embedTokens.length, 151669 * 32);
  assert.deepEqual(tokenizer.encode("Hello world"), [9707, 1879]);
});

test("errors print 'seal: <message>' without a stack trace unless SEAL_DEBUG=1", () => {
  const dir = tempDir("seal-cli-");
  const conflict = sealFailing(["model", "create", "--arch", "llama", "--preset", "tiny-qwen2", "--out", dir]);
  assert.equal(conflict.status, 1);
  assert.equal(conflict.stderr, "seal: --arch llama conflicts with preset tiny-qwen2, which is qwen2\n");

  const missing = sealFailing(["model", "info", "--model", path.join(dir, "nothing")]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^seal: .*nothing\/config\.json: cannot read \(ENOENT\)\n$/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  const debug = sealFailing(["model", "info", "--model", path.join(dir, "nothing")], { SEAL_DEBUG: "1" });
  assert.match(debug.stderr, /^seal: Error: .*\n\s+at /);

  const badOption = sealFailing(["model", "create", "--out", dir, "--layers", "two"]);
  assert.equal(badOption.status, 1);
  assert.match(
    badOption.stderr,
    /^seal: option '--layers <n>' argument 'two' is invalid\. expected a positive integer/,
  );
  const badPreset = sealFailing(["model", "create", "--out", dir, "--preset", "huge"]);
  assert.equal(badPreset.status, 1);
  assert.match(
    badPreset.stderr,
    /^seal: option '--preset <name>' argument 'huge' is invalid\. Allowed choices are tiny, tiny-llama/,
  );
  const neither = sealFailing(["model", "create", "--out", dir]);
  assert.match(neither.stderr, /^seal: give --preset or --arch\n$/);
  const unknown = sealFailing(["model", "frobnicate"]);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^seal: unknown command 'frobnicate'/);
});

test("--preset tiny picks the tiny preset of --arch (qwen2 by default)", () => {
  assert.equal(configFromOptions({ preset: "tiny", arch: "llama" } as never).preset, "tiny-llama");
  assert.equal(configFromOptions({ preset: "tiny" } as never).config.architecture, "qwen2");
  assert.equal(configFromOptions({ arch: "llama" } as never).config.architecture, "llama");
  assert.throws(() => configFromOptions({} as never), /give --preset or --arch/);
});

test("model info lists how the weights contradict config.json and exits 1; absurd config values name the field", () => {
  const root = tempDir("seal-cli-");
  const good = path.join(root, "good");
  seal(["model", "create", "--preset", "tiny-qwen2", "--out", good, "--seed", "3"]);
  /** A copy of the good model with `edit` applied to its folder. */
  const variant = (name: string, edit: (dir: string) => void) => {
    const dir = path.join(root, name);
    fs.cpSync(good, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const withConfig = (change: Record<string, unknown>) => (dir: string) => {
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), ...change }));
  };

  const noEmbedding = variant("no-embedding", (dir) => {
    const file = path.join(dir, "model.safetensors");
    const tensors = loadSafetensors(file);
    tensors.delete("model.embed_tokens.weight");
    writeSafetensors(
      file,
      [...tensors].map(([name, tensor]) => ({ name, ...tensor })),
    );
  });
  const missing = sealFailing(["model", "info", "--model", noEmbedding]);
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /^architecture: qwen2$/m, "the description is still printed");
  assert.match(
    missing.stdout,
    /^MISMATCH: {5}the weights do not match config\.json\n {2}- missing tensors "model\.embed_tokens\.weight" \(not in model\.safetensors\)$/m,
  );
  assert.equal(missing.stderr, `seal: ${noEmbedding}: weights do not match config.json (1 problem, listed above)\n`);
  const json = sealFailing(["model", "info", "--model", noEmbedding, "--json"]);
  assert.equal(json.status, 1);
  assert.deepEqual(JSON.parse(json.stdout).problems, [
    'missing tensors "model.embed_tokens.weight" (not in model.safetensors)',
  ]);

  const threeLayers = sealFailing([
    "model",
    "info",
    "--model",
    variant("three-layers", withConfig({ num_hidden_layers: 3 })),
  ]);
  assert.equal(threeLayers.status, 1);
  assert.match(threeLayers.stdout, /- config\.json has num_hidden_layers 3, the weights hold 2 layers$/m);

  const hugeHidden = variant("huge-hidden", withConfig({ hidden_size: 1e9 }));
  const huge = sealFailing(["model", "info", "--model", hugeHidden]);
  assert.equal(huge.status, 1);
  assert.equal(
    huge.stderr,
    `seal: ${hugeHidden}/config.json: field "hidden_size": expected an integer in [1, 65536]\n`,
  );
  const loop = variant("loop", (dir) => {
    fs.rmSync(path.join(dir, "model.safetensors"));
    fs.symlinkSync("model.safetensors", path.join(dir, "model.safetensors"));
  });
  const looped = sealFailing(["model", "info", "--model", loop]);
  assert.equal(looped.status, 1);
  assert.equal(
    looped.stderr,
    `seal: ${loop}/model.safetensors: is a symbolic link (to model.safetensors) that loops back on itself\n`,
  );
});
