import assert from "node:assert/strict";
import { test } from "node:test";
import { topLevelKeyOrder } from "../../../src/domains/arc/json-key-order.js";

test("top-level keys in written order, integer-like keys included", () => {
  const text = '{"b": 1, "10": {"z": [1, "x"]}, "a": "val: ue", "2": []}';
  assert.deepEqual(Object.keys(JSON.parse(text)), ["2", "10", "b", "a"]);
  assert.deepEqual(topLevelKeyOrder(text), ["b", "10", "a", "2"]);
});

test("escaped quotes and backslashes in keys and values, nested objects, whitespace before colons", () => {
  const text = '{ "q\\"uote" : {"inner": {"deep": 1}}, "back\\\\" :"v\\"}", "\\u0041" : [{"k": "}"}] }';
  assert.deepEqual(topLevelKeyOrder(text), ['q"uote', "back\\", "A"]);
});

test("a repeated key keeps its first position; an empty object has no keys", () => {
  assert.deepEqual(topLevelKeyOrder('{"a": 1, "b": 2, "a": 3}'), ["a", "b"]);
  assert.deepEqual(topLevelKeyOrder("{}"), []);
  assert.deepEqual(topLevelKeyOrder("[1, 2]"), []);
});
