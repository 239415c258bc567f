/*
 * out[M, N] = x[M, K] · W[N, K]ᵀ for small M (decoding: one row per sequence in flight).
 * OpenBLAS's sgemm packs W first, which for M = 1..16 costs more memory traffic than the product itself; here
 * each block of 4 weight rows is streamed from memory once and used for every input row while it sits in L1.
 */
#include "kernels.h"
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#ifdef __AVX512F__
/* Weight rows o0..o0+3 against input rows m0..m0+MS-1 (MS fixed at compile time so accumulators stay in registers). */
#define DEFINE_BLOCK(MS)                                                                                            \
  static void block4x##MS(float *out, const float *x, const float *w, int64_t m0, int64_t o0, int64_t n, int64_t k) { \
    __m512 acc[MS][4];                                                                                              \
    for (int a = 0; a < MS; a++)                                                                                    \
      for (int r = 0; r < 4; r++) acc[a][r] = _mm512_setzero_ps();                                                  \
    const float *w0 = w + o0 * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;                                         \
    int64_t i = 0;                                                                                                  \
    for (; i + 16 <= k; i += 16) {                                                                                  \
      const __m512 v0 = _mm512_loadu_ps(w0 + i), v1 = _mm512_loadu_ps(w1 + i);                                     \
      const __m512 v2 = _mm512_loadu_ps(w2 + i), v3 = _mm512_loadu_ps(w3 + i);                                     \
      for (int a = 0; a < MS; a++) {                                                                                \
        const __m512 xv = _mm512_loadu_ps(x + (m0 + a) * k + i);                                                    \
        acc[a][0] = _mm512_fmadd_ps(xv, v0, acc[a][0]);                                                             \
        acc[a][1] = _mm512_fmadd_ps(xv, v1, acc[a][1]);                                                             \
        acc[a][2] = _mm512_fmadd_ps(xv, v2, acc[a][2]);                                                             \
        acc[a][3] = _mm512_fmadd_ps(xv, v3, acc[a][3]);                                                             \
      }                                                                                                             \
    }                                                                                                               \
    if (i < k) {                                                                                                    \
      const __mmask16 mask = (__mmask16)((1u << (k - i)) - 1);                                                      \
      const __m512 v0 = _mm512_maskz_loadu_ps(mask, w0 + i), v1 = _mm512_maskz_loadu_ps(mask, w1 + i);             \
      const __m512 v2 = _mm512_maskz_loadu_ps(mask, w2 + i), v3 = _mm512_maskz_loadu_ps(mask, w3 + i);             \
      for (int a = 0; a < MS; a++) {                                                                                \
        const __m512 xv = _mm512_maskz_loadu_ps(mask, x + (m0 + a) * k + i);                                        \
        acc[a][0] = _mm512_fmadd_ps(xv, v0, acc[a][0]);                                                             \
        acc[a][1] = _mm512_fmadd_ps(xv, v1, acc[a][1]);                                                             \
        acc[a][2] = _mm512_fmadd_ps(xv, v2, acc[a][2]);                                                             \
        acc[a][3] = _mm512_fmadd_ps(xv, v3, acc[a][3]);                                                             \
      }                                                                                                             \
    }                                                                                                               \
    for (int a = 0; a < MS; a++)                                                                                    \
      for (int r = 0; r < 4; r++) out[(m0 + a) * n + o0 + r] = _mm512_reduce_add_ps(acc[a][r]);                     \
  }
DEFINE_BLOCK(1)
DEFINE_BLOCK(2)
DEFINE_BLOCK(3)
DEFINE_BLOCK(4)
DEFINE_BLOCK(5)
DEFINE_BLOCK(6)
#endif

/* Any rows/columns (edges, or CPUs without AVX-512): vectorized dot products. */
static void block_generic(float *out, const float *x, const float *w, int64_t m0, int64_t ms, int64_t o0, int64_t rs,
                          int64_t n, int64_t k) {
  for (int64_t r = 0; r < rs; r++)
    for (int64_t a = 0; a < ms; a++) {
      const float *wr = w + (o0 + r) * k, *xa = x + (m0 + a) * k;
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < k; i++) s += xa[i] * wr[i];
      out[(m0 + a) * n + o0 + r] = s;
    }
}

void matmul_small_m(float *out, const float *x, const float *w, int64_t m, int64_t n, int64_t k) {
#pragma omp parallel for schedule(static) if (m * n * k > 8 * SEAL_OMP_MIN_WORK)
  for (int64_t o0 = 0; o0 < n; o0 += 4) {
    const int64_t rs = n - o0 < 4 ? n - o0 : 4;
#ifdef __AVX512F__
    if (rs == 4) {
      int64_t m0 = 0;
      for (; m0 + 6 <= m; m0 += 6) block4x6(out, x, w, m0, o0, n, k);
      switch (m - m0) {
        case 5: block4x5(out, x, w, m0, o0, n, k); break;
        case 4: block4x4(out, x, w, m0, o0, n, k); break;
        case 3: block4x3(out, x, w, m0, o0, n, k); break;
        case 2: block4x2(out, x, w, m0, o0, n, k); break;
        case 1: block4x1(out, x, w, m0, o0, n, k); break;
        default: break;
      }
      continue;
    }
#endif
    block_generic(out, x, w, 0, m, o0, rs, n, k);
  }
}
