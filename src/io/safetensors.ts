/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data,
 * offsets counted from the first byte after the header.
 *
 * Reading streams tensor by tensor with positioned reads, so a multi-GB file is never held in one Buffer.
 * The engine works in f32: F32, F16 and BF16 tensors are widened to Float32Array at load.
 */
import fs from "node:fs";
import os from "node:os";
import { writeAtomically } from "./atomic-file.js";
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from "./half-float.js";
import { assertRegularFile } from "./input-file.js";

/** Byte size of every dtype the format defines; only F32, F16 and BF16 can be loaded. */
const DTYPE_SIZES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export type LoadableDtype = "F32" | "F16" | "BF16";
const LOADABLE: ReadonlySet<string> = new Set<LoadableDtype>(["F32", "F16", "BF16"]);

/** The reference implementation refuses headers above 100 MB; so do we, before allocating. */
const MAX_HEADER_BYTES = 100_000_000;
/** Largest single fs.readSync/writeSync request (the syscall caps one call below 2 GiB). */
const IO_CHUNK_BYTES = 256 * 1024 * 1024;
/** Scratch size for widening/narrowing 16-bit tensors chunk by chunk. */
const CONVERT_CHUNK_ELEMENTS = 4 * 1024 * 1024;

export interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file (header included), [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  path: string;
  /** Absolute file offset of the data region (8 + header length). */
  dataStart: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string> | null;
}

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface NamedTensor extends Tensor {
  name: string;
}

export interface WriteOptions {
  dtype?: LoadableDtype;
  metadata?: Record<string, string>;
}

function assertLittleEndianHost(): void {
  // Typed arrays use host byte order; the format is little-endian.
  if (os.endianness() !== "LE") throw new Error("safetensors I/O needs a little-endian host");
}

/** Whether the engine can load tensors of this dtype (F32, F16, BF16). */
export function isLoadableDtype(dtype: string): dtype is LoadableDtype {
  return LOADABLE.has(dtype);
}

export function dtypeSize(dtype: string): number | undefined {
  return DTYPE_SIZES[dtype];
}

function elementCount(shape: number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

function readFully(fd: number, target: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < target.length) {
    const length = Math.min(IO_CHUNK_BYTES, target.length - done);
    const read = fs.readSync(fd, target, done, length, position + done);
    if (read === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done}`);
    done += read;
  }
}

function writeFully(fd: number, source: Uint8Array): void {
  let done = 0;
  while (done < source.length) {
    const length = Math.min(IO_CHUNK_BYTES, source.length - done);
    done += fs.writeSync(fd, source, done, length);
  }
}

/** Reads and validates the header of an open file. */
function readHeaderFromFd(fd: number, path: string): SafetensorsHeader {
  const fileSize = fs.fstatSync(fd).size;
  if (fileSize < 8)
    throw new Error(`${path}: not a safetensors file (${fileSize} bytes, shorter than the 8-byte header length)`);
  const lengthBytes = new Uint8Array(8);
  readFully(fd, lengthBytes, 0, path);
  const headerLength = Number(new DataView(lengthBytes.buffer).getBigUint64(0, true));
  if (headerLength > fileSize - 8)
    throw new Error(`${path}: header length ${headerLength} is larger than the file (${fileSize} bytes)`);
  if (headerLength > MAX_HEADER_BYTES)
    throw new Error(`${path}: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerBytes = new Uint8Array(headerLength);
  readFully(fd, headerBytes, 8, path);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new Error(`${path}: header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  return parseHeader(json, path, 8 + headerLength, fileSize);
}

function parseHeader(json: unknown, path: string, dataStart: number, fileSize: number): SafetensorsHeader {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new Error(`${path}: header must be a JSON object of tensors`);
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> | null = null;
  for (const [name, entry] of Object.entries(json)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(entry, path);
      continue;
    }
    const where = `${path}: tensor "${name}"`;
    if (typeof entry !== "object" || entry === null) throw new Error(`${where}: entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string") throw new Error(`${where}: missing field "dtype"`);
    const size = DTYPE_SIZES[dtype];
    if (size === undefined) throw new Error(`${where}: unknown dtype "${dtype}"`);
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0))
      throw new Error(`${where}: field "shape" must be a list of non-negative integers`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)
    )
      throw new Error(`${where}: field "data_offsets" must be [begin, end] with non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw new Error(`${where}: data_offsets [${begin}, ${end}] has begin after end`);
    if (end > dataSize)
      throw new Error(`${where}: data_offsets [${begin}, ${end}] run past the data region (${dataSize} bytes)`);
    const expected = elementCount(shape) * size;
    if (end - begin !== expected)
      throw new Error(
        `${where}: shape [${shape.join(", ")}] of ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    tensors.set(name, { dtype, shape: [...shape], begin: dataStart + begin, end: dataStart + end });
  }
  checkNoOverlap(tensors, path, dataStart);
  return { path, dataStart, tensors, metadata };
}

function parseMetadata(entry: unknown, path: string): Record<string, string> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry))
    throw new Error(`${path}: "__metadata__" must be an object of strings`);
  for (const [key, value] of Object.entries(entry))
    if (typeof value !== "string") throw new Error(`${path}: "__metadata__.${key}" must be a string`);
  return { ...(entry as Record<string, string>) };
}

function checkNoOverlap(tensors: Map<string, TensorInfo>, path: string, dataStart: number): void {
  const ranges = [...tensors.entries()]
    .filter(([, info]) => info.end > info.begin)
    .sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < ranges.length; i++) {
    const [previousName, previous] = ranges[i - 1];
    const [name, info] = ranges[i];
    if (info.begin < previous.end)
      throw new Error(
        `${path}: tensor "${name}" (bytes ${info.begin - dataStart}..${info.end - dataStart}) overlaps tensor "${previousName}" (bytes ${previous.begin - dataStart}..${previous.end - dataStart})`,
      );
  }
}

/** Reads and validates only the header: names, dtypes, shapes, offsets, metadata. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openForReading(path);
  try {
    return readHeaderFromFd(fd, path);
  } finally {
    fs.closeSync(fd);
  }
}

function openForReading(path: string): number {
  // Checked before opening: a directory opens without error and fails only at the first read, as a raw EISDIR.
  assertRegularFile(path);
  try {
    return fs.openSync(path, "r");
  } catch (error) {
    throw new Error(`${path}: cannot open (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function unsupportedDtype(path: string, name: string, dtype: string): Error {
  return new Error(`${path}: tensor "${name}" has unsupported dtype ${dtype} (supported: F32, F16, BF16)`);
}

function readTensor(fd: number, path: string, name: string, info: TensorInfo): Float32Array {
  const count = elementCount(info.shape);
  const data = new Float32Array(count);
  if (info.dtype === "F32") {
    // Straight into the destination's bytes: no intermediate copy.
    readFully(fd, new Uint8Array(data.buffer), info.begin, path);
    return data;
  }
  const widen = info.dtype === "BF16" ? bf16ArrayToF32 : info.dtype === "F16" ? f16ArrayToF32 : null;
  if (widen === null) throw unsupportedDtype(path, name, info.dtype);
  const scratch = new Uint16Array(Math.min(count, CONVERT_CHUNK_ELEMENTS));
  for (let done = 0; done < count; done += scratch.length) {
    const chunk = scratch.subarray(0, Math.min(scratch.length, count - done));
    readFully(fd, new Uint8Array(chunk.buffer, 0, chunk.byteLength), info.begin + done * 2, path);
    widen(chunk, data, done);
  }
  return data;
}

/**
 * Loads tensors as Float32Array (all, or those in `names`; asking for a name the file lacks is an error).
 */
export function loadSafetensors(path: string, options: { names?: ReadonlySet<string> } = {}): Map<string, Tensor> {
  assertLittleEndianHost();
  const fd = openForReading(path);
  try {
    const header = readHeaderFromFd(fd, path);
    const wanted = options.names ?? new Set(header.tensors.keys());
    const missing = [...wanted].filter((name) => !header.tensors.has(name));
    if (missing.length > 0) throw new Error(`${path}: no tensor named ${missing.map((n) => `"${n}"`).join(", ")}`);
    // Check every dtype before reading anything: fail fast on a multi-GB file.
    for (const name of wanted) {
      const { dtype } = header.tensors.get(name)!;
      if (!LOADABLE.has(dtype)) throw unsupportedDtype(path, name, dtype);
    }
    const result = new Map<string, Tensor>();
    for (const name of wanted) {
      const info = header.tensors.get(name)!;
      result.set(name, { shape: [...info.shape], data: readTensor(fd, path, name, info) });
    }
    return result;
  } finally {
    fs.closeSync(fd);
  }
}

/** Header JSON as the reference writes it: metadata first, tensors in data order; spaces pad it to 8 bytes. */
function encodeHeader(
  tensors: NamedTensor[],
  dtype: LoadableDtype,
  metadata: Record<string, string> | undefined,
): Uint8Array {
  const size = DTYPE_SIZES[dtype];
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    const bytes = tensor.data.length * size;
    header[tensor.name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const paddedLength = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + paddedLength, 0x20);
  out.writeBigUInt64LE(BigInt(paddedLength), 0);
  json.copy(out, 8);
  return out;
}

function writeTensorData(fd: number, data: Float32Array, dtype: LoadableDtype): void {
  if (dtype === "F32") {
    writeFully(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  const narrow = dtype === "BF16" ? f32ArrayToBf16 : f32ArrayToF16;
  const scratch = new Uint16Array(Math.min(data.length, CONVERT_CHUNK_ELEMENTS));
  for (let done = 0; done < data.length; done += scratch.length) {
    const chunk = scratch.subarray(0, Math.min(scratch.length, data.length - done));
    narrow(data, chunk, done);
    writeFully(fd, new Uint8Array(chunk.buffer, 0, chunk.byteLength));
  }
}

/**
 * Writes tensors (sorted by name, as the Python library does) in one dtype, tensor by tensor, to a temp file
 * that is renamed onto `path` once complete.
 */
export function writeSafetensors(path: string, tensors: NamedTensor[], options: WriteOptions = {}): void {
  assertLittleEndianHost();
  const dtype = options.dtype ?? "F32";
  if (!LOADABLE.has(dtype)) throw new Error(`${path}: cannot write dtype ${dtype} (supported: F32, F16, BF16)`);
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (tensor.name === "__metadata__" || tensor.name === "")
      throw new Error(`${path}: invalid tensor name "${tensor.name}"`);
    if (seen.has(tensor.name)) throw new Error(`${path}: tensor "${tensor.name}" given twice`);
    seen.add(tensor.name);
    if (!tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0))
      throw new Error(`${path}: tensor "${tensor.name}" has invalid shape [${tensor.shape.join(", ")}]`);
    if (elementCount(tensor.shape) !== tensor.data.length)
      throw new Error(
        `${path}: tensor "${tensor.name}" has shape [${tensor.shape.join(", ")}] but ${tensor.data.length} values`,
      );
  }
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  writeAtomically(path, (tempPath) => {
    const fd = fs.openSync(tempPath, "w");
    try {
      writeFully(fd, encodeHeader(sorted, dtype, options.metadata));
      for (const tensor of sorted) writeTensorData(fd, tensor.data, dtype);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}
