import assert from "node:assert/strict";
import { test } from "node:test";
import {
  answerTokens,
  containsGold,
  exactMatch,
  isEmptyPrediction,
  normalizeAnswer,
  parseJudgeVerdict,
  tokenF1,
} from "../../../src/domains/knowledge/grading.js";

// Expected values were checked by hand against the SQuAD v1.1 official script's rules (lower → drop
// string.punctuation → articles to spaces with unicode \b → ' '.join(split())).
test("normalizeAnswer: case, ASCII punctuation, articles and whitespace", () => {
  assert.equal(normalizeAnswer("The Quick, Brown Fox!"), "quick brown fox");
  assert.equal(normalizeAnswer("  A  man\ta plan\n"), "man plan");
  assert.equal(normalizeAnswer("U.S.A."), "usa");
  assert.equal(normalizeAnswer("an"), "");
  assert.equal(normalizeAnswer("the-theory"), "thetheory"); // punctuation goes first, so no article is left
  assert.equal(normalizeAnswer("_a_"), ""); // "_" is punctuation, then "a" is an article
  assert.equal(normalizeAnswer("a_b the"), "ab");
  assert.equal(normalizeAnswer("Theatre another"), "theatre another"); // whole words only
});

test("normalizeAnswer: unicode follows Python (unicode word boundaries, ASCII-only punctuation)", () => {
  assert.equal(normalizeAnswer("Théa an apple"), "théa apple"); // é is a word character: "a" in "Théa" stays
  assert.equal(normalizeAnswer("thé the"), "thé");
  assert.equal(normalizeAnswer("año a año"), "año año");
  assert.equal(normalizeAnswer("Ñandú THE"), "ñandú");
  assert.equal(normalizeAnswer("Denver Broncos’"), "denver broncos’"); // curly quote is not string.punctuation
  assert.equal(normalizeAnswer("“Quoted” text"), "“quoted” text");
  assert.equal(normalizeAnswer("ΟΔΟΣ"), "οδος"); // final sigma, as Python's str.lower()
  assert.equal(normalizeAnswer("a\x1fb"), "b"); // \x1f is whitespace for Python's split()
  assert.equal(normalizeAnswer("x\ufeffy"), "x\ufeffy"); // BOM is not whitespace for Python
  assert.equal(normalizeAnswer("1,000\u00a0km"), "1000 km");
});

test("normalizeAnswer: empty and whitespace-only strings", () => {
  assert.equal(normalizeAnswer(""), "");
  assert.equal(normalizeAnswer(" \n\t "), "");
  assert.equal(normalizeAnswer("!!! ..."), "");
  assert.deepEqual(answerTokens("The cat, the hat."), ["cat", "hat"]);
});

test("exactMatch: normalized equality, best over several gold answers", () => {
  assert.equal(exactMatch("the Denver Broncos.", "Denver Broncos"), 1);
  assert.equal(exactMatch("Denver", "Denver Broncos"), 0);
  assert.equal(exactMatch("Broncos", ["Denver Broncos", "the Broncos"]), 1);
  assert.equal(exactMatch("", ""), 1);
  assert.equal(exactMatch("a", "the"), 1); // both normalize to ""
  assert.throws(() => exactMatch("x", []), /at least one gold/);
});

test("tokenF1: multiset overlap with repeated tokens", () => {
  // pred "cat cat cat", gold "cat dog cat": common = 2 → P = R = 2/3.
  assert.ok(Math.abs(tokenF1("the the cat cat cat", "cat the dog cat") - 2 / 3) < 1e-12);
  // pred 2 tokens, gold 3 (article dropped: "denver broncos team"): P = 1, R = 2/3 → F1 = 0.8.
  assert.ok(Math.abs(tokenF1("Denver Broncos", "the Denver broncos team") - 0.8) < 1e-12);
  assert.equal(tokenF1("cat", "cat"), 1);
  assert.equal(tokenF1("dog", "cat"), 0);
  // v1.1 has no empty-answer special case: no common token → 0, even for two empty answers.
  assert.equal(tokenF1("", ""), 0);
  assert.equal(tokenF1("a", "the"), 0);
  assert.equal(tokenF1("Paris", ["London", "Paris France"]), 2 / 3);
});

test("containsGold: whole-token containment of the normalized gold", () => {
  assert.equal(containsGold("The Mongols won in 1221, after the siege.", "1221"), true);
  assert.equal(containsGold("It was the Denver Broncos!", "Denver Broncos"), true);
  assert.equal(containsGold("in 1945", "4"), false); // not a substring match
  assert.equal(containsGold("Denver", "Denver Broncos"), false);
  assert.equal(containsGold("anything", "the"), false); // empty normalized gold never matches
  assert.equal(containsGold("", "x"), false);
  assert.equal(containsGold("paris", ["london", "Paris"]), true);
});

test("parseJudgeVerdict: yes and not no, whole words, any case", () => {
  assert.equal(parseJudgeVerdict("yes"), true);
  assert.equal(parseJudgeVerdict("Yes."), true);
  assert.equal(parseJudgeVerdict(" YES\n"), true);
  assert.equal(parseJudgeVerdict("no"), false);
  assert.equal(parseJudgeVerdict("No."), false);
  assert.equal(parseJudgeVerdict("yes or no"), false);
  assert.equal(parseJudgeVerdict("Yes, but no."), false);
  assert.equal(parseJudgeVerdict("yesterday"), false);
  assert.equal(parseJudgeVerdict("yes, nothing wrong"), true); // "nothing" is not the word "no"
  assert.equal(parseJudgeVerdict(""), false);
  assert.equal(parseJudgeVerdict("maybe"), false);
});

test("isEmptyPrediction: empty after Python-style strip", () => {
  assert.equal(isEmptyPrediction(""), true);
  assert.equal(isEmptyPrediction(" \n\t\x1f"), true);
  assert.equal(isEmptyPrediction(" x "), false);
  assert.equal(isEmptyPrediction("."), false);
});
