/*
 * Matrix products of a linear layer's training step on short sequences (tens to hundreds of rows), W in PyTorch
 * layout [out, in]:
 *   matmul_nn_small_m: out[M, N] (+)= a[M, K] · w[K, N]   — the backward input, dx = dout·W
 *   matmul_nt_small_m: out[M, N]   = x[M, K] · w[N, K]ᵀ  — the forward, y = x·Wᵀ
 * OpenBLAS's sgemm loses most of its speed at these row counts (measured: 2–4× below its large-matrix rate at
 * 64 rows). Here each thread owns a run of 64-column strips of out; w is walked in chunks of 128 rows of the
 * reduction dimension, so all threads read it from memory once and in order; each chunk of a strip is copied into a
 * per-thread buffer (transposed for the NT product) that stays in L1 while every block of 6 rows of a or x is
 * multiplied against it with a 6 × 64 register tile.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __AVX512F__
#include <immintrin.h>
#include "transpose16.h"
#endif

#define STRIP 64  /* out columns per tile: 4 vectors of 16 */
#define CHUNK 128 /* reduction indices per pass (a multiple of 16): a packed strip is 128 · 64 floats = 32 KB, in L1 */
#define GROUP 4   /* strips packed together: 128 KB, in L2 */

#ifdef __AVX512F__
/* Rows m0..m0+MS-1 of out, columns c0..c0+63 (mask[j] masks vector j at the right edge), against `rows` rows of a
 * packed strip (64 floats per row) that hold reduction indices o0..o0+rows-1. lda: row stride of a. */
#define DEFINE_BLOCK(MS)                                                                                            \
  static void block##MS(float *out, const float *a, const float *strip, int64_t m0, int64_t c0, int64_t o0,         \
                        int64_t rows, int64_t n, int64_t lda, const __mmask16 *mask, int load) {                   \
    __m512 acc[MS][4];                                                                                             \
    for (int r = 0; r < MS; r++)                                                                                   \
      for (int j = 0; j < 4; j++)                                                                                  \
        acc[r][j] = load ? _mm512_maskz_loadu_ps(mask[j], out + (m0 + r) * n + c0 + 16 * j) : _mm512_setzero_ps(); \
    const float *ar = a + m0 * lda + o0;                                                                           \
    for (int64_t o = 0; o < rows; o++) {                                                                           \
      const float *wr = strip + o * STRIP;                                                                         \
      const __m512 v0 = _mm512_load_ps(wr), v1 = _mm512_load_ps(wr + 16);                                          \
      const __m512 v2 = _mm512_load_ps(wr + 32), v3 = _mm512_load_ps(wr + 48);                                     \
      for (int r = 0; r < MS; r++) {                                                                               \
        const __m512 s = _mm512_set1_ps(ar[r * lda + o]);                                                          \
        acc[r][0] = _mm512_fmadd_ps(s, v0, acc[r][0]);                                                             \
        acc[r][1] = _mm512_fmadd_ps(s, v1, acc[r][1]);                                                             \
        acc[r][2] = _mm512_fmadd_ps(s, v2, acc[r][2]);                                                             \
        acc[r][3] = _mm512_fmadd_ps(s, v3, acc[r][3]);                                                             \
      }                                                                                                            \
    }                                                                                                              \
    for (int r = 0; r < MS; r++)                                                                                   \
      for (int j = 0; j < 4; j++) _mm512_mask_storeu_ps(out + (m0 + r) * n + c0 + 16 * j, mask[j], acc[r][j]);     \
  }
DEFINE_BLOCK(1)
DEFINE_BLOCK(2)
DEFINE_BLOCK(3)
DEFINE_BLOCK(4)
DEFINE_BLOCK(5)
DEFINE_BLOCK(6)

static __mmask16 edge_mask(int64_t left) {
  return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* NN: strip s of buf gets w rows o0..o0+rows-1, columns c0+64s..c0+64s+63 (zeros past column n). Whole row
 * segments are read in order, so the prefetchers stream w from memory. */
static void pack_nn(float *buf, const float *w, int64_t o0, int64_t rows, int64_t c0, int64_t strips, int64_t n) {
  for (int64_t o = 0; o < rows; o++) {
    const float *wr = w + (o0 + o) * n;
    for (int64_t s = 0; s < strips; s++) {
      float *dst = buf + (s * CHUNK + o) * STRIP;
      const int64_t c = c0 + s * STRIP;
      for (int j = 0; j < 4; j++)
        _mm512_store_ps(dst + 16 * j, _mm512_maskz_loadu_ps(edge_mask(n - c - 16 * j), wr + c + 16 * j));
    }
  }
}

/* NT: strip s of buf gets wᵀ for w rows c0+64s..c0+64s+63 (zeros past row n), columns o0..o0+rows-1: 16 × 16
 * blocks transposed in registers. Rows up to the next multiple of 16 are written (the buffer has CHUNK of them). */
static void pack_nt(float *buf, const float *w, int64_t o0, int64_t rows, int64_t c0, int64_t strips, int64_t n,
                    int64_t k) {
  for (int64_t s = 0; s < strips; s++)
    for (int jb = 0; jb < 4; jb++) {
      const int64_t row0 = c0 + s * STRIP + 16 * jb;
      for (int64_t kb = 0; kb < rows; kb += 16) {
        const __mmask16 kmask = edge_mask(rows - kb);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
          r[i] = row0 + i < n ? _mm512_maskz_loadu_ps(kmask, w + (row0 + i) * k + o0 + kb) : _mm512_setzero_ps();
        transpose16(r);
        float *dst = buf + (s * CHUNK + kb) * STRIP + 16 * jb;
        for (int i = 0; i < 16; i++) _mm512_store_ps(dst + i * STRIP, r[i]);
      }
    }
}

/* out columns c0..c0+64·strips-1 (+)= a[:, o0..o0+rows-1] · (packed w), all m rows of a. */
static void group(float *out, const float *a, const float *w, float *buf, int transposed, int64_t m, int64_t c0,
                  int64_t strips, int64_t o0, int64_t rows, int64_t n, int64_t k, int load) {
  if (transposed) pack_nt(buf, w, o0, rows, c0, strips, n, k);
  else pack_nn(buf, w, o0, rows, c0, strips, n);
  for (int64_t s = 0; s < strips; s++) {
    const int64_t c = c0 + s * STRIP;
    const float *strip = buf + s * CHUNK * STRIP;
    __mmask16 mask[4];
    for (int j = 0; j < 4; j++) mask[j] = edge_mask(n - c - 16 * j);
    int64_t m0 = 0;
    for (; m0 + 6 <= m; m0 += 6) block6(out, a, strip, m0, c, o0, rows, n, k, mask, load);
    switch (m - m0) {
      case 5: block5(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 4: block4(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 3: block3(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 2: block2(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      case 1: block1(out, a, strip, m0, c, o0, rows, n, k, mask, load); break;
      default: break;
    }
  }
}
#else
/* CPUs without AVX-512: plain loops the compiler vectorizes (buf unused). */
static void group(float *out, const float *a, const float *w, float *buf, int transposed, int64_t m, int64_t c0,
                  int64_t strips, int64_t o0, int64_t rows, int64_t n, int64_t k, int load) {
  const int64_t c1 = n - c0 < strips * STRIP ? n : c0 + strips * STRIP;
  for (int64_t r = 0; r < m; r++) {
    float *orow = out + r * n;
    const float *ar = a + r * k;
    if (!load)
      for (int64_t c = c0; c < c1; c++) orow[c] = 0.0f;
    if (transposed)
      for (int64_t c = c0; c < c1; c++) {
        const float *wr = w + c * k;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int64_t o = o0; o < o0 + rows; o++) sum += ar[o] * wr[o];
        orow[c] += sum;
      }
    else
      for (int64_t o = o0; o < o0 + rows; o++) {
        const float s = ar[o];
        const float *wr = w + o * n;
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) orow[c] += s * wr[c];
      }
  }
}
#endif

/* Each thread's packing buffer, allocated on its first call and freed when the thread exits (OpenMP workers live as
 * long as the process; a Node worker thread that runs the engine may not). */
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static void make_buffer_key(void) { pthread_key_create(&buffer_key, free); }

static float *thread_buffer(void) {
  pthread_once(&buffer_once, make_buffer_key);
  float *buf = pthread_getspecific(buffer_key);
  if (!buf) {
    buf = aligned_alloc(64, (size_t)GROUP * CHUNK * STRIP * sizeof(float));
    if (!buf) {
      fprintf(stderr, "seal: out of memory for a %d KB kernel buffer\n", GROUP * CHUNK * STRIP * 4 / 1024);
      abort();
    }
    pthread_setspecific(buffer_key, buf);
  }
  return buf;
}

/* out[m, n] (+)= a[m, k] · B, B = w [k, n] (NN) or wᵀ with w [n, k] (transposed). */
static void packed_product(float *out, const float *a, const float *w, int64_t m, int64_t n, int64_t k,
                           int accumulate, int transposed) {
  if (k == 0 || m == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m * n; i++) out[i] = 0.0f;
    return;
  }
  const int64_t strips = (n + STRIP - 1) / STRIP;
  /* Threads only from ~50 µs of work per call: SEAL-mini's products (11 × 256 × 768) ran at a fraction of their
   * serial speed on 2 threads whenever another process shared the cores (each fork/join then waits for a thread the
   * kernel had descheduled), for a gain of a few µs per call on idle cores. */
#pragma omp parallel if (m * n * k > 128 * SEAL_OMP_MIN_WORK)
  {
#ifdef _OPENMP
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
#else
    const int64_t threads = 1, t = 0;
#endif
    /* a contiguous run of strips per thread; chunks of the reduction outermost, so w is read once and in order */
    const int64_t s0 = strips * t / threads, s1 = strips * (t + 1) / threads;
    float *buf = thread_buffer();
    for (int64_t o0 = 0; o0 < k; o0 += CHUNK) {
      const int64_t rows = k - o0 < CHUNK ? k - o0 : CHUNK;
      for (int64_t g = s0; g < s1; g += GROUP)
        group(out, a, w, buf, transposed, m, g * STRIP, s1 - g < GROUP ? s1 - g : GROUP, o0, rows, n, k,
              accumulate || o0 > 0);
    }
  }
}

void matmul_nn_small_m(float *out, const float *a, const float *w, int64_t m, int64_t n, int64_t k, int accumulate) {
  packed_product(out, a, w, m, n, k, accumulate, 0);
}

void matmul_nt_small_m(float *out, const float *x, const float *w, int64_t m, int64_t n, int64_t k) {
  packed_product(out, x, w, m, n, k, 0, 1);
}

int smallm_train_vectorized(void) {
#ifdef __AVX512F__
  return 1;
#else
  return 0;
#endif
}
