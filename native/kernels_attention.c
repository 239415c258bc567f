/*
 * Causal grouped-query attention. Forward: per (token, head), scores into a buffer, softmax, weighted sum of
 * values (the loops over keys vectorize). Backward: per (sequence, kv head), keys and values transposed to
 * [head_dim, tokens] so every inner loop runs over keys with unit stride; probabilities are recomputed from lse.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fast_exp.h"
#include "kernels.h"
#ifdef __AVX512F__
#include <immintrin.h>
#endif

static inline float dot(const float *a, const float *b, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/*
 * Four query rows against keys given transposed ([head_dim][ld]): row r attends to keys 0..count[r]-1.
 * p = softmax(scale·q·K), o = p·V, lse written per row. Rows with count 0 (or missing: q[r] NULL) are skipped.
 * Four rows per pass over K and V, so each key/value column loaded from L2 serves four queries.
 */
static void attend_transposed4(float *const o[4], float *lse_out[4], float *p, int64_t stride_p, const float *const q[4],
                               const int64_t count[4], const float *kt, const float *vt, int64_t ld, int64_t head_dim,
                               float scale, const float *zeros) {
  int64_t n = 0;
  const float *qr[4];
  for (int r = 0; r < 4; r++) {
    n = count[r] > n ? count[r] : n;
    qr[r] = q[r] ? q[r] : zeros;
  }
  if (n == 0) return;
  float *p0 = p, *p1 = p + stride_p, *p2 = p + 2 * stride_p, *p3 = p + 3 * stride_p;
  for (int64_t j = 0; j < n; j++) p0[j] = p1[j] = p2[j] = p3[j] = 0.0f;
  for (int64_t d = 0; d < head_dim; d++) {
    const float *krow = kt + d * ld;
    const float q0 = qr[0][d] * scale, q1 = qr[1][d] * scale, q2 = qr[2][d] * scale, q3 = qr[3][d] * scale;
#pragma omp simd
    for (int64_t j = 0; j < n; j++) {
      const float kj = krow[j];
      p0[j] += q0 * kj, p1[j] += q1 * kj, p2[j] += q2 * kj, p3[j] += q3 * kj;
    }
  }
  float inv[4];
  for (int r = 0; r < 4; r++) {
    float *pr = p + r * stride_p;
    const int64_t c = count[r];
    float max = -INFINITY;
#pragma omp simd reduction(max : max)
    for (int64_t j = 0; j < c; j++) max = pr[j] > max ? pr[j] : max;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n; j++) {
      const float e = seal_expf(pr[j] - max);
      pr[j] = j < c ? e : 0.0f;
      sum += pr[j];
    }
    inv[r] = c > 0 ? 1.0f / sum : 0.0f;
    if (lse_out[r]) *lse_out[r] = c > 0 ? max + logf(sum) : -INFINITY;
  }
  for (int64_t d = 0; d < head_dim; d++) {
    const float *vrow = vt + d * ld;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
    for (int64_t j = 0; j < n; j++) {
      const float vj = vrow[j];
      a0 += p0[j] * vj, a1 += p1[j] * vj, a2 += p2[j] * vj, a3 += p3[j] * vj;
    }
    const float acc[4] = {a0, a1, a2, a3};
    for (int r = 0; r < 4; r++)
      if (q[r]) o[r][d] = acc[r] * inv[r];
  }
}

/* One query row against keys in their natural row layout (decode: one query per sequence, no transpose). */
static float attend_rows(float *o, float *p, const float *qv, const float *k, const float *v, int64_t stride,
                         int64_t count, int64_t head_dim, float scale) {
  float max = -INFINITY;
  for (int64_t j = 0; j < count; j++) {
    p[j] = dot(qv, k + j * stride, head_dim) * scale;
    max = p[j] > max ? p[j] : max;
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < count; j++) {
    p[j] = seal_expf(p[j] - max);
    sum += p[j];
  }
  const float inv = 1.0f / sum;
  for (int64_t d = 0; d < head_dim; d++) o[d] = 0.0f;
  for (int64_t j = 0; j < count; j++) {
    const float w = p[j] * inv;
    const float *vj = v + j * stride;
#pragma omp simd
    for (int64_t d = 0; d < head_dim; d++) o[d] += w * vj[d];
  }
  return max + logf(sum);
}

#ifdef __AVX512F__
/* r[i] = Σ lanes of a_i for 16 vectors: a transposing tree of 45 shuffles and adds instead of 16 reductions. */
static inline __m512 sum16(const __m512 a[16]) {
  __m512 u[4];
  for (int g = 0; g < 4; g++) {
    const __m512 *x = a + 4 * g;
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(x[0], x[1]), _mm512_unpackhi_ps(x[0], x[1]));
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(x[2], x[3]), _mm512_unpackhi_ps(x[2], x[3]));
    const __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
    /* lane l of u[g]: the lane-l partial sums of x[0..3] */
    u[g] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)), _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));
  }
  const __m512 s01 = _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], 0x88), _mm512_shuffle_f32x4(u[0], u[1], 0xDD));
  const __m512 s23 = _mm512_add_ps(_mm512_shuffle_f32x4(u[2], u[3], 0x88), _mm512_shuffle_f32x4(u[2], u[3], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(s01, s23, 0x88), _mm512_shuffle_f32x4(s01, s23, 0xDD));
}

/*
 * Decode: the `nh` query heads that share one KV head, for one query token, against `count` keys and values in
 * their cache rows (row stride `stride`); head_dim a multiple of 16. Keys and values go by blocks of KB rows that
 * stay in L1 while every head uses them (a long cache is read from L2 once, not once per head). Scores: 16 keys
 * per vector of dot products (sum16); values: two accumulator sets so the FMA chains overlap.
 * p: nh·(count+16) floats; acc: nh·head_dim floats.
 */
#define KB 32
static void attend_heads_rows(float *o, float *lse, const float *q, const float *k, const float *v, int64_t stride,
                              int64_t count, int64_t nh, int64_t head_dim, float scale, float *p, float *acc) {
  const int64_t nv = head_dim / 16, cp = (count + 15) & ~(int64_t)15;
  for (int64_t j0 = 0; j0 < count; j0 += 16) {
    /* keys past the end repeat the last one: their scores land in the padding and are never read */
    const float *kr[16];
    for (int jj = 0; jj < 16; jj++) kr[jj] = k + (j0 + jj < count ? j0 + jj : count - 1) * stride;
    for (int64_t h = 0; h < nh; h++) {
      const float *qh = q + h * head_dim;
      __m512 a[16];
#define KEY(jj) a[jj] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(kr[jj] + 16 * vi), a[jj]);
      for (int jj = 0; jj < 16; jj++) a[jj] = _mm512_setzero_ps();
      for (int64_t vi = 0; vi < nv; vi++) {
        const __m512 qv = _mm512_loadu_ps(qh + 16 * vi);
        KEY(0) KEY(1) KEY(2) KEY(3) KEY(4) KEY(5) KEY(6) KEY(7)
        KEY(8) KEY(9) KEY(10) KEY(11) KEY(12) KEY(13) KEY(14) KEY(15)
      }
#undef KEY
      _mm512_storeu_ps(p + h * cp + j0, _mm512_mul_ps(sum16(a), _mm512_set1_ps(scale)));
    }
  }
  for (int64_t h = 0; h < nh; h++) {
    float *ph = p + h * cp;
    float max = -INFINITY;
#pragma omp simd reduction(max : max)
    for (int64_t j = 0; j < count; j++) max = ph[j] > max ? ph[j] : max;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < count; j++) {
      ph[j] = seal_expf(ph[j] - max);
      sum += ph[j];
    }
    if (lse) lse[h] = max + logf(sum);
    const float inv = 1.0f / sum;
    for (int64_t j = 0; j < count; j++) ph[j] *= inv;
  }
  for (int64_t i = 0; i < nh * head_dim; i++) acc[i] = 0.0f;
  for (int64_t j0 = 0; j0 < count; j0 += KB) {
    const int64_t j1 = j0 + KB < count ? j0 + KB : count;
    for (int64_t h = 0; h < nh; h++) {
      const float *ph = p + h * cp;
      for (int64_t d0 = 0; d0 < head_dim; d0 += 16) {
        /* 16 dimensions of one head over the block; even and odd keys in separate chains */
        __m512 a0 = _mm512_loadu_ps(acc + h * head_dim + d0), a1 = _mm512_setzero_ps();
        const float *vr = v + d0;
        int64_t j = j0;
        for (; j + 2 <= j1; j += 2) {
          a0 = _mm512_fmadd_ps(_mm512_set1_ps(ph[j]), _mm512_loadu_ps(vr + j * stride), a0);
          a1 = _mm512_fmadd_ps(_mm512_set1_ps(ph[j + 1]), _mm512_loadu_ps(vr + (j + 1) * stride), a1);
        }
        if (j < j1) a0 = _mm512_fmadd_ps(_mm512_set1_ps(ph[j]), _mm512_loadu_ps(vr + j * stride), a0);
        _mm512_storeu_ps(acc + h * head_dim + d0, _mm512_add_ps(a0, a1));
      }
    }
  }
  for (int64_t i = 0; i < nh * head_dim; i++) o[i] = acc[i];
}
#undef KB
#endif

#define CHUNK 32 /* query rows per work item on the transposed path */

void attention_forward(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *key_base,
                       const int32_t *key_count, int64_t tokens, int64_t heads, int64_t kv_heads, int64_t head_dim,
                       float scale) {
  const int64_t group = heads / kv_heads;
  const int64_t q_stride = heads * head_dim, kv_stride = kv_heads * head_dim;
  int64_t max_count = 1;
  for (int64_t t = 0; t < tokens; t++) max_count = key_count[t] > max_count ? key_count[t] : max_count;
  /* Work items: runs of up to CHUNK consecutive tokens that share a key range start (one sequence or cache slot).
   * Long runs take the transposed path (keys/values transposed once per item, then unit-stride loops over keys);
   * single tokens (decode) read keys in place. */
  int64_t *item_start = malloc(sizeof(int64_t) * (size_t)(tokens + 1));
  int64_t items = 0;
  for (int64_t t = 0; t < tokens; t++)
    if (t == 0 || key_base[t] != key_base[t - 1] || t - item_start[items - 1] >= CHUNK) item_start[items++] = t;
  item_start[items] = tokens;
  /* A decode step (one token per item) at a short context is ~100 µs of work: on a machine shared with other
   * processes a fork/join can wait a whole scheduler tick for a descheduled thread, so it stays on one thread
   * until the keys read add up to ~2M multiply-adds per pass. */
  int64_t keys_read = 0;
  for (int64_t t = 0; t < tokens; t++) keys_read += key_count[t];
  const int parallel = items == tokens ? keys_read * q_stride > 64 * SEAL_OMP_MIN_WORK
                                       : tokens * max_count * q_stride > SEAL_OMP_MIN_WORK;
#pragma omp parallel if (parallel)
  {
    float *p = malloc(sizeof(float) * (size_t)(4 * max_count));
    float *zeros = calloc((size_t)head_dim, sizeof(float));
    float *kt = NULL, *vt = NULL; /* allocated on first use: decode never transposes, and 2 × 256 KB per call
                                   * at a 1000-token context cost more in page faults than the attention itself */
    /* decode: scores of every head of a group, then their outputs */
    float *pg = malloc(sizeof(float) * (size_t)(group * (max_count + 16 + head_dim)));
#pragma omp for schedule(dynamic, 1)
    for (int64_t work = 0; work < items * kv_heads; work++) {
      const int64_t it = work / kv_heads, g = work % kv_heads;
      const int64_t t0 = item_start[it], t1 = item_start[it + 1];
      const int64_t base = key_base[t0];
      const float *kg = k + base * kv_stride + g * head_dim, *vg = v + base * kv_stride + g * head_dim;
      if (t1 - t0 >= 4) {
        if (!kt) {
          kt = malloc(sizeof(float) * (size_t)(head_dim * max_count));
          vt = malloc(sizeof(float) * (size_t)(head_dim * max_count));
        }
        int64_t span = 0;
        for (int64_t t = t0; t < t1; t++) span = key_count[t] > span ? key_count[t] : span;
        for (int64_t j = 0; j < span; j++)
          for (int64_t d = 0; d < head_dim; d++) {
            kt[d * span + j] = kg[j * kv_stride + d];
            vt[d * span + j] = vg[j * kv_stride + d];
          }
        for (int64_t h = g * group; h < (g + 1) * group; h++)
          for (int64_t tb = t0; tb < t1; tb += 4) {
            float *o[4], *lse_ptr[4], dummy_lse[4];
            const float *qs[4];
            int64_t counts[4];
            for (int r = 0; r < 4; r++) {
              const int64_t t = tb + r;
              const int valid = t < t1;
              o[r] = valid ? out + t * q_stride + h * head_dim : NULL;
              qs[r] = valid ? q + t * q_stride + h * head_dim : NULL;
              counts[r] = valid ? key_count[t] : 0;
              lse_ptr[r] = valid && lse ? lse + t * heads + h : &dummy_lse[r];
              if (valid && counts[r] == 0) {
                for (int64_t d = 0; d < head_dim; d++) o[r][d] = 0.0f;
                *lse_ptr[r] = -INFINITY;
              }
            }
            attend_transposed4(o, lse_ptr, p, max_count, qs, counts, kt, vt, span, head_dim, scale, zeros);
          }
      } else {
#ifdef __AVX512F__
        if (head_dim % 16 == 0) {
          for (int64_t t = t0; t < t1; t++) {
            const int64_t h0 = g * group;
            float *o = out + t * q_stride + h0 * head_dim;
            if (key_count[t] > 0)
              attend_heads_rows(o, lse ? lse + t * heads + h0 : NULL, q + t * q_stride + h0 * head_dim, kg, vg,
                                kv_stride, key_count[t], group, head_dim, scale, pg, pg + group * (max_count + 16));
            else
              for (int64_t i = 0; i < group * head_dim; i++) o[i] = 0.0f;
            if (key_count[t] == 0 && lse)
              for (int64_t h = h0; h < h0 + group; h++) lse[t * heads + h] = -INFINITY;
          }
          continue;
        }
#endif
        for (int64_t t = t0; t < t1; t++)
          for (int64_t h = g * group; h < (g + 1) * group; h++) {
            float *o = out + t * q_stride + h * head_dim;
            const float l = key_count[t] > 0 ? attend_rows(o, p, q + t * q_stride + h * head_dim, kg, vg, kv_stride, key_count[t], head_dim, scale) : -INFINITY;
            if (key_count[t] == 0)
              for (int64_t d = 0; d < head_dim; d++) o[d] = 0.0f;
            if (lse) lse[t * heads + h] = l;
          }
      }
    }
    free(p);
    free(zeros);
    free(kt);
    free(vt);
    free(pg);
  }
  free(item_start);
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                        const float *q, const float *k, const float *v, const int32_t *seq_start, int64_t seqs,
                        int64_t heads, int64_t kv_heads, int64_t head_dim, float scale) {
  const int64_t group = heads / kv_heads;
  const int64_t q_stride = heads * head_dim, kv_stride = kv_heads * head_dim;
  const int64_t tokens = seq_start[seqs];
  int64_t max_len = 1;
  for (int64_t s = 0; s < seqs; s++) {
    const int64_t len = seq_start[s + 1] - seq_start[s];
    max_len = len > max_len ? len : max_len;
  }
  /* delta[t,h] = dout·out, the softmax-backward row term Σ_j p_j dp_j */
  float *delta = malloc(sizeof(float) * (size_t)(tokens * heads > 0 ? tokens * heads : 1));
#pragma omp parallel for schedule(static) if (tokens * q_stride > SEAL_OMP_MIN_WORK)
  for (int64_t item = 0; item < tokens * heads; item++)
    delta[item] = dot(dout + item * head_dim, out + item * head_dim, head_dim);

#pragma omp parallel if (tokens * max_len * q_stride > SEAL_OMP_MIN_WORK)
  {
    const size_t plane = sizeof(float) * (size_t)(head_dim * max_len);
    float *kt = malloc(plane), *vt = malloc(plane), *dkt = malloc(plane), *dvt = malloc(plane);
    float *p = malloc(sizeof(float) * (size_t)(4 * max_len)), *ds = malloc(sizeof(float) * (size_t)(4 * max_len));
    /* stand-ins for the missing rows of a last, partial block: zero inputs, a write-only dq */
    float *zeros = calloc((size_t)head_dim, sizeof(float)), *scratch = malloc(sizeof(float) * (size_t)head_dim);
#pragma omp for schedule(dynamic, 1)
    for (int64_t item = 0; item < seqs * kv_heads; item++) {
      const int64_t s = item / kv_heads, g = item % kv_heads;
      const int64_t start = seq_start[s], len = seq_start[s + 1] - start;
      for (int64_t j = 0; j < len; j++)
        for (int64_t d = 0; d < head_dim; d++) {
          kt[d * len + j] = k[(start + j) * kv_stride + g * head_dim + d];
          vt[d * len + j] = v[(start + j) * kv_stride + g * head_dim + d];
        }
      memset(dkt, 0, sizeof(float) * (size_t)(head_dim * len));
      memset(dvt, 0, sizeof(float) * (size_t)(head_dim * len));
      /* query rows in blocks of 4: every key/value column loaded from L2 serves four rows */
      for (int64_t h = g * group; h < (g + 1) * group; h++) {
        for (int64_t i0 = 0; i0 < len; i0 += 4) {
          const int64_t rows_here = len - i0 < 4 ? len - i0 : 4, n = i0 + rows_here;
          const float *qr[4], *dor[4];
          float *dqr[4], lse_r[4], delta_r[4];
          for (int r = 0; r < 4; r++) {
            const int valid = r < rows_here;
            const int64_t t = start + i0 + (valid ? r : 0);
            qr[r] = valid ? q + t * q_stride + h * head_dim : zeros;
            dor[r] = valid ? dout + t * q_stride + h * head_dim : zeros;
            dqr[r] = valid ? dq + t * q_stride + h * head_dim : scratch;
            lse_r[r] = valid ? lse[t * heads + h] : 0.0f;
            delta_r[r] = valid ? delta[t * heads + h] : 0.0f;
          }
          float *p0 = p, *p1 = p + max_len, *p2 = p + 2 * max_len, *p3 = p + 3 * max_len;
          float *s0 = ds, *s1 = ds + max_len, *s2 = ds + 2 * max_len, *s3 = ds + 3 * max_len;
          for (int64_t j = 0; j < n; j++) p0[j] = p1[j] = p2[j] = p3[j] = s0[j] = s1[j] = s2[j] = s3[j] = 0.0f;
          for (int64_t d = 0; d < head_dim; d++) {
            const float *krow = kt + d * len, *vrow = vt + d * len;
            const float q0 = qr[0][d], q1 = qr[1][d], q2 = qr[2][d], q3 = qr[3][d];
            const float o0 = dor[0][d], o1 = dor[1][d], o2 = dor[2][d], o3 = dor[3][d];
#pragma omp simd
            for (int64_t j = 0; j < n; j++) {
              const float kj = krow[j], vj = vrow[j];
              p0[j] += q0 * kj, p1[j] += q1 * kj, p2[j] += q2 * kj, p3[j] += q3 * kj;
              s0[j] += o0 * vj, s1[j] += o1 * vj, s2[j] += o2 * vj, s3[j] += o3 * vj; /* dp = dout·v */
            }
          }
          for (int r = 0; r < 4; r++) {
            float *pr = p + r * max_len, *sr = ds + r * max_len;
            const int64_t last = r < rows_here ? i0 + r : -1; /* causal: keys 0..last */
            const float l = lse_r[r], dl = delta_r[r];
#pragma omp simd
            for (int64_t j = 0; j < n; j++) {
              const float e = seal_expf(pr[j] * scale - l);
              pr[j] = j <= last ? e : 0.0f;
              sr[j] = pr[j] * (sr[j] - dl) * scale;
            }
          }
          for (int64_t d = 0; d < head_dim; d++) {
            const float *krow = kt + d * len;
            float *dkrow = dkt + d * len, *dvrow = dvt + d * len;
            const float q0 = qr[0][d], q1 = qr[1][d], q2 = qr[2][d], q3 = qr[3][d];
            const float o0 = dor[0][d], o1 = dor[1][d], o2 = dor[2][d], o3 = dor[3][d];
            float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
            for (int64_t j = 0; j < n; j++) {
              const float kj = krow[j];
              a0 += s0[j] * kj, a1 += s1[j] * kj, a2 += s2[j] * kj, a3 += s3[j] * kj;
              dkrow[j] += s0[j] * q0 + s1[j] * q1 + s2[j] * q2 + s3[j] * q3;
              dvrow[j] += p0[j] * o0 + p1[j] * o1 + p2[j] * o2 + p3[j] * o3;
            }
            dqr[0][d] = a0, dqr[1][d] = a1, dqr[2][d] = a2, dqr[3][d] = a3;
          }
        }
      }
      for (int64_t j = 0; j < len; j++)
        for (int64_t d = 0; d < head_dim; d++) {
          dk[(start + j) * kv_stride + g * head_dim + d] = dkt[d * len + j];
          dv[(start + j) * kv_stride + g * head_dim + d] = dvt[d * len + j];
        }
    }
    free(kt);
    free(vt);
    free(dkt);
    free(dvt);
    free(p);
    free(ds);
    free(zeros);
    free(scratch);
  }
  free(delta);
}
