/**
 * Small statistics for SEAL reports: means, standard deviations, confidence intervals of a mean, and the
 * macro (mean of group means) vs micro (mean over all items) averages the reference reports (spec §1.6, §1.8).
 *
 * Every function rejects empty input with an error instead of returning NaN, so a missing group never turns a
 * report silently into NaN.
 */

function requireNonEmpty(values: readonly number[], what: string): void {
  if (values.length === 0) throw new Error(`${what}: needs at least one value`);
}

/** Arithmetic mean. */
export function mean(values: readonly number[]): number {
  requireNonEmpty(values, "mean");
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function sumOfSquaredDeviations(values: readonly number[]): number {
  const center = mean(values);
  let sum = 0;
  for (const value of values) sum += (value - center) ** 2;
  return sum;
}

/** Sample standard deviation (divides by n − 1, Bessel's correction; Python's `statistics.stdev`). Needs n ≥ 2. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) throw new Error(`sampleStd: needs at least two values, got ${values.length}`);
  return Math.sqrt(sumOfSquaredDeviations(values) / (values.length - 1));
}

/** Population standard deviation (divides by n; numpy's default `np.std`). */
export function populationStd(values: readonly number[]): number {
  requireNonEmpty(values, "populationStd");
  return Math.sqrt(sumOfSquaredDeviations(values) / values.length);
}

/** Standard error of the mean: sample std / √n. Needs n ≥ 2. */
export function standardError(values: readonly number[]): number {
  return sampleStd(values) / Math.sqrt(values.length);
}

/** Macro mean: the mean over groups of each group's mean (the reference's per-article "overall accuracy"). */
export function macroMean(groups: readonly (readonly number[])[]): number {
  if (groups.length === 0) throw new Error("macroMean: needs at least one group");
  return mean(
    groups.map((group, index) => {
      if (group.length === 0) throw new Error(`macroMean: group ${index} is empty`);
      return mean(group);
    }),
  );
}

/** Micro mean: the mean over all items of all groups pooled (the reference's CPT accuracy). */
export function microMean(groups: readonly (readonly number[])[]): number {
  const pooled = groups.flat();
  requireNonEmpty(pooled, "microMean");
  return mean(pooled);
}

// ---------------------------------------------------------------------------------------------------------------
// Distributions

const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7; ~15 significant digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: needs x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0];
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) sum += LANCZOS_COEFFICIENTS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction for the incomplete beta function (modified Lentz's method). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const guard = (value: number): number => (Math.abs(value) < tiny ? tiny : value);
  let c = 1;
  let d = 1 / guard(1 - ((a + b) * x) / (a + 1));
  let fraction = d;
  for (let m = 1; m <= 1000; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 / guard(1 + even * d);
    c = guard(1 + even / c);
    fraction *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 / guard(1 + odd * d);
    c = guard(1 + odd / c);
    const step = d * c;
    fraction *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return fraction;
}

/** Regularized incomplete beta function I_x(a, b) for 0 ≤ x ≤ 1, a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** CDF of Student's t distribution with `degreesOfFreedom` (> 0) at t. */
export function studentTCdf(t: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom > 0)) throw new Error(`studentTCdf: degrees of freedom must be > 0`);
  const tail =
    0.5 * regularizedIncompleteBeta(degreesOfFreedom / (degreesOfFreedom + t * t), degreesOfFreedom / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile (inverse CDF) of Student's t: the t with P(T ≤ t) = p, found by bisection on the CDF. */
export function studentTQuantile(p: number, degreesOfFreedom: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(degreesOfFreedom > 0)) throw new Error(`studentTQuantile: degrees of freedom must be > 0`);
  if (!Number.isFinite(degreesOfFreedom)) return normalQuantile(p);
  if (p < 0.5) return -studentTQuantile(1 - p, degreesOfFreedom);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, degreesOfFreedom) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-13 * Math.max(1, high); i++) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, degreesOfFreedom) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

// Acklam's rational approximation of the normal quantile (relative error < 1.2e-9).
const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (const coefficient of coefficients) value = value * x + coefficient;
  return value;
}

/** Quantile of the standard normal distribution (Acklam's algorithm). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return polynomial(ACKLAM_C, q) / (polynomial(ACKLAM_D, q) * q + 1);
  }
  if (p > 1 - lowTail) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (polynomial(ACKLAM_A, r) * q) / (polynomial(ACKLAM_B, r) * r + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Confidence intervals

export type IntervalMethod = "t" | "normal";

export interface MeanConfidenceInterval {
  mean: number;
  lower: number;
  upper: number;
  /** Half the interval's width: critical value × standard error. */
  halfWidth: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
  method: IntervalMethod;
  n: number;
}

/**
 * Two-sided confidence interval of the mean: mean ± q × s/√n, where s is the sample std and q is the
 * (1 + level)/2 quantile of Student's t with n − 1 degrees of freedom (method "t", the default, exact for
 * normal data and conservative for small n) or of the standard normal (method "normal", the large-n
 * approximation; q = 1.95996 for 95%). For 0/1 accuracies with large n both approach the Wald interval.
 * Needs n ≥ 2.
 */
export function meanConfidenceInterval(
  values: readonly number[],
  options: { level?: number; method?: IntervalMethod } = {},
): MeanConfidenceInterval {
  const level = options.level ?? 0.95;
  const method = options.method ?? "t";
  if (!(level > 0 && level < 1)) throw new Error(`meanConfidenceInterval: level must be in (0, 1), got ${level}`);
  if (values.length < 2) throw new Error(`meanConfidenceInterval: needs at least two values, got ${values.length}`);
  const center = mean(values);
  const p = (1 + level) / 2;
  const critical = method === "t" ? studentTQuantile(p, values.length - 1) : normalQuantile(p);
  const halfWidth = critical * standardError(values);
  return {
    mean: center,
    lower: center - halfWidth,
    upper: center + halfWidth,
    halfWidth,
    level,
    method,
    n: values.length,
  };
}

/**
 * Confidence interval of the mean paired difference a − b (e.g. two conditions' accuracies on the same passages):
 * pairs with a missing value on either side are dropped. Pairing removes the passages' shared difficulty from the
 * variance, so it separates two conditions that their own intervals, side by side, would not.
 */
export function pairedDifferenceInterval(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
  options: { level?: number; method?: IntervalMethod } = {},
): MeanConfidenceInterval {
  if (a.length !== b.length) throw new Error(`pairedDifferenceInterval: ${a.length} values against ${b.length}`);
  const differences: number[] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (x !== null && y !== null) differences.push(x - y);
  });
  return meanConfidenceInterval(differences, options);
}
