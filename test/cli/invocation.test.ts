import assert from "node:assert/strict";
import { test } from "node:test";
import { invocationText } from "../../src/cli/invocation.js";

test("a report's command is `seal …` as retyped, not node's and npx's paths; odd arguments are shell-quoted", () => {
  const argv = ["/usr/bin/node", "/root/.npm/_npx/1f2e/node_modules/seal/bin/seal.js", "demo", "--seeds", "3"];
  assert.equal(invocationText(argv), "seal demo --seeds 3");
  assert.equal(
    invocationText(["node", "seal.js", "demo", "--out", "my runs/demo", "--note", "it's"]),
    `seal demo --out 'my runs/demo' --note 'it'\\''s'`,
  );
});
