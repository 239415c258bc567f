/**
 * Choosing the next token from a row of logits: greedy (temperature 0) or sampling with temperature, top-k and
 * top-p, with the semantics of Hugging Face transformers' `generate(do_sample=True)`:
 *
 * 1. logits are divided by the temperature (`TemperatureLogitsWarper`);
 * 2. top-k keeps the k highest logits (`TopKLogitsWarper`), everything else gets probability 0;
 * 3. top-p keeps the smallest set of highest-probability tokens, under the softmax of what top-k kept, whose
 *    cumulative probability is ≥ topP (`TopPLogitsWarper`: it removes sorted tokens whose cumulative mass from
 *    the low end is ≤ 1 − topP, and always keeps at least one);
 * 4. the kept tokens are renormalised and one is drawn with a single `rng.uniform()`.
 *
 * Ties are broken by the lower token id, both in top-k (exactly k tokens are kept, where HF keeps every token
 * tied with the k-th) and at the top-p boundary (where `torch.sort` leaves the order of ties unspecified).
 *
 * Speed: this runs once per generated token per sequence over vocabularies of ~150k entries, so nothing here
 * sorts the vocabulary. Top-k (k ≤ 2048) is one pass with a bounded heap and needs only k exponentials. Top-p is
 * "the smallest prefix, in the order (logit desc, id asc), whose weight reaches topP · total", which a three-way
 * quickselect finds in expected linear time; it first tries only the tokens with probability ≥ 1e-3 (at most
 * 1000), which for a trained model's peaked distributions almost always already hold the nucleus. Without top-k,
 * the exponentials of the whole row (for the softmax total) are the floor. The drawn token is the first, in
 * vocabulary order, at which the cumulative weight of the kept tokens exceeds u · total.
 *
 * Greedy decoding consumes no randomness; every sampled token consumes exactly one `rng.uniform()`.
 */
import { native } from "../native/index.js";
import type { Rng } from "./random.js";

export interface SamplingParams {
  /** Divides the logits; 0 means greedy argmax (no randomness consumed). */
  temperature: number;
  /** Nucleus sampling mass in [0, 1]; 1 turns it off. */
  topP: number;
  /** Keep only the k highest logits; 0 turns it off. */
  topK: number;
}

/** Greedy decoding. */
export const greedySampling: Readonly<SamplingParams> = Object.freeze({ temperature: 0, topP: 1, topK: 0 });

/**
 * Probabilities computed from float32 logits are only accurate to ~1e-7, so a top-p prefix whose mass is within
 * this of topP counts as reaching it. Without it, hand-written cases such as probabilities [0.5, 0.3, …] with
 * topP 0.8 would keep or drop the third token depending on rounding noise (as they do in HF, which works in
 * float32).
 */
const TOP_P_TOLERANCE = 1e-6;

/** Top-p first looks only at tokens at least this probable (so at most 1/this many candidates). */
const TOP_P_PREFILTER = 1e-3;

// Scratch buffers, grown on demand and reused across calls (sampling is synchronous, so never shared).
let weightScratch = new Float64Array(0);
let idScratch = new Int32Array(0);

function weightBuffer(n: number): Float64Array {
  if (weightScratch.length < n) weightScratch = new Float64Array(n);
  return weightScratch;
}

function idBuffer(n: number): Int32Array {
  if (idScratch.length < n) idScratch = new Int32Array(n);
  return idScratch;
}

/** Throws unless the parameters are usable (temperature ≥ 0, 0 ≤ topP ≤ 1, topK a non-negative integer). */
export function validateSamplingParams(params: SamplingParams): void {
  const { temperature, topP, topK } = params;
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`sampling temperature must be a finite number ≥ 0 (0 = greedy), got ${temperature}`);
  }
  if (typeof topP !== "number" || !(topP >= 0 && topP <= 1)) {
    throw new RangeError(`sampling topP must be a number in [0, 1] (1 = off), got ${topP}`);
  }
  if (!Number.isInteger(topK) || topK < 0) {
    throw new RangeError(`sampling topK must be an integer ≥ 0 (0 = off), got ${topK}`);
  }
}

interface LogitsScan {
  /** Lowest index of the largest value. */
  argmax: number;
  max: number;
  /** How many entries are not -Infinity. */
  finiteCount: number;
}

/** From this many logits the scan runs natively (a vocabulary row: ~20× faster than the loop below). */
const NATIVE_SCAN_MIN = 4096;
const scanStats = new Int32Array(2);

/** One pass: rejects NaN (and +Infinity unless allowed), finds the max and counts entries above -Infinity. */
function scanLogits(logits: Float32Array, allowPositiveInfinity: boolean): LogitsScan {
  const n = logits.length;
  if (n >= NATIVE_SCAN_MIN) {
    native.logitsScan(logits, scanStats);
    const best = scanStats[0];
    // NaN or all -Infinity: the loop below finds the offending entry for the error message
    if (best >= 0 && (allowPositiveInfinity || logits[best] !== Number.POSITIVE_INFINITY)) {
      return { argmax: best, max: logits[best], finiteCount: scanStats[1] };
    }
  }
  if (n === 0) throw new RangeError("logits are empty");
  let max = Number.NEGATIVE_INFINITY;
  let best = -1;
  let finiteCount = 0;
  for (let i = 0; i < n; i++) {
    const v = logits[i];
    if (v > max) {
      max = v;
      best = i;
    }
    if (v > Number.NEGATIVE_INFINITY) finiteCount++;
    else if (Number.isNaN(v)) throw new RangeError(`logits[${i}] is NaN (of ${n} logits)`);
  }
  if (best < 0) throw new RangeError(`all ${n} logits are -Infinity: no token can be chosen`);
  if (max === Number.POSITIVE_INFINITY && !allowPositiveInfinity) {
    throw new RangeError(`logits[${best}] is +Infinity: the softmax is undefined`);
  }
  return { argmax: best, max, finiteCount };
}

/**
 * Index of the largest logit, the lowest index among ties. Throws on an empty array, on NaN and when every
 * entry is -Infinity.
 */
export function argmax(logits: Float32Array): number {
  return scanLogits(logits, true).argmax;
}

/**
 * log softmax(logits)[index], computed stably in float64. -Infinity when that logit is -Infinity. Throws on NaN,
 * +Infinity, all -Infinity or an index out of range.
 */
export function logSoftmaxAt(logits: Float32Array, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= logits.length) {
    throw new RangeError(`index ${index} is outside the ${logits.length} logits`);
  }
  const { max } = scanLogits(logits, false);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[index] - max - Math.log(sum);
}

/**
 * Rearranges ids[0, n) so that ids[0, m) is the smallest prefix, in the order (logit descending, id ascending),
 * whose weight reaches `target`: an entry is kept when the weight of the entries before it is < target, and the
 * first is always kept. `weights` is indexed by token id; null means every weight is 1 (then target k keeps
 * exactly k entries). Returns m. Three-way quickselect: expected O(n), nothing sorted but ties at a pivot.
 */
function selectPrefix(
  ids: Int32Array,
  n: number,
  logits: Float32Array,
  weights: Float64Array | null,
  target: number,
): number {
  let lo = 0; // ids[0, lo) are kept
  let hi = n; // ids[hi, n) are dropped
  let keptWeight = 0;
  while (lo < hi) {
    // Median of three as pivot.
    const a = logits[ids[lo]];
    const b = logits[ids[lo + ((hi - lo) >> 1)]];
    const c = logits[ids[hi - 1]];
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));

    // Partition ids[lo, hi) into greater [lo, gt), equal [gt, lt), less [lt, hi).
    let gt = lo;
    let i = lo;
    let lt = hi;
    let greaterWeight = 0;
    while (i < lt) {
      const id = ids[i];
      const v = logits[id];
      if (v > pivot) {
        greaterWeight += weights === null ? 1 : weights[id];
        ids[i] = ids[gt];
        ids[gt] = id;
        gt++;
        i++;
      } else if (v < pivot) {
        lt--;
        ids[i] = ids[lt];
        ids[lt] = id;
      } else {
        i++;
      }
    }

    if (gt > lo && keptWeight + greaterWeight >= target) {
      // The boundary lies inside the greater part: drop everything from the pivot down.
      hi = gt;
      continue;
    }
    keptWeight += greaterWeight;
    lo = gt;
    // Entries equal to the pivot come in id order.
    if (lt - gt > 1) ids.subarray(gt, lt).sort();
    for (let j = gt; j < lt; j++) {
      if (lo > 0 && keptWeight >= target) return lo;
      keptWeight += weights === null ? 1 : weights[ids[j]];
      lo = j + 1;
    }
    if (keptWeight >= target) return lo;
  }
  return lo;
}

/** Top-k with k up to this uses a bounded heap (one pass, O(n log k) worst case); larger k a quickselect. */
const TOP_K_HEAP_LIMIT = 2048;

/** Kept sets up to this size are listed and sorted; larger ones are described by their boundary. */
const KEPT_LIST_LIMIT = 256;

/** Whether `a` comes after `b` in the order (logit descending, id ascending). */
function comesAfter(logits: Float32Array, a: number, b: number): boolean {
  const la = logits[a];
  const lb = logits[b];
  return la < lb || (la === lb && a > b);
}

/**
 * Fills heap[0, k) with the k first tokens in the order (logit descending, id ascending), as a bounded heap whose
 * root is the last of them. Requires more than k logits above -Infinity.
 */
function topKByHeap(logits: Float32Array, k: number, heap: Int32Array): void {
  const n = logits.length;
  let size = 0;
  let i = 0;
  for (; i < n && size < k; i++) {
    if (!(logits[i] > Number.NEGATIVE_INFINITY)) continue;
    let child = size++;
    heap[child] = i;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!comesAfter(logits, heap[child], heap[parent])) break;
      const t = heap[parent];
      heap[parent] = heap[child];
      heap[child] = t;
      child = parent;
    }
  }
  let rootLogit = logits[heap[0]];
  for (; i < n; i++) {
    // Ids only grow, so a logit equal to the root's comes after it: only strictly greater ones enter.
    if (!(logits[i] > rootLogit)) continue;
    let node = 0;
    heap[0] = i;
    for (;;) {
      const left = 2 * node + 1;
      if (left >= k) break;
      const right = left + 1;
      const later = right < k && comesAfter(logits, heap[right], heap[left]) ? right : left;
      if (!comesAfter(logits, heap[later], heap[node])) break;
      const t = heap[node];
      heap[node] = heap[later];
      heap[later] = t;
      node = later;
    }
    rootLogit = logits[heap[0]];
  }
}

/**
 * The kept tokens after temperature, top-k and top-p, with their unnormalised weights (indexed by token id,
 * valid for kept tokens only). Small sets are listed: ids[0, count), ascending, all of positive weight. Large sets
 * (count = -1) are every token at or before the last kept one in the order (logit descending, id ascending),
 * i.e. logit > boundaryLogit, or logit = boundaryLogit and id ≤ boundaryId; members whose weight underflowed to 0
 * are never drawn.
 */
interface KeptTokens {
  weights: Float64Array;
  ids: Int32Array;
  count: number;
  boundaryLogit: number;
  boundaryId: number;
}

/** Applies temperature, top-k and top-p (not for greedy). Results live in the scratch buffers. */
function filterLogits(logits: Float32Array, params: SamplingParams, scan: LogitsScan): KeptTokens {
  const n = logits.length;
  const invTemperature = 1 / params.temperature;
  const max = scan.max;
  const weights = weightBuffer(n);
  const ids = idBuffer(n);
  const useTopK = params.topK > 0 && params.topK < scan.finiteCount;
  const useTopP = params.topP < 1;

  let count: number;
  if (useTopK) {
    count = params.topK;
    if (count <= TOP_K_HEAP_LIMIT) {
      topKByHeap(logits, count, ids);
    } else {
      let finite = 0;
      for (let i = 0; i < n; i++) if (logits[i] > Number.NEGATIVE_INFINITY) ids[finite++] = i;
      count = selectPrefix(ids, finite, logits, null, count);
    }
    let kept = 0;
    for (let j = 0; j < count; j++) {
      const id = ids[j];
      const w = Math.exp((logits[id] - max) * invTemperature);
      weights[id] = w;
      kept += w;
    }
    if (useTopP) count = selectPrefix(ids, count, logits, weights, topPTarget(params.topP, kept));
  } else {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = Math.exp((logits[i] - max) * invTemperature);
      weights[i] = w;
      total += w;
    }
    const target = useTopP ? topPTarget(params.topP, total) : total;
    // Prefilter: the few tokens with probability ≥ 1e-3 usually already hold the nucleus.
    const cutoff = TOP_P_PREFILTER * total;
    let candidates = 0;
    let candidateWeight = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (w >= cutoff) {
        ids[candidates++] = i;
        candidateWeight += w;
      }
    }
    count = useTopP && candidateWeight >= target ? selectPrefix(ids, candidates, logits, weights, target) : candidates;
    if (count === candidates) {
      // The prefilter did not reach topP inside its candidates: redo over every token that has weight.
      candidates = 0;
      for (let i = 0; i < n; i++) if (weights[i] > 0) ids[candidates++] = i;
      count = useTopP ? selectPrefix(ids, candidates, logits, weights, target) : candidates;
    }
  }

  if (count <= KEPT_LIST_LIMIT) {
    // Drop tokens whose weight underflowed to 0; list the rest in vocabulary order.
    let nonzero = 0;
    for (let j = 0; j < count; j++) if (weights[ids[j]] > 0) ids[nonzero++] = ids[j];
    if (nonzero > 1) ids.subarray(0, nonzero).sort();
    return { weights, ids, count: nonzero, boundaryLogit: 0, boundaryId: 0 };
  }
  let last = ids[0];
  for (let j = 1; j < count; j++) if (comesAfter(logits, ids[j], last)) last = ids[j];
  return { weights, ids, count: -1, boundaryLogit: logits[last], boundaryId: last };
}

/** Weight a top-p prefix must reach; never ≤ 0, so the most probable token is always kept. */
function topPTarget(topP: number, total: number): number {
  return Math.max((topP - TOP_P_TOLERANCE) * total, Number.MIN_VALUE);
}

/** Draws one kept token in vocabulary order with one `rng.uniform()`. */
function drawKept(logits: Float32Array, kept: KeptTokens, rng: Rng): number {
  const { weights, ids, count, boundaryLogit, boundaryId } = kept;
  if (count >= 0) {
    let total = 0;
    for (let j = 0; j < count; j++) total += weights[ids[j]];
    const u = rng.uniform() * total;
    let cumulative = 0;
    for (let j = 0; j < count; j++) {
      cumulative += weights[ids[j]];
      if (u < cumulative) return ids[j];
    }
    return ids[count - 1]; // unreachable: the walk sums in the same order as the total
  }
  const n = logits.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    if (x > boundaryLogit || (x === boundaryLogit && i <= boundaryId)) total += weights[i];
  }
  const u = rng.uniform() * total;
  let cumulative = 0;
  let last = boundaryId;
  for (let i = 0; i < n; i++) {
    const x = logits[i];
    if (x > boundaryLogit || (x === boundaryLogit && i <= boundaryId)) {
      const w = weights[i];
      if (w > 0) {
        cumulative += w;
        last = i;
        if (u < cumulative) return i;
      }
    }
  }
  return last; // unreachable, as above
}

/**
 * Chooses the next token from one row of logits. Greedy (lowest index among tied maxima) when temperature is 0
 * (or so small that 1/temperature overflows); otherwise samples as described at the top of this file, consuming
 * exactly one `rng.uniform()`. -Infinity logits are never chosen; throws on NaN, +Infinity or all -Infinity.
 */
export function sampleToken(logits: Float32Array, params: SamplingParams, rng: Rng): number {
  validateSamplingParams(params);
  const scan = scanLogits(logits, false);
  if (params.temperature === 0 || !Number.isFinite(1 / params.temperature)) return scan.argmax;
  if ((params.topK === 0 || params.topK >= scan.finiteCount) && params.topP >= 1) {
    return sampleFullSoftmax(logits, 1 / params.temperature, scan, rng);
  }
  return drawKept(logits, filterLogits(logits, params, scan), rng);
}

/** Plain softmax sampling over the whole vocabulary: one pass of exp, one walk. */
function sampleFullSoftmax(logits: Float32Array, invTemperature: number, scan: LogitsScan, rng: Rng): number {
  const n = logits.length;
  const weights = weightBuffer(n);
  const max = scan.max;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.exp((logits[i] - max) * invTemperature);
    weights[i] = w;
    total += w;
  }
  const u = rng.uniform() * total;
  let cumulative = 0;
  let last = scan.argmax;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (w > 0) {
      cumulative += w;
      last = i;
      if (u < cumulative) return i;
    }
  }
  return last;
}

/**
 * The distribution `sampleToken` draws from: the kept token ids in ascending order and their renormalised
 * probabilities (float64). For greedy it is the argmax with probability 1. Meant for tests and inspection; it
 * allocates the result.
 */
export function samplingDistribution(
  logits: Float32Array,
  params: SamplingParams,
): { tokens: Int32Array; probabilities: Float64Array } {
  validateSamplingParams(params);
  const scan = scanLogits(logits, false);
  if (params.temperature === 0 || !Number.isFinite(1 / params.temperature)) {
    return { tokens: Int32Array.of(scan.argmax), probabilities: Float64Array.of(1) };
  }
  const kept = filterLogits(logits, params, scan);
  let tokens: Int32Array;
  if (kept.count >= 0) {
    tokens = kept.ids.slice(0, kept.count);
  } else {
    const list: number[] = [];
    for (let i = 0; i < logits.length; i++) {
      const x = logits[i];
      const member = x > kept.boundaryLogit || (x === kept.boundaryLogit && i <= kept.boundaryId);
      if (member && kept.weights[i] > 0) list.push(i);
    }
    tokens = Int32Array.from(list);
  }
  const probabilities = new Float64Array(tokens.length);
  let total = 0;
  for (const id of tokens) total += kept.weights[id];
  for (let j = 0; j < tokens.length; j++) probabilities[j] = kept.weights[tokens[j]] / total;
  return { tokens, probabilities };
}
