/*
 * LoRA over row segments: rows [start, start + rows) of a pass use their own adapter (A [rank, in], B [out, rank],
 * scale alpha/rank), so one pass over the shared base weights serves many adapters (multi-LoRA training, and a
 * decode batch whose sequences use different adapters). Segments run in parallel, one per thread.
 *
 * Each segment is six products with a rank-sized side (2 forward, 4 backward) on a few tens of rows. With AVX-512
 * they run on one register-tiled kernel, C = β·C + α·op(A)·B with A read through any strides (so doutᵀ and dHᵀ need
 * no copy) and B row-major; the forward's two products read Aᵀ and Bᵀ from a per-thread buffer. OpenBLAS spends more
 * on each such call (packing, dispatch) than on its arithmetic: on SEAL-mini's shapes (12–100 rows, rank 32, widths
 * 256/768) its calls ran at 50–95 GFLOP/s on one core, this kernel at 85–190 (1.4–2× faster per segment), and a
 * lone segment no longer wakes OpenBLAS's threads for a few microseconds of work. Without AVX-512, OpenBLAS's own
 * kernels (about 3× faster there than plain loops the compiler vectorizes).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "kernels.h"
#ifdef __AVX512F__
#include <immintrin.h>
#include "transpose16.h"
#else
#include <cblas.h>
#endif

#ifdef __AVX512F__
/* Each thread's transpose buffer, grown on demand and freed when the thread exits. */
typedef struct {
  float *data;
  size_t floats;
} Buffer;
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static void free_buffer(void *p) {
  Buffer *b = p;
  free(b->data);
  free(b);
}
static void make_buffer_key(void) { pthread_key_create(&buffer_key, free_buffer); }

static float *thread_buffer(size_t floats) {
  pthread_once(&buffer_once, make_buffer_key);
  Buffer *b = pthread_getspecific(buffer_key);
  if (!b) {
    b = calloc(1, sizeof *b);
    if (!b) abort();
    pthread_setspecific(buffer_key, b);
  }
  if (b->floats < floats) {
    free(b->data);
    b->data = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    if (!b->data) {
      fprintf(stderr, "seal: out of memory for a %zu KB LoRA buffer\n", floats * sizeof(float) / 1024);
      abort();
    }
    b->floats = floats;
  }
  return b->data;
}

static __mmask16 edge_mask(int64_t left) {
  if (left >= 16) return (__mmask16)0xFFFF;
  if (left <= 0) return 0;
  return (__mmask16)((1u << left) - 1);
}

/* dst [cols, rows] = srcᵀ, src [rows, cols] row-major: 16 × 16 blocks transposed in registers. */
static void transpose(float *dst, const float *src, int64_t rows, int64_t cols) {
  for (int64_t r0 = 0; r0 < rows; r0 += 16) {
    const int64_t nr = rows - r0 < 16 ? rows - r0 : 16;
    const __mmask16 rmask = edge_mask(nr);
    for (int64_t c0 = 0; c0 < cols; c0 += 16) {
      const int64_t nc = cols - c0 < 16 ? cols - c0 : 16;
      const __mmask16 cmask = edge_mask(nc);
      __m512 r[16];
      for (int i = 0; i < 16; i++)
        r[i] = i < nr ? _mm512_maskz_loadu_ps(cmask, src + (r0 + i) * cols + c0) : _mm512_setzero_ps();
      transpose16(r);
      for (int c = 0; c < nc; c++) _mm512_mask_storeu_ps(dst + (c0 + c) * rows + r0, rmask, r[c]);
    }
  }
}

/*
 * One MR × (16·NV) tile of C = β·C + α·Σ_p A(i, p)·B[p, j]; A(i, p) = a[i·rsa + p·csa], mask[v] masks vector v at
 * C's right edge. MR·NV accumulators (24 of the 32 registers) stay in registers for the whole reduction.
 */
#define UNROLL _Pragma("GCC unroll 16")
#define DEFINE_TILE(MR, NV)                                                                                        \
  static void tile_##NV##_##MR(float *c, int64_t ldc, const float *a, int64_t rsa, int64_t csa, const float *b,   \
                               int64_t ldb, int64_t k, float alpha, int beta, const __mmask16 *mask) {           \
    __m512 acc[MR][NV];                                                                                           \
    UNROLL for (int r = 0; r < MR; r++)                                                                           \
      UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();                                        \
    for (int64_t p = 0; p < k; p++) {                                                                             \
      __m512 bv[NV];                                                                                              \
      UNROLL for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(mask[v], b + p * ldb + 16 * v);          \
      const float *ap = a + p * csa;                                                                              \
      UNROLL for (int r = 0; r < MR; r++) {                                                                       \
        const __m512 av = _mm512_set1_ps(ap[r * rsa]);                                                            \
        UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);                   \
      }                                                                                                           \
    }                                                                                                             \
    const __m512 al = _mm512_set1_ps(alpha);                                                                      \
    UNROLL for (int r = 0; r < MR; r++)                                                                           \
      UNROLL for (int v = 0; v < NV; v++) {                                                                       \
        float *cp = c + r * ldc + 16 * v;                                                                         \
        const __m512 sum = beta ? _mm512_fmadd_ps(al, acc[r][v], _mm512_maskz_loadu_ps(mask[v], cp))              \
                                : _mm512_mul_ps(al, acc[r][v]);                                                   \
        _mm512_mask_storeu_ps(cp, mask[v], sum);                                                                  \
      }                                                                                                           \
  }

/* Narrow C (the rank side, 32 columns): 12 rows a tile; wide C: 6 rows × 64 columns. */
DEFINE_TILE(1, 2)
DEFINE_TILE(2, 2)
DEFINE_TILE(3, 2)
DEFINE_TILE(4, 2)
DEFINE_TILE(5, 2)
DEFINE_TILE(6, 2)
DEFINE_TILE(7, 2)
DEFINE_TILE(8, 2)
DEFINE_TILE(9, 2)
DEFINE_TILE(10, 2)
DEFINE_TILE(11, 2)
DEFINE_TILE(12, 2)
DEFINE_TILE(1, 4)
DEFINE_TILE(2, 4)
DEFINE_TILE(3, 4)
DEFINE_TILE(4, 4)
DEFINE_TILE(5, 4)
DEFINE_TILE(6, 4)

typedef void (*tile_fn)(float *, int64_t, const float *, int64_t, int64_t, const float *, int64_t, int64_t, float, int,
                        const __mmask16 *);
static const tile_fn NARROW[12] = {tile_2_1, tile_2_2, tile_2_3, tile_2_4,  tile_2_5,  tile_2_6,
                                   tile_2_7, tile_2_8, tile_2_9, tile_2_10, tile_2_11, tile_2_12};
static const tile_fn WIDE[6] = {tile_4_1, tile_4_2, tile_4_3, tile_4_4, tile_4_5, tile_4_6};

/* C [m, n] (ldc) = β·C + α·op(A)·B, op(A)(i, p) = a[i·rsa + p·csa], B [k, n] (ldb). Tiles are independent: a large
 * product (a lone long segment) splits them over threads, at the threshold the packed training kernels use. */
static void gemm(float *c, int64_t ldc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t ldb,
                 int64_t m, int64_t n, int64_t k, float alpha, int beta) {
  const int nv = n <= 32 ? 2 : 4, mr = nv == 2 ? 12 : 6;
  const tile_fn *tiles = nv == 2 ? NARROW : WIDE;
  const int64_t row_tiles = (m + mr - 1) / mr, col_tiles = (n + 16 * nv - 1) / (16 * nv);
  if (m * n * k > 128 * SEAL_OMP_MIN_WORK) {
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < row_tiles * col_tiles; t++) {
      const int64_t i0 = t % row_tiles * mr, j0 = t / row_tiles * 16 * nv;
      __mmask16 mask[4];
      for (int v = 0; v < nv; v++) mask[v] = edge_mask(n - j0 - 16 * v);
      const int64_t rows = m - i0 < mr ? m - i0 : mr;
      tiles[rows - 1](c + i0 * ldc + j0, ldc, a + i0 * rsa, rsa, csa, b + j0, ldb, k, alpha, beta, mask);
    }
    return;
  }
  for (int64_t j0 = 0; j0 < n; j0 += 16 * nv) {
    __mmask16 mask[4];
    for (int v = 0; v < nv; v++) mask[v] = edge_mask(n - j0 - 16 * v);
    for (int64_t i0 = 0; i0 < m; i0 += mr) {
      const int64_t rows = m - i0 < mr ? m - i0 : mr;
      tiles[rows - 1](c + i0 * ldc + j0, ldc, a + i0 * rsa, rsa, csa, b + j0, ldb, k, alpha, beta, mask);
    }
  }
}

static void forward_one(float *out, const float *x, const LoraSegment *s, int64_t in_dim, int64_t out_dim) {
  if (s->rows == 0) return;
  const float *xs = x + s->start * in_dim;
  float *os = out + s->start * out_dim;
  const int64_t rank = s->rank, rows = s->rows;
  float *at = thread_buffer((size_t)rank * (in_dim + out_dim)), *bt = at + rank * in_dim;
  transpose(at, s->a, rank, in_dim);  /* Aᵀ [in, rank] */
  transpose(bt, s->b, out_dim, rank); /* Bᵀ [rank, out] */
  gemm(s->hidden, rank, xs, in_dim, 1, at, rank, rows, rank, in_dim, 1.0f, 0);     /* hidden = x·Aᵀ */
  gemm(os, out_dim, s->hidden, rank, 1, bt, out_dim, rows, out_dim, rank, s->scale, 1); /* out += scale·hidden·Bᵀ */
}

static void backward_one(float *dx, int accumulate, const float *dout, const float *x, const LoraSegment *s,
                         int64_t in_dim, int64_t out_dim) {
  const float *xs = x + s->start * in_dim, *ds = dout + s->start * out_dim;
  const int64_t rows = s->rows, rank = s->rank, in = in_dim, out = out_dim;
  float *dxs = dx + s->start * in_dim;
  if (rows == 0) { /* an empty sum: overwritten gradients are zero */
    if (s->overwrite) {
      for (int64_t i = 0; i < rank * in; i++) s->ga[i] = 0.0f;
      for (int64_t i = 0; i < out * rank; i++) s->gb[i] = 0.0f;
    }
    return;
  }
  const int keep = !s->overwrite;
  gemm(s->gb, rank, ds, 1, out, s->hidden, rank, out, rank, rows, s->scale, keep); /* dB (+)= scale·doutᵀ·hidden */
  gemm(s->dhidden, rank, ds, out, 1, s->b, rank, rows, rank, out, s->scale, 0);  /* dHidden = scale·dout·B */
  gemm(s->ga, in, s->dhidden, 1, rank, xs, in, rank, in, rows, 1.0f, keep);      /* dA (+)= dHiddenᵀ·x */
  gemm(dxs, in, s->dhidden, rank, 1, s->a, in, rows, in, rank, 1.0f, accumulate); /* dx (+)= dHidden·A */
}

#else
static void forward_one(float *out, const float *x, const LoraSegment *s, int64_t in_dim, int64_t out_dim) {
  const float *xs = x + s->start * in_dim;
  float *os = out + s->start * out_dim;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->rows, (int)s->rank, (int)in_dim, 1.0f, xs, (int)in_dim,
              s->a, (int)in_dim, 0.0f, s->hidden, (int)s->rank);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->rows, (int)out_dim, (int)s->rank, s->scale, s->hidden,
              (int)s->rank, s->b, (int)s->rank, 1.0f, os, (int)out_dim);
}

static void backward_one(float *dx, int accumulate, const float *dout, const float *x, const LoraSegment *s,
                         int64_t in_dim, int64_t out_dim) {
  const float *xs = x + s->start * in_dim, *ds = dout + s->start * out_dim;
  const int rows = (int)s->rows, rank = (int)s->rank, in = (int)in_dim, out = (int)out_dim;
  /* dB (+)= scale·doutᵀ·hidden; dHidden = scale·dout·B; dA (+)= dHiddenᵀ·x; dx (+)= dHidden·A */
  const float keep = s->overwrite ? 0.0f : 1.0f;
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, rank, rows, s->scale, ds, out, s->hidden, rank, keep,
              s->gb, rank);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, rank, out, s->scale, ds, out, s->b, rank, 0.0f,
              s->dhidden, rank);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rank, in, rows, 1.0f, s->dhidden, rank, xs, in, keep, s->ga, in);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, rank, 1.0f, s->dhidden, rank, s->a, in,
              accumulate ? 1.0f : 0.0f, dx + s->start * in_dim, in);
}
#endif

void lora_forward_segments(float *out, const float *x, const LoraSegment *segs, int64_t nseg, int64_t in_dim,
                           int64_t out_dim) {
#pragma omp parallel for schedule(dynamic, 1) if (nseg > 1)
  for (int64_t i = 0; i < nseg; i++) forward_one(out, x, &segs[i], in_dim, out_dim);
}

void lora_backward_segments(float *dx, int accumulate, const float *dout, const float *x, const LoraSegment *segs,
                            int64_t nseg, int64_t in_dim, int64_t out_dim) {
#pragma omp parallel for schedule(dynamic, 1) if (nseg > 1)
  for (int64_t i = 0; i < nseg; i++) backward_one(dx, accumulate, dout, x, &segs[i], in_dim, out_dim);
}
