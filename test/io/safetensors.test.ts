import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { f16BitsToF32, f32ToF16Bits } from "../../src/io/half-float.js";
import { loadSafetensors, readSafetensorsHeader, writeSafetensors } from "../../src/io/safetensors.js";
import { randomFloats, sameBits, tempDir } from "./fixtures.js";

const SPECIAL = new Float32Array([
  0,
  -0,
  1,
  -2.5,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  65504,
  2 ** -24,
  2 ** -14,
  0.1,
  3.140625,
]);

/** A safetensors file assembled by hand, independent of writeSafetensors. */
function rawFile(file: string, header: unknown, data: Uint8Array, headerText?: string): void {
  const json = Buffer.from(headerText ?? JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([length, json, data]));
}

test("F32 round trip is bit exact, including NaN, ±inf, -0, scalars and empty tensors", () => {
  const file = path.join(tempDir(), "a.safetensors");
  const big = randomFloats(1000, 7);
  writeSafetensors(file, [
    { name: "special", shape: [3, 4], data: SPECIAL },
    { name: "big", shape: [10, 100], data: big },
    { name: "scalar", shape: [], data: new Float32Array([42]) },
    { name: "empty", shape: [0, 3], data: new Float32Array(0) },
  ]);
  const loaded = loadSafetensors(file);
  assert.deepEqual([...loaded.keys()].sort(), ["big", "empty", "scalar", "special"]);
  assert.ok(sameBits(loaded.get("special")!.data, SPECIAL));
  assert.ok(sameBits(loaded.get("big")!.data, big));
  assert.deepEqual(loaded.get("big")!.shape, [10, 100]);
  assert.deepEqual(loaded.get("scalar")!.shape, []);
  assert.deepEqual([...loaded.get("scalar")!.data], [42]);
  assert.equal(loaded.get("empty")!.data.length, 0);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ["a.safetensors"], "no temp file is left behind");
});

test("BF16 and F16 round trips keep representable values exactly and round the rest", () => {
  for (const dtype of ["BF16", "F16"] as const) {
    const file = path.join(tempDir(), `${dtype}.safetensors`);
    const values = randomFloats(5_000_000, 3, 4); // spans more than one conversion chunk
    writeSafetensors(
      file,
      [
        { name: "special", shape: [12], data: SPECIAL },
        { name: "values", shape: [5_000_000], data: values },
      ],
      { dtype },
    );
    assert.equal(readSafetensorsHeader(file).tensors.get("values")!.dtype, dtype);
    const loaded = loadSafetensors(file);
    const special = loaded.get("special")!.data;
    for (const index of [0, 2, 3, 4, 5, 11])
      assert.equal(special[index], SPECIAL[index], `${dtype} value ${SPECIAL[index]}`);
    assert.ok(Object.is(special[1], -0));
    assert.ok(Number.isNaN(special[6]));
    if (dtype === "F16") {
      assert.equal(special[7], 65504);
      assert.equal(special[8], 2 ** -24);
      assert.equal(special[10], f16BitsToF32(f32ToF16Bits(0.1)));
    } else {
      assert.equal(special[9], 2 ** -14);
      assert.equal(special[10], 0.10009765625); // 0.1 = 0x3dcccccd → bf16 0x3dcd
    }
    const loadedValues = loaded.get("values")!.data;
    const relative = dtype === "BF16" ? 2 ** -8 : 2 ** -11;
    for (let i = 0; i < values.length; i += 997) {
      const error = Math.abs(loadedValues[i] - values[i]);
      assert.ok(error <= Math.abs(values[i]) * relative + 2 ** -24, `element ${i}: ${values[i]} → ${loadedValues[i]}`);
    }
    assert.equal(loadedValues[4_999_999] !== 0 || values[4_999_999] === 0, true, "the last chunk is read");
  }
});

test("the written layout follows the spec: padded header, metadata, sorted contiguous offsets", () => {
  const file = path.join(tempDir(), "layout.safetensors");
  writeSafetensors(
    file,
    [
      { name: "zeta", shape: [3], data: new Float32Array([1, 2, 3]) },
      { name: "alpha", shape: [2], data: new Float32Array([4, 5]) },
    ],
    { dtype: "BF16", metadata: { format: "pt" } },
  );
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal(headerLength % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  assert.deepEqual(header, {
    __metadata__: { format: "pt" },
    alpha: { dtype: "BF16", shape: [2], data_offsets: [0, 4] },
    zeta: { dtype: "BF16", shape: [3], data_offsets: [4, 10] },
  });
  assert.equal(bytes.length, 8 + headerLength + 10);
  // bf16 of 4, 5, 1, 2, 3, little-endian
  assert.deepEqual([...bytes.subarray(8 + headerLength)], [0x80, 0x40, 0xa0, 0x40, 0x80, 0x3f, 0x00, 0x40, 0x40, 0x40]);
  assert.deepEqual(readSafetensorsHeader(file).metadata, { format: "pt" });
});

test("reads hand-made F16 and BF16 files", () => {
  const file = path.join(tempDir(), "hand.safetensors");
  const data = Buffer.from([0x00, 0x3c, 0x01, 0x00, 0x00, 0x7c, 0x80, 0x3f, 0x00, 0xc0]);
  rawFile(
    file,
    {
      h: { dtype: "F16", shape: [3], data_offsets: [0, 6] },
      b: { dtype: "BF16", shape: [1, 2], data_offsets: [6, 10] },
    },
    data,
  );
  const loaded = loadSafetensors(file);
  assert.deepEqual([...loaded.get("h")!.data], [1, 2 ** -24, Number.POSITIVE_INFINITY]);
  assert.deepEqual([...loaded.get("b")!.data], [1, -2]);
  assert.deepEqual(loaded.get("b")!.shape, [1, 2]);
});

test("names option loads a subset; asking for an absent tensor fails", () => {
  const file = path.join(tempDir(), "subset.safetensors");
  writeSafetensors(file, [
    { name: "a", shape: [1], data: new Float32Array([1]) },
    { name: "b", shape: [1], data: new Float32Array([2]) },
  ]);
  assert.deepEqual([...loadSafetensors(file, { names: new Set(["b"]) }).keys()], ["b"]);
  assert.throws(() => loadSafetensors(file, { names: new Set(["c"]) }), /subset\.safetensors: no tensor named "c"/);
});

test("malformed files give errors naming the file and the tensor", () => {
  const dir = tempDir();
  const file = path.join(dir, "bad.safetensors");
  const eightBytes = new Uint8Array(8);
  const cases: Array<[string, () => void, RegExp]> = [
    ["too short", () => fs.writeFileSync(file, Buffer.from([1, 2, 3])), /bad\.safetensors: .*shorter than the 8-byte/],
    [
      "header longer than file",
      () => {
        const buffer = Buffer.alloc(16);
        buffer.writeBigUInt64LE(1000n);
        fs.writeFileSync(file, buffer);
      },
      /bad\.safetensors: header length 1000 is larger than the file \(16 bytes\)/,
    ],
    ["header not JSON", () => rawFile(file, null, eightBytes, "{not json"), /bad\.safetensors: header is not valid/],
    ["header is a list", () => rawFile(file, [1, 2], eightBytes), /bad\.safetensors: header must be a JSON object/],
    [
      "missing dtype",
      () => rawFile(file, { w: { shape: [2], data_offsets: [0, 8] } }, eightBytes),
      /bad\.safetensors: tensor "w": missing field "dtype"/,
    ],
    [
      "missing data_offsets",
      () => rawFile(file, { w: { dtype: "F32", shape: [2] } }, eightBytes),
      /bad\.safetensors: tensor "w": field "data_offsets"/,
    ],
    [
      "bad shape",
      () => rawFile(file, { w: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, eightBytes),
      /tensor "w": field "shape"/,
    ],
    [
      "unknown dtype",
      () => rawFile(file, { w: { dtype: "Q4", shape: [2], data_offsets: [0, 8] } }, eightBytes),
      /bad\.safetensors: tensor "w": unknown dtype "Q4"/,
    ],
    [
      "size mismatch",
      () => rawFile(file, { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, eightBytes),
      /bad\.safetensors: tensor "w": shape \[3\] of F32 needs 12 bytes but data_offsets span 8/,
    ],
    [
      "past the data region",
      () => rawFile(file, { w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, eightBytes),
      /bad\.safetensors: tensor "w": data_offsets \[0, 16\] run past the data region \(8 bytes\)/,
    ],
    [
      "begin after end",
      () => rawFile(file, { w: { dtype: "F32", shape: [0], data_offsets: [8, 4] } }, eightBytes),
      /tensor "w": data_offsets \[8, 4\] has begin after end/,
    ],
    [
      "overlap",
      () =>
        rawFile(
          file,
          {
            x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
            y: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
          },
          eightBytes,
        ),
      /bad\.safetensors: tensor "y" .*overlaps tensor "x"/,
    ],
    [
      "metadata not strings",
      () => rawFile(file, { __metadata__: { n: 1 } }, eightBytes),
      /bad\.safetensors: "__metadata__\.n" must be a string/,
    ],
  ];
  for (const [label, make, pattern] of cases) {
    make();
    assert.throws(() => loadSafetensors(file), pattern, label);
    assert.throws(() => readSafetensorsHeader(file), pattern, label);
  }
  assert.throws(
    () => loadSafetensors(path.join(dir, "absent.safetensors")),
    /absent\.safetensors: cannot open \(ENOENT\)/,
  );
});

test("loading an integer tensor names the tensor and its dtype", () => {
  const file = path.join(tempDir(), "ints.safetensors");
  rawFile(
    file,
    {
      ok: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      ids: { dtype: "I64", shape: [1], data_offsets: [4, 12] },
    },
    new Uint8Array(12),
  );
  assert.equal(readSafetensorsHeader(file).tensors.get("ids")!.dtype, "I64");
  assert.deepEqual([...loadSafetensors(file, { names: new Set(["ok"]) }).keys()], ["ok"]);
  assert.throws(() => loadSafetensors(file), /ints\.safetensors: tensor "ids" has unsupported dtype I64/);
});

test("writing rejects inconsistent input and leaves no file", () => {
  const dir = tempDir();
  const file = path.join(dir, "out.safetensors");
  assert.throws(
    () => writeSafetensors(file, [{ name: "w", shape: [2, 2], data: new Float32Array(3) }]),
    /out\.safetensors: tensor "w" has shape \[2, 2\] but 3 values/,
  );
  assert.throws(
    () =>
      writeSafetensors(file, [
        { name: "w", shape: [1], data: new Float32Array(1) },
        { name: "w", shape: [1], data: new Float32Array(1) },
      ]),
    /tensor "w" given twice/,
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test("a directory or a link loop in place of a file is named as such, not a raw EISDIR", () => {
  const dir = tempDir();
  const folder = path.join(dir, "x.safetensors");
  fs.mkdirSync(folder);
  assert.throws(() => readSafetensorsHeader(folder), { message: `${folder}: is a directory, not a file` });
  assert.throws(() => loadSafetensors(folder), { message: `${folder}: is a directory, not a file` });
  const loop = path.join(dir, "loop.safetensors");
  fs.symlinkSync("loop.safetensors", loop);
  assert.throws(
    () => readSafetensorsHeader(loop),
    /loop\.safetensors: is a symbolic link \(to loop\.safetensors\) that loops/,
  );
});
