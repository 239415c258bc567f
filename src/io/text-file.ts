/**
 * Reading the text files users give (JSON, JSONL, templates): UTF-8, with a leading byte-order mark dropped (editors
 * on Windows write one; JSON.parse would reject it), and bytes that are not UTF-8 refused with `file:line` instead
 * of being turned silently into U+FFFD (training on, or answering from, replacement characters).
 */
import fs from "node:fs";
import { unreadableFileMessage } from "./input-file.js";

const BOM = [0xef, 0xbb, 0xbf];
const NEWLINE = 0x0a;

/** The 1-based line of the first byte sequence in `bytes` that is not UTF-8 (`bytes` is known to hold one). */
function firstInvalidLine(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    try {
      decoder.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    line++;
    start = end + 1;
  }
  return line - 1;
}

/** Decodes UTF-8 `bytes` read from `file`: a leading BOM is dropped; invalid UTF-8 is an error naming file:line. */
export function decodeUtf8Text(bytes: Uint8Array, file: string): string {
  const hasBom = bytes.length >= 3 && BOM.every((byte, i) => bytes[i] === byte);
  const body = hasBom ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new Error(`${file}:${firstInvalidLine(body)}: not valid UTF-8 (save the file as UTF-8)`);
  }
}

/** Reads a UTF-8 text file (see decodeUtf8Text); a file that cannot be read is an error naming it and the reason. */
export function readTextFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new Error(unreadableFileMessage(file, error));
  }
  return decodeUtf8Text(bytes, file);
}
