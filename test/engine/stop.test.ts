import assert from "node:assert/strict";
import { test } from "node:test";
import { findEarliestStopString, StopStringMatcher } from "../../src/engine/stop.js";

test("no stop string: text accumulates and generation continues", () => {
  const matcher = new StopStringMatcher(["###", "</s>"]);
  for (const piece of ["Hello", ", ", "world", "#", "#"]) assert.equal(matcher.append(piece).stopped, false);
  assert.equal(matcher.text, "Hello, world##");
  assert.equal(matcher.stopped, false);
  assert.equal(matcher.stopString, null);
});

test("an empty list never stops", () => {
  const matcher = new StopStringMatcher([]);
  assert.deepEqual(matcher.append("anything </s> at all"), {
    stopped: false,
    text: "anything </s> at all",
    stopString: null,
  });
  assert.equal(matcher.stableText, "anything </s> at all");
});

test("a stop string inside one piece truncates before it", () => {
  const matcher = new StopStringMatcher(["\n\n"]);
  assert.deepEqual(matcher.append("First line\n\nSecond"), { stopped: true, text: "First line", stopString: "\n\n" });
  assert.equal(matcher.text, "First line");
});

test("a stop string split across pieces is found", () => {
  const matcher = new StopStringMatcher(["<|im_end|>"]);
  const pieces = ["The answer", " is 4.", "<|", "im", "_e", "nd|>", " trailing"];
  const results = pieces.map((p) => matcher.append(p));
  assert.deepEqual(
    results.map((r) => r.stopped),
    [false, false, false, false, false, true, true],
  );
  assert.equal(results[5].text, "The answer is 4.");
  assert.equal(matcher.text, "The answer is 4.");
  assert.equal(matcher.stopString, "<|im_end|>");
});

test("after a stop, further input is ignored", () => {
  const matcher = new StopStringMatcher(["STOP"]);
  matcher.append("abcSTOPdef");
  assert.deepEqual(matcher.append("more STOP text"), { stopped: true, text: "abc", stopString: "STOP" });
  assert.deepEqual(matcher.update("abcSTOPdef more"), { stopped: true, text: "abc", stopString: "STOP" });
});

test("several stop strings: the earliest occurrence wins", () => {
  const matcher = new StopStringMatcher(["END", "\n", "Question:"]);
  assert.deepEqual(matcher.append("42 Question: what END\n"), { stopped: true, text: "42 ", stopString: "Question:" });

  const late = new StopStringMatcher(["zzz", "b"]);
  assert.deepEqual(late.append("a zzz b"), { stopped: true, text: "a ", stopString: "zzz" });

  // Same start: the shorter one (it would have completed first).
  const nested = new StopStringMatcher(["abcd", "ab"]);
  assert.deepEqual(nested.append("xxabcd"), { stopped: true, text: "xx", stopString: "ab" });
});

test("an earlier stop string straddling the previous end beats a later one in the new piece", () => {
  const matcher = new StopStringMatcher(["--END--", "!"]);
  matcher.append("result --EN");
  assert.deepEqual(matcher.append("D-- more!"), { stopped: true, text: "result ", stopString: "--END--" });
});

test("update() takes the whole decoded text, also when earlier characters changed", () => {
  const matcher = new StopStringMatcher(["</answer>"]);
  assert.equal(matcher.update("<answer>4</ans").stopped, false);
  assert.deepEqual(matcher.update("<answer>4</answer> ok"), {
    stopped: true,
    text: "<answer>4",
    stopString: "</answer>",
  });

  // A replacement character from an incomplete UTF-8 sequence turns into the real character on the next decode.
  const rewritten = new StopStringMatcher(["é!"]);
  assert.equal(rewritten.update("caf\uFFFD").stopped, false);
  assert.deepEqual(rewritten.update("café!"), { stopped: true, text: "caf", stopString: "é!" });
  // Rewriting far back: the whole text is searched again.
  const far = new StopStringMatcher(["XY"]);
  assert.equal(far.update("aaaaaaaaaaaaaaaaaaaaaZ").stopped, false);
  assert.deepEqual(far.update("XYaaaaaaaaaaaaaaaaaaaaa"), { stopped: true, text: "", stopString: "XY" });
});

test("stableText holds back a tail that could still become a stop string", () => {
  const matcher = new StopStringMatcher(["</s>", "###"]);
  matcher.append("Hello <");
  assert.equal(matcher.stableText, "Hello ");
  matcher.append("/");
  assert.equal(matcher.stableText, "Hello ");
  matcher.append("x");
  assert.equal(matcher.stableText, "Hello </x");
  matcher.append(" ##");
  assert.equal(matcher.stableText, "Hello </x ");
  matcher.append("#");
  assert.equal(matcher.stopped, true);
  assert.equal(matcher.stableText, "Hello </x ");
});

test("reset forgets text and stop", () => {
  const matcher = new StopStringMatcher(["."]);
  matcher.append("a.b");
  assert.equal(matcher.stopped, true);
  matcher.reset();
  assert.equal(matcher.stopped, false);
  assert.equal(matcher.text, "");
  assert.deepEqual(matcher.append("c."), { stopped: true, text: "c", stopString: "." });
});

test("empty stop strings are rejected; duplicates are fine", () => {
  assert.throws(() => new StopStringMatcher(["ok", ""]), /stop string 1 must be a non-empty string/);
  const matcher = new StopStringMatcher(["x", "x"]);
  assert.deepEqual(matcher.append("abxc"), { stopped: true, text: "ab", stopString: "x" });
});

test("findEarliestStopString", () => {
  assert.equal(findEarliestStopString("hello", ["x", "y"]), null);
  assert.deepEqual(findEarliestStopString("a.b!c", ["!", "."]), { stopString: ".", index: 1 });
  assert.deepEqual(findEarliestStopString("a.b!c.", ["!", "."], 2), { stopString: "!", index: 3 });
});
