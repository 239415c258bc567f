/**
 * Invented words (person names, city and organisation stems) from a syllable generator. Every word carries at
 * least one letter pattern rare in English ("ae", "dh", "kh", "zh", "vr", "x"), so none is a real English word,
 * and all words of one world are distinct (case-insensitively), so each is its own token.
 */
import type { Rng } from "../../engine/random.js";
import { pick } from "./random.js";

const ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"];
const RARE_ONSETS = ["dh", "kh", "zh", "vr"];
const NUCLEI = ["a", "e", "i", "o", "u", "a", "e", "o", "ae"];
const CODAS = ["", "", "", "", "", "n", "r", "l", "s", "m", "x"];
/** A word needs one of these; none occurs in common English words of two or more syllables built this way. */
const MARKERS = ["ae", "dh", "kh", "zh", "vr", "x"];

function syllable(rng: Rng): string {
  const onset = rng.uniform() < 0.15 ? pick(rng, RARE_ONSETS) : pick(rng, ONSETS);
  return onset + pick(rng, NUCLEI) + pick(rng, CODAS);
}

/** Whether a word has one of the rare patterns that mark it as invented. */
export function hasInventedMarker(word: string): boolean {
  const lower = word.toLowerCase();
  return MARKERS.some((marker) => lower.includes(marker));
}

/** One candidate: two syllables (sometimes three), capitalized, 4–10 letters. */
function candidate(rng: Rng): string {
  const syllables = rng.uniform() < 0.75 ? 2 : 3;
  let word = "";
  for (let i = 0; i < syllables; i++) word += syllable(rng);
  return word[0].toUpperCase() + word.slice(1);
}

/**
 * `count` new invented words, distinct from each other and from every word in `taken` (lower-case forms;
 * the new words are added to it).
 */
export function inventWords(rng: Rng, count: number, taken: Set<string>): string[] {
  const words: string[] = [];
  let attempts = 0;
  while (words.length < count) {
    if (++attempts > 1000 * (count + 10)) throw new Error(`inventWords: cannot find ${count} distinct words`);
    const word = candidate(rng);
    const lower = word.toLowerCase();
    if (word.length < 4 || word.length > 10 || !hasInventedMarker(word) || taken.has(lower)) continue;
    taken.add(lower);
    words.push(word);
  }
  return words;
}
