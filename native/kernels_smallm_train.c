/*
 * out[M, N] (+)= a[M, K] · w[K, N] for small M: the backward-input product of a linear layer (dx = dout·W, W in
 * PyTorch layout [out, in]) on a short training sequence.
 * OpenBLAS's sgemm packs W (K·N floats, the whole weight) on every call; at a few dozen rows that copy costs about as
 * much as the multiply-adds. Here W is read in place: each thread owns a strip of 64 output columns, walks W's rows
 * in chunks that stay in L1, and reuses each chunk for every block of 6 rows of `a` (a register tile of 6 × 64).
 */
#include <stdlib.h>
#include "kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define STRIP 64 /* output columns per tile: 4 vectors of 16 */
#define CHUNK 128 /* rows of w per pass: a strip of 128 · 64 floats is 32 KB, inside L1 */
#define GROUP 4   /* strips packed together: 128 KB, inside L2 */

#ifdef __AVX512F__
/* Rows m0..m0+MS-1 of out, columns c0..c0+63 (mask[j] masks vector j at the right edge), against `rows` rows of a
 * packed strip (64 floats per row) that hold w rows o0..o0+rows-1. */
#define DEFINE_NN_BLOCK(MS)                                                                                        \
  static void nn_block##MS(float *out, const float *a, const float *strip, int64_t m0, int64_t c0, int64_t o0,      \
                           int64_t rows, int64_t n, int64_t k, const __mmask16 *mask, int load) {                  \
    __m512 acc[MS][4];                                                                                             \
    for (int r = 0; r < MS; r++)                                                                                   \
      for (int j = 0; j < 4; j++)                                                                                  \
        acc[r][j] = load ? _mm512_maskz_loadu_ps(mask[j], out + (m0 + r) * n + c0 + 16 * j) : _mm512_setzero_ps(); \
    const float *ar = a + m0 * k + o0;                                                                             \
    for (int64_t o = 0; o < rows; o++) {                                                                           \
      const float *wr = strip + o * STRIP;                                                                         \
      const __m512 v0 = _mm512_load_ps(wr), v1 = _mm512_load_ps(wr + 16);                                          \
      const __m512 v2 = _mm512_load_ps(wr + 32), v3 = _mm512_load_ps(wr + 48);                                     \
      for (int r = 0; r < MS; r++) {                                                                               \
        const __m512 s = _mm512_set1_ps(ar[r * k + o]);                                                            \
        acc[r][0] = _mm512_fmadd_ps(s, v0, acc[r][0]);                                                             \
        acc[r][1] = _mm512_fmadd_ps(s, v1, acc[r][1]);                                                             \
        acc[r][2] = _mm512_fmadd_ps(s, v2, acc[r][2]);                                                             \
        acc[r][3] = _mm512_fmadd_ps(s, v3, acc[r][3]);                                                             \
      }                                                                                                            \
    }                                                                                                              \
    for (int r = 0; r < MS; r++)                                                                                   \
      for (int j = 0; j < 4; j++) _mm512_mask_storeu_ps(out + (m0 + r) * n + c0 + 16 * j, mask[j], acc[r][j]);     \
  }
DEFINE_NN_BLOCK(1)
DEFINE_NN_BLOCK(2)
DEFINE_NN_BLOCK(3)
DEFINE_NN_BLOCK(4)
DEFINE_NN_BLOCK(5)
DEFINE_NN_BLOCK(6)

static __mmask16 edge_mask(int64_t left) {
  return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* Copies w rows o0..o0+rows-1, columns c0..c0+64·strips-1, into `buf` strip by strip (zeros past column n). Reading
 * whole row segments in order lets the prefetchers stream w from memory; the strips are then read from L1/L2. */
static void nn_pack(float *buf, const float *w, int64_t o0, int64_t rows, int64_t c0, int64_t strips, int64_t n) {
  for (int64_t o = 0; o < rows; o++) {
    const float *wr = w + (o0 + o) * n;
    for (int64_t s = 0; s < strips; s++) {
      float *dst = buf + (s * rows + o) * STRIP;
      const int64_t c = c0 + s * STRIP;
      for (int j = 0; j < 4; j++)
        _mm512_store_ps(dst + 16 * j, _mm512_maskz_loadu_ps(edge_mask(n - c - 16 * j), wr + c + 16 * j));
    }
  }
}

/* out columns c0..c0+64·strips-1 (+)= a · w over w rows o0..o0+rows-1, all rows of a. */
static void nn_group(float *out, const float *a, const float *w, float *buf, int64_t m, int64_t c0, int64_t strips,
                     int64_t o0, int64_t rows, int64_t n, int64_t k, int load) {
  nn_pack(buf, w, o0, rows, c0, strips, n);
  for (int64_t s = 0; s < strips; s++) {
    const int64_t c = c0 + s * STRIP;
    const float *strip = buf + s * rows * STRIP;
    __mmask16 mask[4];
    for (int j = 0; j < 4; j++) mask[j] = edge_mask(n - c - 16 * j);
    int64_t m0 = 0;
    for (; m0 + 6 <= m; m0 += 6) nn_block6(out, a, strip, m0, c, o0, rows, n, k, mask, load);
    switch (m - m0) {
      case 5: nn_block5(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 4: nn_block4(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 3: nn_block3(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 2: nn_block2(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 1: nn_block1(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      default: break;
    }
  }
}
#else
/* CPUs without AVX-512: row-by-row axpy, vectorized by the compiler (buf unused). */
static void nn_group(float *out, const float *a, const float *w, float *buf, int64_t m, int64_t c0, int64_t strips,
                     int64_t o0, int64_t rows, int64_t n, int64_t k, int load) {
  const int64_t c1 = n - c0 < strips * STRIP ? n : c0 + strips * STRIP;
  for (int64_t r = 0; r < m; r++) {
    float *orow = out + r * n;
    if (!load)
      for (int64_t c = c0; c < c1; c++) orow[c] = 0.0f;
    for (int64_t o = o0; o < o0 + rows; o++) {
      const float s = a[r * k + o];
      const float *wr = w + o * n;
#pragma omp simd
      for (int64_t c = c0; c < c1; c++) orow[c] += s * wr[c];
    }
  }
}
#endif

/* Each thread's packing buffer, allocated on its first call and kept (OpenMP threads live as long as the process). */
static float *thread_buffer(void) {
  static _Thread_local float *buf = NULL;
  if (!buf) buf = aligned_alloc(64, (size_t)GROUP * CHUNK * STRIP * sizeof(float));
  return buf;
}

void matmul_nn_small_m(float *out, const float *a, const float *w, int64_t m, int64_t n, int64_t k, int accumulate) {
  if (k == 0 || m == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m * n; i++) out[i] = 0.0f;
    return;
  }
  const int64_t strips = (n + STRIP - 1) / STRIP;
#pragma omp parallel if (m * n * k > 8 * SEAL_OMP_MIN_WORK)
  {
#ifdef _OPENMP
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
#else
    const int64_t threads = 1, t = 0;
#endif
    /* contiguous strips per thread; w's rows in chunks, so each row of w is read from memory once */
    const int64_t s0 = strips * t / threads, s1 = strips * (t + 1) / threads;
    float *buf = thread_buffer();
    for (int64_t o0 = 0; o0 < k; o0 += CHUNK) {
      const int64_t rows = k - o0 < CHUNK ? k - o0 : CHUNK;
      for (int64_t g = s0; g < s1; g += GROUP)
        nn_group(out, a, w, buf, m, g * STRIP, s1 - g < GROUP ? s1 - g : GROUP, o0, rows, n, k, accumulate || o0 > 0);
    }
  }
}
