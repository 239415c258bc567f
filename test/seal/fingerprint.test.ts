import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import {
  fingerprintFile,
  fingerprintJson,
  fingerprintModelFolder,
  SAMPLE_BYTES,
  stableStringify,
} from "../../src/seal/fingerprint.js";
import { tempDir } from "../io/fixtures.js";

describe("stableStringify / fingerprintJson", () => {
  it("does not depend on key order and drops undefined properties", () => {
    const a = { b: 1, a: { y: [1, { q: 2, p: 3 }], x: "s" }, u: undefined };
    const b = { a: { x: "s", y: [1, { p: 3, q: 2 }] }, b: 1 };
    assert.equal(stableStringify(a), stableStringify(b));
    assert.equal(stableStringify(b), '{"a":{"x":"s","y":[1,{"p":3,"q":2}]},"b":1}');
    assert.equal(fingerprintJson(a), fingerprintJson(b));
    assert.notEqual(fingerprintJson(a), fingerprintJson({ ...b, b: 2 }));
  });

  it("rejects values JSON would silently change, naming where", () => {
    assert.throws(() => stableStringify({ lora: { lr: Number.NaN } }), /lora\.lr: NaN/);
    assert.throws(() => stableStringify({ list: [1, undefined] }), /list\[1\]/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => stableStringify(cycle), /circular/);
  });
});

describe("fingerprintFile", () => {
  it("hashes small files whole and samples the ends of large ones", () => {
    const dir = tempDir("seal-fp-");
    const small = path.join(dir, "small.json");
    fs.writeFileSync(small, "{}");
    const fp = fingerprintFile(small);
    assert.equal(fp.method, "full");
    assert.equal(fp.sha256, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");

    const big = path.join(dir, "big.bin");
    const bytes = Buffer.alloc(3 * SAMPLE_BYTES, 7);
    fs.writeFileSync(big, bytes);
    const sampled = fingerprintFile(big);
    assert.equal(sampled.method, "sampled");
    assert.equal(sampled.size, bytes.length);
    // a change in the middle is not seen by sampling (documented), a change at either end is
    bytes[Math.floor(bytes.length / 2)] = 1;
    fs.writeFileSync(big, bytes);
    assert.equal(fingerprintFile(big).sha256, sampled.sha256);
    assert.notEqual(fingerprintFile(big, { full: true }).sha256, sampled.sha256);
    bytes[bytes.length - 1] = 1;
    fs.writeFileSync(big, bytes);
    assert.notEqual(fingerprintFile(big).sha256, sampled.sha256);
    assert.throws(() => fingerprintFile(path.join(dir, "missing")), /missing: cannot read \(ENOENT\)/);
  });
});

describe("fingerprintModelFolder", () => {
  it("covers config and weights, ignores other files, and does not depend on the folder's path", () => {
    const one = tempDir("seal-fp-model-");
    const two = tempDir("seal-fp-model-");
    for (const dir of [one, two]) {
      fs.writeFileSync(path.join(dir, "config.json"), '{"hidden_size":8}');
      fs.writeFileSync(path.join(dir, "model.safetensors"), Buffer.alloc(100, 1));
      fs.writeFileSync(path.join(dir, "tokenizer.json"), "{}");
    }
    fs.writeFileSync(path.join(two, "README.md"), "notes");
    const a = fingerprintModelFolder(one);
    const b = fingerprintModelFolder(two);
    assert.deepEqual(
      a.files.map((file) => file.name),
      ["config.json", "model.safetensors", "tokenizer.json"],
    );
    assert.equal(a.sha256, b.sha256);
    fs.writeFileSync(path.join(two, "config.json"), '{"hidden_size":16}');
    assert.notEqual(fingerprintModelFolder(two).sha256, a.sha256);
    fs.rmSync(path.join(two, "config.json"));
    assert.throws(() => fingerprintModelFolder(two), /not a model folder \(no config\.json\)/);
  });
});
