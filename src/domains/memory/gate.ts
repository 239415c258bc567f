/**
 * The promotion gate of a consolidation (pure): the new version replaces the active one only when closed-book
 * accuracy on the new documents' probes rises (strictly) and accuracy on earlier documents' probes falls by at most
 * `maxForgetting`.
 *
 * One exception, on purpose: a version that drops forgotten documents from the weights (a rebuild after a DELETE)
 * is promoted even when the gate fails, with the failures in its reason. A forget promises the document leaves the
 * weights at the next consolidation; a gate that could veto that would keep deleted knowledge answerable forever.
 */

/** Accuracy of one probe group before (the parent version) and after (the new adapter). */
export interface GroupAccuracy {
  before: number | null;
  after: number | null;
  /** Probes answered in each phase. */
  probes: number;
}

export interface GateInput {
  /** Documents this consolidation adds (pending when it started). */
  newDocuments: number;
  newAccuracy: GroupAccuracy;
  earlierAccuracy: GroupAccuracy;
  maxForgetting: number;
  /** Forgotten documents the new version leaves out of the weights (rebuild after a forget). */
  forgottenRemoved: number;
}

export interface GateDecision {
  promote: boolean;
  /** Whether every criterion held (false for a promotion forced by a forget). */
  passed: boolean;
  /** Earlier-document accuracy before − after (positive = forgot), null without earlier probes. */
  forgetting: number | null;
  /** Human-readable: why promoted or rejected. */
  reason: string;
  failures: string[];
}

const pct = (x: number | null) => (x === null ? "n/a" : `${(100 * x).toFixed(1)}%`);
const pts = (x: number) => `${(100 * x).toFixed(1)} pts`;

export function gateDecision(input: GateInput): GateDecision {
  const failures: string[] = [];
  const notes: string[] = [];
  const { newAccuracy: n, earlierAccuracy: e } = input;
  if (input.newDocuments > 0) {
    if (n.probes === 0 || n.before === null || n.after === null) {
      failures.push("the new documents have no probe questions (none given, none could be generated)");
    } else if (!(n.after > n.before)) {
      failures.push(`new-document accuracy did not rise (${pct(n.before)} → ${pct(n.after)}, ${n.probes} probes)`);
    } else {
      notes.push(`new-document accuracy ${pct(n.before)} → ${pct(n.after)} (${n.probes} probes)`);
    }
  }
  let forgetting: number | null = null;
  if (e.probes > 0 && e.before !== null && e.after !== null) {
    forgetting = e.before - e.after;
    // a tiny tolerance so that a drop of exactly the margin, computed in floating point, passes
    if (forgetting > input.maxForgetting + 1e-9) {
      failures.push(
        `earlier-document accuracy fell by ${pts(forgetting)} (${pct(e.before)} → ${pct(e.after)}, ${e.probes} probes), ` +
          `more than the ${pts(input.maxForgetting)} allowed`,
      );
    } else {
      notes.push(`earlier-document accuracy ${pct(e.before)} → ${pct(e.after)} (${e.probes} probes)`);
    }
  } else {
    notes.push("no earlier-document probes to measure forgetting");
  }
  const passed = failures.length === 0;
  if (passed) return { promote: true, passed, forgetting, reason: `promoted: ${notes.join("; ")}`, failures };
  if (input.forgottenRemoved > 0) {
    return {
      promote: true,
      passed,
      forgetting,
      reason:
        `promoted although the gate failed, because it removes ${input.forgottenRemoved} forgotten document(s) ` +
        `from the weights: ${failures.join("; ")}`,
      failures,
    };
  }
  return { promote: false, passed, forgetting, reason: `rejected: ${failures.join("; ")}`, failures };
}
