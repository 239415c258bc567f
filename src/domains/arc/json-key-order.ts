/**
 * The keys of a JSON text's top-level object in the order they are written. `JSON.parse` cannot give that order:
 * JavaScript objects list integer-like keys (an ARC id such as "59341089") first, while the reference's Python
 * dicts keep the file's order. The text must already be valid JSON (parse it first).
 */
export function topLevelKeyOrder(text: string): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (depth === 1 && nextSignificant(text, end) === ":") {
        const key = JSON.parse(text.slice(i, end)) as string;
        // a repeated key keeps its first position, as in a Python dict
        if (!seen.has(key)) {
          seen.add(key);
          keys.push(key);
        }
      }
      i = end;
      continue;
    }
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
    i++;
  }
  return keys;
}

/** The index just past the closing quote of the string starting at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

function nextSignificant(text: string, from: number): string | undefined {
  let i = from;
  while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  return text[i];
}
