import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ATTRIBUTES } from "../../../src/domains/mini/attributes.js";
import { hasInventedMarker } from "../../../src/domains/mini/names.js";
import { templateWords } from "../../../src/domains/mini/templates.js";
import { DEFAULT_WORLD_OPTIONS, generateWorld, peopleIn, WORLD_VERSION } from "../../../src/domains/mini/world.js";

describe("mini world", () => {
  const world = generateWorld();

  it("has the configured sizes and a version", () => {
    assert.equal(world.version, WORLD_VERSION);
    assert.equal(peopleIn(world, "pretrain").length, DEFAULT_WORLD_OPTIONS.pretrainPeople);
    assert.equal(peopleIn(world, "rl").length, DEFAULT_WORLD_OPTIONS.rlPeople);
    assert.equal(peopleIn(world, "eval").length, DEFAULT_WORLD_OPTIONS.evalPeople);
    assert.equal(world.values.birthCity.length, DEFAULT_WORLD_OPTIONS.cities);
    assert.equal(world.values.birthYear.length, DEFAULT_WORLD_OPTIONS.years);
    world.people.forEach((person, index) => {
      assert.equal(person.id, index);
    });
  });

  it("is deterministic in the seed", () => {
    assert.deepEqual(generateWorld(), world);
    assert.deepEqual(generateWorld({ seed: 7, pretrainPeople: 50 }), generateWorld({ seed: 7, pretrainPeople: 50 }));
    const other = generateWorld({ seed: 1 });
    assert.notDeepEqual(
      other.people.map((p) => p.name),
      world.people.map((p) => p.name),
    );
    assert.notDeepEqual(other.values.birthCity, world.values.birthCity);
  });

  it("gives every person a unique full name, so the splits are disjoint", () => {
    const names = world.people.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    const bySplit = (split: "pretrain" | "rl" | "eval") => new Set(peopleIn(world, split).map((p) => p.name));
    const [pretrain, rl, evaluation] = [bySplit("pretrain"), bySplit("rl"), bySplit("eval")];
    for (const name of rl) assert.ok(!pretrain.has(name) && !evaluation.has(name));
    for (const name of evaluation) assert.ok(!pretrain.has(name));
  });

  it("builds held-out names only from name parts that pretrain people have", () => {
    const pretrain = peopleIn(world, "pretrain");
    const firsts = new Set(pretrain.map((p) => p.firstName));
    const surnames = new Set(pretrain.map((p) => p.surname));
    for (const person of [...peopleIn(world, "rl"), ...peopleIn(world, "eval")]) {
      assert.ok(firsts.has(person.firstName), person.name);
      assert.ok(surnames.has(person.surname), person.name);
    }
  });

  it("invents words that are distinct, marked as invented, and never template words", () => {
    const stems = [
      ...world.firstNames,
      ...world.surnames,
      ...world.values.birthCity,
      ...world.values.university.map((v) => v.split(" ")[0]),
      ...world.values.employer.map((v) => v.split(" ")[0]),
    ];
    assert.equal(new Set(stems.map((w) => w.toLowerCase())).size, stems.length);
    const english = templateWords();
    for (const word of stems) {
      assert.match(word, /^[A-Z][a-z]{3,9}$/);
      assert.ok(hasInventedMarker(word), word);
      assert.ok(!english.has(word.toLowerCase()), word);
    }
  });

  it("draws every attribute value from its value set and uses the sets widely", () => {
    for (const attribute of ATTRIBUTES) {
      const used = new Set(world.people.map((p) => p.attributes[attribute]));
      for (const value of used) assert.ok(world.values[attribute].includes(value));
      assert.equal(used.size, world.values[attribute].length, `${attribute}: every value is some person's`);
    }
    // each value is frequent in pretraining, while the person → value fact is unique
    const pretrain = peopleIn(world, "pretrain");
    const cityCounts = new Map<string, number>();
    for (const p of pretrain) cityCounts.set(p.attributes.birthCity, (cityCounts.get(p.attributes.birthCity) ?? 0) + 1);
    assert.ok(Math.min(...cityCounts.values()) >= 20);
  });

  it("rejects impossible options", () => {
    assert.throws(() => generateWorld({ firstNames: 3, surnames: 3 }), /more names/);
    assert.throws(() => generateWorld({ fields: 31 }), /fields/);
    assert.throws(() => generateWorld({ rlPeople: -1 }), /non-negative/);
  });
});
