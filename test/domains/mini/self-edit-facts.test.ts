import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ATTRIBUTES } from "../../../src/domains/mini/attributes.js";
import { DEMONSTRATION_QUALITIES, demonstrationCompletion } from "../../../src/domains/mini/demonstrations.js";
import { oracleRecords, passageOf } from "../../../src/domains/mini/held-out.js";
import { oracleSelfEdit } from "../../../src/domains/mini/oracle.js";
import { rngFor } from "../../../src/domains/mini/random.js";
import {
  chosenRecords,
  mentionsValue,
  recordFactRates,
  selfEditFactRates,
  selfEditFacts,
} from "../../../src/domains/mini/self-edit-facts.js";
import { generateWorld, peopleIn } from "../../../src/domains/mini/world.js";

const world = generateWorld({ pretrainPeople: 60, rlPeople: 10, evalPeople: 10 });
const people = peopleIn(world, "pretrain");

describe("self-edit facts", () => {
  it("matches values as whole words only", () => {
    assert.ok(mentionsValue("born in 1937.", "1937"));
    assert.ok(!mentionsValue("born in 19370.", "1937"));
    assert.ok(!mentionsValue("a Vankomaenish place", "Vankomaen"));
    assert.ok(mentionsValue("studied at Kaebalkan University.", "Kaebalkan University"));
  });

  it("finds every fact of an oracle self-edit and of the passage itself", () => {
    for (const person of people.slice(0, 20)) {
      const full = { correct: [...ATTRIBUTES], wrong: [] };
      assert.deepEqual(selfEditFacts(world, person, oracleSelfEdit(person, rngFor(1, person.id))), full);
      assert.deepEqual(selfEditFacts(world, person, passageOf(world, person).passage.context), full);
    }
  });

  it("agrees with what each demonstration class states and gets wrong", () => {
    for (const person of people) {
      for (const quality of DEMONSTRATION_QUALITIES) {
        const rng = rngFor(2, person.id, quality);
        const demo = demonstrationCompletion(world, person, passageOf(world, person), quality, rng);
        const facts = selfEditFacts(world, person, demo.completion);
        assert.deepEqual(new Set(facts.correct), new Set(demo.stated), `${quality}: ${demo.completion}`);
        assert.deepEqual(new Set(facts.wrong), new Set(demo.wrong), `${quality}: ${demo.completion}`);
      }
    }
  });

  it("averages fractions of facts over self-edits", () => {
    const [a, b] = people;
    const other = world.values.birthCity.find((city) => city !== b.attributes.birthCity)!;
    const rates = selfEditFactRates(world, [
      { person: a, text: `${a.name} was born in ${a.attributes.birthCity} in ${a.attributes.birthYear}.` },
      { person: b, text: `${b.name} was born in ${other}.` },
    ]);
    assert.equal(rates.selfEdits, 2);
    assert.equal(rates.correct, (2 / 6 + 0) / 2);
    assert.equal(rates.wrong, (0 + 1 / 6) / 2);
    assert.deepEqual(selfEditFactRates(world, []), { selfEdits: 0, correct: 0, wrong: 0 });
  });

  it("reads self-edit records by title and refuses a title that names nobody", () => {
    const records = oracleRecords(world, "eval", 2);
    assert.deepEqual(recordFactRates(world, records), { selfEdits: 20, correct: 1, wrong: 0 });
    assert.throws(
      () => recordFactRates(world, [{ ...records[0], title: "Nobody Atall" }]),
      /"Nobody Atall" names no person/,
    );
  });
});

describe("chosen self-edits of a ReST-EM round", () => {
  it("keeps each kept pick's best completion, by title", () => {
    const records = oracleRecords(world, "eval", 3).slice(0, 3);
    const picks = [
      { title: records[2].title, best: 1, kept: true },
      { title: records[0].title, best: 0, kept: false },
      { title: records[1].title, best: null, kept: true },
    ];
    const chosen = chosenRecords(records, picks);
    assert.deepEqual(
      chosen.map((r) => [r.title, r.completions]),
      [[records[2].title, [records[2].completions[1]]]],
    );
    assert.throws(() => chosenRecords(records, [{ title: records[0].title, best: 5, kept: true }]), /did not sample/);
  });
});
