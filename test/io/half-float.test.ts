import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bf16BitsToF32,
  f16BitsToF32,
  f32Bits,
  f32BitsToBf16Bits,
  f32FromBits,
  f32ToBf16Bits,
  f32ToF16Bits,
} from "../../src/io/half-float.js";

test("f16 decoding of known bit patterns", () => {
  assert.equal(f16BitsToF32(0x3c00), 1);
  assert.equal(f16BitsToF32(0xc000), -2);
  assert.equal(f16BitsToF32(0x7bff), 65504);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.equal(f16BitsToF32(0x03ff), 1023 * 2 ** -24);
  assert.equal(f16BitsToF32(0x0400), 2 ** -14);
  assert.equal(f16BitsToF32(0x3555), 0.333251953125);
  assert.equal(f16BitsToF32(0x7c00), Number.POSITIVE_INFINITY);
  assert.equal(f16BitsToF32(0xfc00), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
  assert.ok(Object.is(f16BitsToF32(0x8000), -0));
});

test("f32 → f16 rounds to nearest even, handles overflow, subnormals and specials", () => {
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(1 / 3), 0x3555);
  assert.equal(f32ToF16Bits(65504), 0x7bff);
  assert.equal(f32ToF16Bits(65519), 0x7bff); // below the midpoint to 65536
  assert.equal(f32ToF16Bits(65520), 0x7c00); // midpoint, ties to even = inf
  assert.equal(f32ToF16Bits(1e10), 0x7c00);
  assert.equal(f32ToF16Bits(-1e10), 0xfc00);
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // tie between 0 and the smallest subnormal → 0 (even)
  assert.equal(f32ToF16Bits(1.5 * 2 ** -25), 0x0001);
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002); // tie between 1 and 2 → 2 (even)
  assert.equal(f32ToF16Bits(2 ** -30), 0x0000);
  assert.equal(f32ToF16Bits(-(2 ** -30)), 0x8000);
  assert.equal(f32ToF16Bits(1023.5 * 2 ** -24), 0x0400); // rounds up into the smallest normal
  assert.equal(f32ToF16Bits(Number.POSITIVE_INFINITY), 0x7c00);
  assert.equal(f32ToF16Bits(-0), 0x8000);
  const nan = f32ToF16Bits(Number.NaN);
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.notEqual(nan & 0x3ff, 0);
});

test("f16: every finite half survives f16 → f32 → f16", () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0) continue; // NaN payloads need not survive
    assert.equal(f32ToF16Bits(f16BitsToF32(bits)), bits, `bits 0x${bits.toString(16)}`);
  }
});

test("f16: midpoints between neighbours round to the even one, nudges go to the nearer", () => {
  for (let bits = 0; bits < 0x7bff; bits++) {
    const low = f16BitsToF32(bits);
    const high = f16BitsToF32(bits + 1);
    const mid = (low + high) / 2; // exact in f32: 12 significant bits at most
    const even = bits % 2 === 0 ? bits : bits + 1;
    assert.equal(f32ToF16Bits(mid), even, `midpoint above 0x${bits.toString(16)}`);
    const midBits = f32Bits(mid);
    assert.equal(f32ToF16Bits(f32FromBits(midBits + 1)), bits + 1);
    assert.equal(f32ToF16Bits(f32FromBits(midBits - 1)), bits);
  }
});

test("bf16 is the upper half of f32, narrowed with round to nearest even", () => {
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToBf16Bits(-2), 0xc000);
  assert.equal(bf16BitsToF32(0x3f80), 1);
  assert.equal(bf16BitsToF32(0x4049), 3.140625);
  assert.equal(f32BitsToBf16Bits(0x3f808000), 0x3f80); // tie, even stays
  assert.equal(f32BitsToBf16Bits(0x3f818000), 0x3f82); // tie, odd rounds up
  assert.equal(f32BitsToBf16Bits(0x3f808001), 0x3f81); // above the tie
  assert.equal(f32BitsToBf16Bits(0x3f807fff), 0x3f80); // below the tie
  assert.equal(f32BitsToBf16Bits(0x7f7fffff), 0x7f80); // f32 max rounds to inf
  assert.equal(f32ToBf16Bits(Number.NEGATIVE_INFINITY), 0xff80);
  assert.equal(f32ToBf16Bits(-0), 0x8000);
  assert.equal(f32BitsToBf16Bits(0x00000001), 0x0000); // smallest f32 subnormal
  const nan = f32BitsToBf16Bits(0x7f800001); // signalling NaN whose payload sits in the low bits
  assert.ok(Number.isNaN(bf16BitsToF32(nan)));
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(Number.NaN))));
});

test("bf16: every non-NaN pattern survives bf16 → f32 → bf16", () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    if ((bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0) continue;
    assert.equal(f32ToBf16Bits(bf16BitsToF32(bits)), bits);
  }
});
