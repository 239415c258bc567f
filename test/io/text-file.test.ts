/** User text files are UTF-8: a leading BOM is dropped, invalid UTF-8 is refused naming file:line. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { z } from "zod";
import { readJsonFile } from "../../src/io/json-file.js";
import { readTextFile } from "../../src/io/text-file.js";
import { tempDir } from "./fixtures.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function write(name: string, ...parts: (string | Buffer | number[])[]): string {
  const file = path.join(tempDir("seal-text-file-"), name);
  fs.writeFileSync(file, Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p)))));
  return file;
}

test("a leading BOM is dropped, one elsewhere is text; multi-byte characters decode", () => {
  assert.equal(readTextFile(write("a.txt", BOM, "héllo\n")), "héllo\n");
  assert.equal(readTextFile(write("b.txt", "a", BOM, "b")), "a\uFEFFb");
  assert.equal(readTextFile(write("c.txt", "日本\n€\n")), "日本\n€\n");
  assert.equal(readTextFile(write("d.txt", "")), "");
});

test("invalid UTF-8 is refused with the file and the line of the first bad byte", () => {
  const latin1 = write("latin1.jsonl", '{"text": "ok"}\n{"text": "ok"}\n{"text": "caf', [0xe9], '"}\n');
  assert.throws(() => readTextFile(latin1), { message: `${latin1}:3: not valid UTF-8 (save the file as UTF-8)` });
  const truncated = write("cut.txt", BOM, "one\n", [0xe2, 0x82]);
  assert.throws(() => readTextFile(truncated), { message: `${truncated}:2: not valid UTF-8 (save the file as UTF-8)` });
  // an encoded surrogate half and an overlong "/" are not UTF-8 either
  assert.throws(() => readTextFile(write("s.txt", [0xed, 0xa0, 0x80])), /:1: not valid UTF-8/);
  assert.throws(() => readTextFile(write("o.txt", "x\n\n", [0xc0, 0xaf])), /:3: not valid UTF-8/);
  assert.throws(
    () => readTextFile(path.join(tempDir("seal-text-file-"), "missing")),
    /missing: cannot read \(ENOENT\)/,
  );
});

test("JSON files: a BOM is accepted, invalid UTF-8 is refused naming the line", () => {
  assert.deepEqual(readJsonFile(write("bom.json", BOM, '{"a": 1}\n'), z.unknown()), { a: 1 });
  const bad = write("bad.json", '{\n"a": "', [0xff], '"\n}\n');
  assert.throws(() => readJsonFile(bad, z.unknown()), {
    message: `${bad}:2: not valid UTF-8 (save the file as UTF-8)`,
  });
});
