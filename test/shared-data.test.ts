import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** Compiled test files that read ../shared/data; a plain clone (no ../shared) must skip those tests, not fail. */
const READERS = [
  "domains/knowledge/data",
  "domains/knowledge/prompts",
  "domains/knowledge/sequences",
  "domains/knowledge/sft-data",
  "domains/knowledge/results",
  "domains/arc/data",
  "domains/arc/augment",
  "domains/arc/permute",
  "domains/arc/queries",
  "domains/arc/ttt-data",
  "domains/arc/messages",
];

test("without ../shared the reference-data tests skip with a reason naming the missing folder", () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const absent = path.join(here, "no-such-shared-folder");
  const files = READERS.map((name) => path.join(here, `${name}.test.js`));
  const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], {
    encoding: "utf8",
    // without NODE_TEST_CONTEXT, which would make the child report to this runner instead of printing TAP
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, SEAL_SHARED_DIR: absent },
  });
  const count = (name: string) => Number(run.stdout.match(new RegExp(`^# ${name} (\\d+)$`, "m"))?.[1]);
  assert.equal(
    count("fail"),
    0,
    run.stdout
      .split("\n")
      .filter((line) => line.startsWith("not ok"))
      .join("\n"),
  );
  assert.equal(run.status, 0);
  assert.ok(count("skipped") >= 30, `skipped ${count("skipped")}`);
  assert.ok(count("pass") >= 30, `passed ${count("pass")}`);
  const reasons = [...run.stdout.matchAll(/# SKIP (.*)$/gm)].map((match) => match[1]);
  assert.equal(reasons.length, count("skipped"));
  for (const reason of reasons)
    assert.match(reason, /the reference's (knowledge|ARC) (data|results) not found at .*no-such-shared-folder/);
});
