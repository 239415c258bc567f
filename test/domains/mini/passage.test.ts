import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { passageSchema } from "../../../src/domains/knowledge/data.js";
import { buildTrainSequences, trainSequence } from "../../../src/domains/knowledge/sequences.js";
import { ATTRIBUTES } from "../../../src/domains/mini/attributes.js";
import { oracleRecords, passageOf, splitPassages } from "../../../src/domains/mini/held-out.js";
import { oracleSelfEdit } from "../../../src/domains/mini/oracle.js";
import { rngFor } from "../../../src/domains/mini/random.js";
import { singleFactTemplates } from "../../../src/domains/mini/templates.js";
import { generateWorld, peopleIn } from "../../../src/domains/mini/world.js";

const world = generateWorld({ seed: 3, pretrainPeople: 300, rlPeople: 40, evalPeople: 60 });
const heldOut = [...peopleIn(world, "rl"), ...peopleIn(world, "eval")];

describe("mini passages", () => {
  it("are passage records titled with the name, one question per attribute whose answer is the value", () => {
    for (const person of heldOut) {
      const { passage } = passageOf(world, person);
      passageSchema.parse(passage);
      assert.equal(passage.title, person.name);
      assert.equal(passage.questions.length, ATTRIBUTES.length);
      ATTRIBUTES.forEach((attribute, i) => {
        assert.equal(passage.questions[i].answer, person.attributes[attribute]);
        assert.ok(passage.questions[i].question.includes(person.name));
        assert.ok(passage.questions[i].question.endsWith("?"));
      });
    }
  });

  it("state every question's answer in the context", () => {
    for (const person of heldOut) {
      const { passage } = passageOf(world, person);
      for (const qa of passage.questions)
        assert.ok(passage.context.includes(qa.answer), `${qa.answer} in ${passage.context}`);
    }
  });

  it("vary wording, order and references: pronouns, combined sentences, several question paraphrases", () => {
    const passages = splitPassages(world, "eval");
    const contexts = passages.map((p) => p.context);
    assert.ok(contexts.filter((c) => /\b(He|She|he|she|His|Her|his|her)\b/.test(c)).length > passages.length * 0.8);
    assert.ok(contexts.filter((c) => / was born in \S+ in \S+\./.test(c)).length > 0);
    const firstSentences = new Set(contexts.map((c) => c.split(".")[0].replace(/^\S+ \S+/, "")));
    assert.ok(firstSentences.size > 10);
    const questionForms = new Set(passages.map((p) => p.questions[0].question.replace(p.title, "{N}")));
    assert.ok(questionForms.size >= 3);
    // the first sentence names the person; the sentence count equals the facts minus the combined ones
    for (const person of peopleIn(world, "eval")) {
      const { passage, sentences } = passageOf(world, person);
      assert.ok(sentences[0].includes(person.name));
      assert.equal(sentences.join(" "), passage.context);
      assert.ok(sentences.length >= 3 && sentences.length <= ATTRIBUTES.length);
    }
  });

  it("are the same on every call and independent of the split sizes", () => {
    const person = peopleIn(world, "eval")[5];
    assert.deepEqual(passageOf(world, person), passageOf(world, person));
    const same = generateWorld({ seed: 3, pretrainPeople: 300, rlPeople: 40, evalPeople: 60 });
    assert.deepEqual(splitPassages(same, "rl"), splitPassages(world, "rl"));
  });
});

describe("oracle self-edits", () => {
  it("restate every fact with the full name in several phrasings, plus question–answer lines", () => {
    for (const person of heldOut) {
      const completion = oracleSelfEdit(person, rngFor(1, person.id));
      const lines = completion.split("\n");
      for (const line of lines) assert.ok(line.includes(person.name), line);
      for (const attribute of ATTRIBUTES) {
        const value = person.attributes[attribute];
        const statements = lines.filter((l) => !l.startsWith("Question: ") && l.includes(value));
        assert.ok(statements.length >= 3, `${attribute}: ${statements.length} statements`);
        assert.equal(new Set(statements).size, statements.length, "phrasings differ");
      }
      const qaLines = lines.filter((l) => l.startsWith("Question: "));
      assert.equal(qaLines.length, ATTRIBUTES.length);
      for (const attribute of ATTRIBUTES)
        assert.ok(qaLines.some((l) => l.endsWith(` Answer: ${person.attributes[attribute]}`)));
    }
  });

  it("caps phrasings at the templates available", () => {
    const person = heldOut[0];
    const lines = oracleSelfEdit(person, rngFor(2), { phrasings: 99, questionLines: 0 }).split("\n");
    const templates = ATTRIBUTES.reduce((sum, a) => sum + singleFactTemplates(a).length, 0);
    assert.equal(lines.length, templates);
  });

  it("become one training sequence per line plus the passage (buildTrainSequences)", () => {
    for (const record of oracleRecords(world, "eval", 2)) {
      assert.equal(record.completions.length, 2);
      assert.notEqual(record.completions[0], record.completions[1]);
      for (const completion of record.completions) {
        const lines = completion.split("\n");
        const sequences = buildTrainSequences(completion, record.context, record.title, { splitNewlines: true });
        assert.deepEqual(sequences, [
          ...lines.map((line) => trainSequence(record.title, line)),
          trainSequence(record.title, record.context),
        ]);
      }
      assert.ok(record.prompt.includes(`Passage:\n${record.title}\n${record.context}\n\nImplications:\n`));
    }
  });
});
