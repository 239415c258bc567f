/**
 * Stop strings for generation, independent of any tokenizer: the matcher is fed decoded text (appended pieces,
 * or the whole text decoded so far) and says when a stop string has appeared. As in vLLM and the OpenAI API, the
 * returned text ends just before the stop string (the stop string itself is not part of the output).
 *
 * When several stop strings occur, the one that starts earliest wins (at the same start, the shorter one, which
 * a character-by-character feed would have completed first). Since a stop string may be split across pieces,
 * each check looks back far enough to catch an occurrence that straddles the previous end of the text.
 */

export interface StopStringMatch {
  /** The stop string found. */
  stopString: string;
  /** Where it starts in the text (equal to the length of the text that is kept). */
  index: number;
}

export interface StopCheck {
  /** Whether generation must stop. */
  stopped: boolean;
  /** The text so far; once stopped, truncated before the stop string. */
  text: string;
  /** The stop string that ended generation, or null. */
  stopString: string | null;
}

/**
 * The earliest occurrence of any stop string in `text` starting at or after `fromIndex` (ties at the same start:
 * the shortest stop string), or null.
 */
export function findEarliestStopString(
  text: string,
  stopStrings: readonly string[],
  fromIndex = 0,
): StopStringMatch | null {
  let best: StopStringMatch | null = null;
  for (const stopString of stopStrings) {
    if (stopString.length === 0) continue;
    const index = text.indexOf(stopString, fromIndex);
    if (index < 0) continue;
    if (best === null || index < best.index || (index === best.index && stopString.length < best.stopString.length)) {
      best = { stopString, index };
    }
  }
  return best;
}

export class StopStringMatcher {
  private readonly stopStrings: readonly string[];
  private readonly longest: number;
  private current = "";
  private match: StopStringMatch | null = null;

  /** `stopStrings` must be non-empty strings; duplicates are ignored. An empty list never stops. */
  constructor(stopStrings: readonly string[]) {
    for (const [i, s] of stopStrings.entries()) {
      if (typeof s !== "string" || s.length === 0) {
        throw new RangeError(`stop string ${i} must be a non-empty string, got ${JSON.stringify(s)}`);
      }
    }
    this.stopStrings = [...new Set(stopStrings)];
    this.longest = this.stopStrings.reduce((m, s) => Math.max(m, s.length), 0);
  }

  /** Whether a stop string has been seen. */
  get stopped(): boolean {
    return this.match !== null;
  }

  /** The stop string that was seen, or null. */
  get stopString(): string | null {
    return this.match?.stopString ?? null;
  }

  /** The text so far, truncated before the stop string once stopped. */
  get text(): string {
    return this.current;
  }

  /**
   * The part of `text` that is safe to stream now: everything except a trailing part that could still grow into
   * a stop string. Once stopped, all of `text`.
   */
  get stableText(): string {
    if (this.match !== null) return this.current;
    const text = this.current;
    for (let held = Math.min(this.longest - 1, text.length); held > 0; held--) {
      const tail = text.slice(text.length - held);
      if (this.stopStrings.some((s) => s.startsWith(tail))) return text.slice(0, text.length - held);
    }
    return text;
  }

  /** Appends a newly decoded piece. After a stop, further input is ignored. */
  append(piece: string): StopCheck {
    if (this.match !== null || piece.length === 0) return this.result();
    const previousLength = this.current.length;
    this.current += piece;
    return this.search(previousLength);
  }

  /**
   * Replaces the text with the whole text decoded so far (for callers that re-decode all generated tokens, where
   * an earlier character can change, e.g. when an incomplete UTF-8 sequence completes). After a stop, further
   * input is ignored.
   */
  update(fullText: string): StopCheck {
    if (this.match !== null) return this.result();
    const previousLength = fullText.startsWith(this.current) ? this.current.length : 0;
    this.current = fullText;
    return this.search(previousLength);
  }

  /** Forgets all text and any stop, keeping the stop strings. */
  reset(): void {
    this.current = "";
    this.match = null;
  }

  /** Looks for a stop string that ends after `previousLength` (none can lie wholly before it). */
  private search(previousLength: number): StopCheck {
    if (this.longest > 0) {
      const from = Math.max(0, previousLength - this.longest + 1);
      const match = findEarliestStopString(this.current, this.stopStrings, from);
      if (match !== null) {
        this.match = match;
        this.current = this.current.slice(0, match.index);
      }
    }
    return this.result();
  }

  private result(): StopCheck {
    return { stopped: this.match !== null, text: this.current, stopString: this.match?.stopString ?? null };
  }
}
