/* A vectorizable expf: the compiler turns loops over it into AVX-512/AVX2 code without -ffast-math.
 * Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, then a degree-6 polynomial for e^r.
 * Max relative error ≈ 2e-7 (checked against exp() in test/native). Returns 0 below -87.3 and +inf above 88.0. */
#ifndef SEAL_FAST_EXP_H
#define SEAL_FAST_EXP_H
#include <stdint.h>
#include <string.h>

static inline float seal_expf(float x) {
  const float hi = 88.0f, lo = -87.3f; /* keeps n within the normal exponent range */
  float clamped = x > hi ? hi : (x < lo ? lo : x);
  /* round to nearest by adding and subtracting 1.5·2^23 (roundf itself does not vectorize) */
  float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = clamped - n * 0.693145751953125f; /* ln2 high part */
  r = r - n * 1.428606765330187e-06f;          /* ln2 low part */
  float p = 1.3888889e-3f;
  p = p * r + 8.3333333e-3f;
  p = p * r + 4.1666667e-2f;
  p = p * r + 1.6666667e-1f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  float result = p * scale;
  result = x < lo ? 0.0f : result;
  result = x > hi ? __builtin_inff() : result;
  return result;
}
#endif
