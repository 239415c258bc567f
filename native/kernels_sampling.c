/*
 * One pass over a row of logits for sampling: the max (ignoring NaN), how many entries are above -Infinity and
 * whether any is NaN; then the lowest index holding the max. Over a 150k vocabulary this runs at memory speed,
 * where the same loop in JavaScript costs ~0.5 ms per sequence per decode step.
 */
#include <math.h>
#include "kernels.h"

int64_t logits_scan(const float *x, int64_t n, int64_t *finite_count) {
  float max = -INFINITY;
  int64_t finite = 0, nans = 0;
#pragma omp simd reduction(max : max) reduction(+ : finite, nans)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    max = v > max ? v : max; /* false for NaN: NaN never wins */
    finite += v > -INFINITY;
    nans += v != v;
  }
  *finite_count = finite;
  if (nans > 0) return -1;
  if (finite == 0) return -2;
  for (int64_t i = 0; i < n; i++)
    if (x[i] == max) return i;
  return -2; /* unreachable: the max is one of the entries */
}
