/*
 * out[M, N] = x[M, K] · W[N, K]ᵀ for small M (decoding: one row per sequence in flight).
 * OpenBLAS's sgemm packs W first, which for M = 1..16 costs more memory traffic than the product itself; here
 * W is streamed from memory once. M ≤ 2 is bound by that read: each block of 4 weight rows is used for every
 * input row while it sits in L1. From M = 3 the FMAs matter as much as the read (16 rows: 8 FLOPs per weight
 * byte): W is walked in strips that fit L2, K in chunks whose 6 input rows fit L1, every input row block
 * reuses the strip from L2, and the first one prefetches the next strip so the memory stream never stalls.
 */
#include "kernels.h"
#include <omp.h>
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

static inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  const __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
  const __m512 abcd = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)),
                                    _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(abcd), _mm512_extractf32x8_ps(abcd, 1));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* out[.., o0..o0+4] (+)= x[MS rows, i0..i0+kc] · w[4 rows, i0..i0+kc]ᵀ; pf: 4 rows to prefetch into L2 (or NULL).
 * Named accumulators, not an array: GCC keeps an array of vectors in memory across the loop. */
#define ROW_DECL(a) __m512 c##a##0 = _mm512_setzero_ps(), c##a##1 = c##a##0, c##a##2 = c##a##0, c##a##3 = c##a##0;
#define ROW_FMA(a, MS)                                                                                              \
  if ((a) < (MS)) {                                                                                                 \
    const __m512 xv = _mm512_maskz_loadu_ps(mask, x + (a) * k + i);                                                 \
    c##a##0 = _mm512_fmadd_ps(xv, v0, c##a##0);                                                                     \
    c##a##1 = _mm512_fmadd_ps(xv, v1, c##a##1);                                                                     \
    c##a##2 = _mm512_fmadd_ps(xv, v2, c##a##2);                                                                     \
    c##a##3 = _mm512_fmadd_ps(xv, v3, c##a##3);                                                                     \
  }
#define ROW_STORE(a, MS)                                                                                            \
  if ((a) < (MS)) {                                                                                                 \
    __m128 s = hsum4(c##a##0, c##a##1, c##a##2, c##a##3);                                                           \
    if (add) s = _mm_add_ps(s, _mm_loadu_ps(out + (a) * n));                                                        \
    _mm_storeu_ps(out + (a) * n, s);                                                                                \
  }
#define DEFINE_TILE(MS)                                                                                            \
  static void tile4x##MS(float *out, const float *x, const float *w, int64_t n, int64_t k, int64_t kc, int add,    \
                          const float *pf) {                                                                        \
    ROW_DECL(0) ROW_DECL(1) ROW_DECL(2) ROW_DECL(3) ROW_DECL(4) ROW_DECL(5)                                          \
    const float *w0 = w, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;                                                  \
    const __mmask16 tail = (__mmask16)((1u << (kc & 15)) - 1);                                                      \
    for (int64_t i = 0; i < kc; i += 16) {                                                                          \
      const __mmask16 mask = kc - i >= 16 ? (__mmask16)0xFFFF : tail;                                               \
      if (pf) {                                                                                                     \
        _mm_prefetch((const char *)(pf + i), _MM_HINT_T1);                                                          \
        _mm_prefetch((const char *)(pf + k + i), _MM_HINT_T1);                                                      \
        _mm_prefetch((const char *)(pf + 2 * k + i), _MM_HINT_T1);                                                  \
        _mm_prefetch((const char *)(pf + 3 * k + i), _MM_HINT_T1);                                                  \
      }                                                                                                             \
      const __m512 v0 = _mm512_maskz_loadu_ps(mask, w0 + i), v1 = _mm512_maskz_loadu_ps(mask, w1 + i);             \
      const __m512 v2 = _mm512_maskz_loadu_ps(mask, w2 + i), v3 = _mm512_maskz_loadu_ps(mask, w3 + i);             \
      ROW_FMA(0, MS) ROW_FMA(1, MS) ROW_FMA(2, MS) ROW_FMA(3, MS) ROW_FMA(4, MS) ROW_FMA(5, MS)                     \
    }                                                                                                               \
    ROW_STORE(0, MS) ROW_STORE(1, MS) ROW_STORE(2, MS) ROW_STORE(3, MS) ROW_STORE(4, MS) ROW_STORE(5, MS)           \
  }
DEFINE_TILE(3)
DEFINE_TILE(4)
DEFINE_TILE(5)
DEFINE_TILE(6)

typedef void (*tile_fn)(float *, const float *, const float *, int64_t, int64_t, int64_t, int, const float *);
static const tile_fn TILES[7] = {0, 0, 0, tile4x3, tile4x4, tile4x5, tile4x6}; /* row blocks of 3..6 */
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

#ifdef __AVX512F__
#define KC 1024                 /* columns per pass: an input row block (6 rows × 4 KB) stays in L1 */
#define STRIP_BYTES (192 << 10) /* weight rows per strip: one strip plus the next one's prefetch fit L2 */

/* M ≥ 3: strips of weight rows, one per pool chunk; per strip, K chunks, input row blocks of ≤ 6 (balanced), tiles
 * of 4 weight rows. The first row block of each K chunk prefetches the same K chunk of the strip this thread takes
 * next (the one above, or below for a thread that claims from the back) into L2. */
typedef struct {
  float *out;
  const float *x, *w;
  int64_t m, n, k, n4, strip;
} StripJob;

static void strip_chunk(void *ctx, int64_t chunk, int from_back) {
  const StripJob *j = ctx;
  const int64_t m = j->m, n = j->n, k = j->k, row_blocks = (m + 5) / 6;
  const int64_t o_start = chunk * j->strip, o_end = o_start + j->strip < j->n4 ? o_start + j->strip : j->n4;
  const int64_t next = from_back ? -j->strip : j->strip; /* strips below the last one are all full */
  for (int64_t i0 = 0; i0 < k; i0 += KC) {
    const int64_t kc = k - i0 < KC ? k - i0 : KC;
    for (int64_t b = 0, m0 = 0; b < row_blocks; b++) {
      const int64_t ms = (m - m0) / (row_blocks - b); /* 16 rows: 5, 5, 6 */
      for (int64_t o0 = o_start; o0 < o_end; o0 += 4) {
        const int64_t p0 = o0 + next;
        const float *pf = b == 0 && p0 >= 0 && p0 + 4 <= j->n4 ? j->w + p0 * k + i0 : NULL;
        TILES[ms](j->out + m0 * n + o0, j->x + m0 * k + i0, j->w + o0 * k + i0, n, k, kc, i0 > 0, pf);
      }
      m0 += ms;
    }
  }
}

static void matmul_strips(float *out, const float *x, const float *w, int64_t m, int64_t n, int64_t k, int threads) {
  const int64_t n4 = n & ~(int64_t)3;
  /* strips fit L2, and are small enough for ≥ 8 per thread (a thread that loses its core holds up little) */
  int64_t strip = (STRIP_BYTES / (k * 4)) & ~(int64_t)3;
  const int64_t per_thread = ((n4 / (8 * threads) + 3) & ~(int64_t)3);
  if (strip > per_thread) strip = per_thread;
  if (strip < 4) strip = 4;
  StripJob job = {out, x, w, m, n, k, n4, strip};
  const int64_t strips = (n4 + strip - 1) / strip;
  if (threads > 1) seal_pool_for(strips, strip_chunk, &job);
  else
    for (int64_t s = 0; s < strips; s++) strip_chunk(&job, s, 0);
  for (int64_t o0 = n4; o0 < n; o0++) block_generic(out, x, w, 0, m, o0, 1, n, k);
}
#endif

/* M ≤ 2 (or no AVX-512): blocks of 4 weight rows, ROWS_PER_CHUNK of them per pool chunk (~10 µs of reading). */
#define ROWS_PER_CHUNK 64
typedef struct {
  float *out;
  const float *x, *w;
  int64_t m, n, k;
} RowJob;

static void row_chunk(void *ctx, int64_t chunk, int from_back) {
  const RowJob *j = ctx;
  const int64_t o_end = (chunk + 1) * ROWS_PER_CHUNK < j->n ? (chunk + 1) * ROWS_PER_CHUNK : j->n;
  for (int64_t o0 = chunk * ROWS_PER_CHUNK; o0 < o_end; o0 += 4) {
    const int64_t rs = o_end - o0 < 4 ? o_end - o0 : 4;
#ifdef __AVX512F__
    if (rs == 4 && j->m <= 2) {
      if (j->m == 2) block4x2(j->out, j->x, j->w, 0, o0, j->n, j->k);
      else block4x1(j->out, j->x, j->w, 0, o0, j->n, j->k);
      continue;
    }
#endif
    block_generic(j->out, j->x, j->w, 0, j->m, o0, rs, j->n, j->k);
  }
}

void matmul_small_m(float *out, const float *x, const float *w, int64_t m, int64_t n, int64_t k) {
  /* the pool, not OpenMP: a decode step is ~190 short loops, and an OpenMP barrier waits for descheduled threads */
  const int threads = m * n * k > 8 * SEAL_OMP_MIN_WORK ? omp_get_max_threads() : 1;
#ifdef __AVX512F__
  if (m >= 3) {
    matmul_strips(out, x, w, m, n, k, threads);
    return;
  }
#endif
  RowJob job = {out, x, w, m, n, k};
  const int64_t chunks = (n + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
  if (threads > 1) seal_pool_for(chunks, row_chunk, &job);
  else
    for (int64_t c = 0; c < chunks; c++) row_chunk(&job, c, 0);
}
