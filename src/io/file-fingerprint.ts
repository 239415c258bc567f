/**
 * Content fingerprints (sha256, hex) of single files, cheap enough to take at every start: large files are
 * *sampled*, not hashed whole. A multi-GB weight file is fingerprinted by its size plus the sha256 of its first and
 * last MiB (for safetensors the first MiB holds the whole header: every tensor's name, dtype, shape and offsets).
 * Files up to 2 MiB are always hashed whole; pass `{ full: true }` to hash every byte. The run-directory
 * fingerprints (seal/fingerprint.ts) and the adapter records (io/adapter-base.ts) are built on these.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";

/** Bytes hashed from each end of a file that is fingerprinted by sampling. */
export const SAMPLE_BYTES = 1024 * 1024;

export interface FileFingerprint {
  /** File name (relative to the model folder for folder entries; as given for single files). */
  name: string;
  size: number;
  sha256: string;
  /** "full": every byte hashed; "sampled": size + first and last MiB hashed. */
  method: "full" | "sampled";
}

export interface FingerprintOptions {
  /** Hash every byte of large files instead of sampling their ends (slow for multi-GB weights). */
  full?: boolean;
}

function readRange(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let offset = 0;
  while (offset < length) {
    const read = fs.readSync(fd, buffer, offset, length - offset, position + offset);
    if (read === 0) throw new Error(`file shrank while being read (expected ${length} bytes at ${position})`);
    offset += read;
  }
  return buffer;
}

/** Fingerprints one file: whole-file sha256 up to 2 MiB (or with `full`), otherwise size + first/last MiB. */
export function fingerprintFile(file: string, options: FingerprintOptions = {}): FileFingerprint {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    throw new Error(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const hash = createHash("sha256");
    if (options.full || size <= 2 * SAMPLE_BYTES) {
      const chunk = 8 * SAMPLE_BYTES;
      for (let position = 0; position < size; position += chunk) {
        hash.update(readRange(fd, position, Math.min(chunk, size - position)));
      }
      return { name: file, size, sha256: hash.digest("hex"), method: "full" };
    }
    hash.update(`sampled:${size}:${SAMPLE_BYTES}\n`);
    hash.update(readRange(fd, 0, SAMPLE_BYTES));
    hash.update(readRange(fd, size - SAMPLE_BYTES, SAMPLE_BYTES));
    return { name: file, size, sha256: hash.digest("hex"), method: "sampled" };
  } finally {
    fs.closeSync(fd);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
