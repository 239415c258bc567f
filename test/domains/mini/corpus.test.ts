import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closedBookQaPrompt } from "../../../src/domains/knowledge/prompts.js";
import { ATTRIBUTES } from "../../../src/domains/mini/attributes.js";
import { buildPretrainCorpus, type CorpusDocument } from "../../../src/domains/mini/corpus.js";
import { DEMONSTRATION_QUALITIES, type DemonstrationQuality } from "../../../src/domains/mini/demonstrations.js";
import { passageOf } from "../../../src/domains/mini/held-out.js";
import { assertNoLeakage, findHeldOutNames } from "../../../src/domains/mini/leakage.js";
import { mentionsValue } from "../../../src/domains/mini/self-edit-facts.js";
import { questionTemplates, renderNamed } from "../../../src/domains/mini/templates.js";
import { generateWorld, peopleIn } from "../../../src/domains/mini/world.js";

const world = generateWorld();
const corpus = buildPretrainCorpus(world);
const texts = corpus.map((doc) => doc.text);
const heldOut = world.people.filter((p) => p.split !== "pretrain");

function ofKind(kind: CorpusDocument["kind"]): CorpusDocument[] {
  return corpus.filter((doc) => doc.kind === kind);
}

describe("pretraining corpus", () => {
  it("is deterministic in the seed", () => {
    assert.deepEqual(buildPretrainCorpus(world), corpus);
    const small = generateWorld({ seed: 5, pretrainPeople: 40, rlPeople: 5, evalPeople: 5 });
    assert.deepEqual(buildPretrainCorpus(small), buildPretrainCorpus(small));
    assert.notDeepEqual(
      buildPretrainCorpus(small, { seed: 6 }).map((d) => d.text),
      buildPretrainCorpus(small).map((d) => d.text),
    );
    const otherWorld = generateWorld({ seed: 6, pretrainPeople: 40, rlPeople: 5, evalPeople: 5 });
    assert.notDeepEqual(
      buildPretrainCorpus(otherWorld).map((d) => d.text),
      buildPretrainCorpus(small).map((d) => d.text),
    );
  });

  it("never names an rl or eval person (checked over every text, character by character)", () => {
    for (const person of heldOut) {
      for (const text of texts)
        if (text.includes(person.name)) assert.fail(`${person.split} ${person.name} in ${text}`);
    }
    assert.deepEqual(findHeldOutNames(world, texts), []);
    assert.doesNotThrow(() => assertNoLeakage(world, texts));
  });

  it("states facts only about pretrain people, with their own values", () => {
    for (const doc of [...ofKind("bio"), ...ofKind("facts"), ...ofKind("qa")]) {
      const about = world.people[doc.personId!];
      assert.equal(about.split, "pretrain");
      assert.ok(doc.text.includes(about.name));
      const stated = ATTRIBUTES.filter((a) => mentionsValue(doc.text, about.attributes[a])).length;
      assert.equal(stated, doc.kind === "qa" ? 1 : ATTRIBUTES.length, doc.text);
    }
  });

  it("catches a planted leak", () => {
    const person = peopleIn(world, "eval")[0];
    const planted = [...texts.slice(0, 10), `Notes\n${person.name}'s employer was ${person.attributes.employer}.`];
    assert.deepEqual(findHeldOutNames(world, planted), [{ index: 10, name: person.name, split: "eval" }]);
    assert.throws(() => assertNoLeakage(world, planted), /leakage: 1 occurrence/);
  });

  it("mixes the configured kinds: bios, fact lists, QA, demonstrations, world prose", () => {
    const pretrain = peopleIn(world, "pretrain").length;
    const regular = pretrain - Math.round(0.1 * pretrain);
    assert.equal(ofKind("bio").length, 3 * regular);
    assert.equal(ofKind("facts").length, regular);
    assert.equal(ofKind("qa").length, Math.round(0.5 * regular) * ATTRIBUTES.length);
    assert.equal(ofKind("demonstration").length, Math.round(0.5 * regular) + pretrain - regular);
    assert.equal(ofKind("world").length, 18);
    // demonstration-only people: their facts are nowhere else, so a self-edit can only copy them from the passage
    const byPerson = new Map<number, Set<string>>();
    for (const doc of corpus) {
      if (doc.personId === null) continue;
      const kinds = byPerson.get(doc.personId) ?? new Set<string>();
      kinds.add(doc.kind);
      byPerson.set(doc.personId, kinds);
    }
    const only = [...byPerson.entries()].filter(([, kinds]) => kinds.size === 1 && kinds.has("demonstration"));
    assert.equal(only.length, pretrain - regular);
    for (const [id] of only) {
      const name = world.people[id].name;
      assert.equal(texts.filter((text) => text.includes(name) && mentionsValue(text, name)).length, 1, name);
    }
    const custom = buildPretrainCorpus(world, {
      demonstrationOnlyFraction: 0,
      biosPerPerson: 1,
      factDocsPerPerson: 0,
      qaPeopleFraction: 1,
      qaPerAttribute: 2,
      demonstrationFraction: 0,
      worldDocsPerValueSet: 0,
    });
    assert.equal(custom.filter((d) => d.kind === "bio").length, pretrain);
    assert.equal(custom.filter((d) => d.kind === "qa").length, 2 * ATTRIBUTES.length * pretrain);
    assert.equal(custom.length, pretrain + 2 * ATTRIBUTES.length * pretrain);
  });

  it("writes multiple phrasings and orders per person", () => {
    const person = peopleIn(world, "pretrain")[0];
    const bios = ofKind("bio").filter((d) => d.personId === person.id);
    assert.equal(new Set(bios.map((d) => d.text)).size, bios.length);
    for (const bio of bios)
      for (const attribute of ATTRIBUTES) assert.ok(bio.text.includes(person.attributes[attribute]));
  });

  it("formats QA texts exactly as the inner loop asks: closedBookQaPrompt(title, question) + answer", () => {
    for (const doc of ofKind("qa")) {
      const person = world.people[doc.personId!];
      const match = ATTRIBUTES.flatMap((attribute) =>
        questionTemplates(attribute).map((template) => {
          const question = renderNamed(template, person.name);
          return closedBookQaPrompt(person.name, question) + person.attributes[attribute];
        }),
      ).includes(doc.text);
      assert.ok(match, doc.text);
    }
  });

  it("draws demonstrations from the quality mixture at about the configured rates", () => {
    const weights: Record<DemonstrationQuality, number> = {
      complete: 0.3,
      partial: 0.2,
      wrong: 0.2,
      filler: 0.1,
      copy: 0.2,
    };
    const docs = buildPretrainCorpus(world, {
      biosPerPerson: 0,
      factDocsPerPerson: 0,
      qaPeopleFraction: 0,
      worldDocsPerValueSet: 0,
      demonstrationFraction: 1,
      demonstrations: { weights, maxPhrasings: 3, questionLineProbability: 0.3 },
    });
    assert.equal(docs.length, peopleIn(world, "pretrain").length);
    for (const quality of DEMONSTRATION_QUALITIES) {
      const rate = docs.filter((d) => d.quality === quality).length / docs.length;
      assert.ok(Math.abs(rate - weights[quality]) < 0.035, `${quality}: ${rate} vs ${weights[quality]}`);
    }
    const none = buildPretrainCorpus(world, {
      demonstrationFraction: 1,
      demonstrations: { weights: { ...weights, filler: 0 }, maxPhrasings: 3, questionLineProbability: 0.3 },
    });
    assert.equal(none.filter((d) => d.quality === "filler").length, 0);
  });

  it("makes each demonstration class what it says", () => {
    const seen = new Set<DemonstrationQuality>();
    for (const doc of ofKind("demonstration")) {
      const person = world.people[doc.personId!];
      const [prompt, completion] = doc.text.split("\n\nImplications:\n");
      assert.ok(prompt.startsWith("Let's read the following passage and produce a list of implications"));
      assert.ok(prompt.includes(`Passage:\n${person.name}\n`));
      const lines = completion.split("\n");
      const values = ATTRIBUTES.map((a) => person.attributes[a]);
      const stated = values.filter((v) => mentionsValue(completion, v)).length;
      const quality = doc.quality!;
      seen.add(quality);
      if (quality === "complete") assert.equal(stated, ATTRIBUTES.length);
      if (quality === "partial") assert.ok(stated >= 1 && stated < ATTRIBUTES.length, completion);
      if (quality === "wrong") {
        assert.ok(stated < ATTRIBUTES.length, completion);
        assert.equal(lines.length, ATTRIBUTES.length);
      }
      if (quality === "filler") assert.equal(stated, 0, completion);
      if (quality === "copy") {
        // the passage in the prompt, sentence per line
        const context = prompt.split(`Passage:\n${person.name}\n`)[1];
        assert.equal(lines.join(" "), context);
      }
      if (quality !== "copy") for (const line of lines) assert.ok(line.includes(person.name), line);
    }
    assert.deepEqual([...seen].sort(), [...DEMONSTRATION_QUALITIES].sort());
  });

  it("keeps held-out passages out of the demonstrations' prompts", () => {
    const held = new Set(heldOut.map((p) => passageOf(world, p).passage.context));
    for (const doc of ofKind("demonstration")) for (const context of held) assert.ok(!doc.text.includes(context));
  });
});
