/**
 * 16-bit float conversions for safetensors F16 / BF16 tensors. The engine computes in f32, so half floats exist
 * only on disk: widened at load, narrowed (round to nearest, ties to even) at save.
 */

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Bits of an f32 value as an unsigned 32-bit integer. */
export function f32Bits(value: number): number {
  f32Scratch[0] = value;
  return u32Scratch[0];
}

/** The f32 value with the given bits. */
export function f32FromBits(bits: number): number {
  u32Scratch[0] = bits;
  return f32Scratch[0];
}

/** bfloat16 is the upper half of an f32, so widening is a shift. */
export function bf16BitsToF32(bits: number): number {
  return f32FromBits((bits & 0xffff) << 16);
}

/** f32 bits → bf16 bits, round to nearest even; NaN stays NaN (quiet, sign kept), overflow rounds to ±inf. */
export function f32BitsToBf16Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const roundingBias = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + roundingBias) >>> 16) & 0xffff;
}

export function f32ToBf16Bits(value: number): number {
  return f32BitsToBf16Bits(f32Bits(value));
}

/** IEEE 754 binary16 bits → number, including subnormals, ±0, ±inf and NaN. */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** f32 bits → binary16 bits, round to nearest even; results below half the smallest subnormal flush to ±0. */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: value = significand · 2^(halfExponent − 38) = h · 2^−24, so h = significand >> (14 − e).
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = significand >>> shift;
    const remainder = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa correctly bumps the exponent (and reaches inf at the top).
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

export function f32ToF16Bits(value: number): number {
  return f32BitsToF16Bits(f32Bits(value));
}

let f16Table: Float32Array | null = null;

/** All 65536 half values, built once: widening a tensor becomes one table lookup per element. */
function f16ToF32Table(): Float32Array {
  if (f16Table === null) {
    f16Table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) f16Table[bits] = f16BitsToF32(bits);
  }
  return f16Table;
}

/** Widens `source` (bf16 bits) into `target` starting at `targetOffset`. */
export function bf16ArrayToF32(source: Uint16Array, target: Float32Array, targetOffset = 0): void {
  const targetBits = new Uint32Array(target.buffer, target.byteOffset, target.length);
  for (let i = 0; i < source.length; i++) targetBits[targetOffset + i] = source[i] << 16;
}

/** Widens `source` (f16 bits) into `target` starting at `targetOffset`. */
export function f16ArrayToF32(source: Uint16Array, target: Float32Array, targetOffset = 0): void {
  const table = f16ToF32Table();
  for (let i = 0; i < source.length; i++) target[targetOffset + i] = table[source[i]];
}

/** Narrows `source[offset, offset + target.length)` into `target` as bf16 bits. */
export function f32ArrayToBf16(source: Float32Array, target: Uint16Array, sourceOffset = 0): void {
  const sourceBits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  for (let i = 0; i < target.length; i++) target[i] = f32BitsToBf16Bits(sourceBits[sourceOffset + i]);
}

/** Narrows `source[offset, offset + target.length)` into `target` as f16 bits. */
export function f32ArrayToF16(source: Float32Array, target: Uint16Array, sourceOffset = 0): void {
  const sourceBits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  for (let i = 0; i < target.length; i++) target[i] = f32BitsToF16Bits(sourceBits[sourceOffset + i]);
}
