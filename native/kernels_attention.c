/* Causal grouped-query attention, forward (online softmax) and backward (probabilities recomputed from lse). */
#include <math.h>
#include <stdlib.h>
#include "fast_exp.h"
#include "kernels.h"

static inline float dot(const float *a, const float *b, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

void attention_forward(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *key_base,
                       const int32_t *key_count, int64_t tokens, int64_t heads, int64_t kv_heads, int64_t head_dim,
                       float scale) {
  const int64_t group = heads / kv_heads;
  const int64_t q_stride = heads * head_dim, kv_stride = kv_heads * head_dim;
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t item = 0; item < tokens * heads; item++) {
    const int64_t t = item / heads, h = item % heads;
    const float *qv = q + t * q_stride + h * head_dim;
    const int64_t kv_off = (h / group) * head_dim;
    float *o = out + t * q_stride + h * head_dim;
    for (int64_t d = 0; d < head_dim; d++) o[d] = 0.0f;
    float running_max = -INFINITY, running_sum = 0.0f;
    const int64_t base = key_base[t], count = key_count[t];
    for (int64_t j = 0; j < count; j++) {
      const float *kj = k + (base + j) * kv_stride + kv_off;
      const float *vj = v + (base + j) * kv_stride + kv_off;
      const float s = dot(qv, kj, head_dim) * scale;
      if (s > running_max) {
        /* rescale what was accumulated under the old maximum */
        const float correction = seal_expf(running_max - s);
        running_sum *= correction;
#pragma omp simd
        for (int64_t d = 0; d < head_dim; d++) o[d] *= correction;
        running_max = s;
      }
      const float p = seal_expf(s - running_max);
      running_sum += p;
#pragma omp simd
      for (int64_t d = 0; d < head_dim; d++) o[d] += p * vj[d];
    }
    const float inv = running_sum > 0.0f ? 1.0f / running_sum : 0.0f;
#pragma omp simd
    for (int64_t d = 0; d < head_dim; d++) o[d] *= inv;
    if (lse) lse[item] = running_sum > 0.0f ? running_max + logf(running_sum) : -INFINITY;
  }
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                        const float *q, const float *k, const float *v, const int32_t *seq_start, int64_t seqs,
                        int64_t heads, int64_t kv_heads, int64_t head_dim, float scale) {
  const int64_t group = heads / kv_heads;
  const int64_t kv_stride = kv_heads * head_dim;
  const int64_t tokens = seq_start[seqs];
  /* delta[t,h] = dout·out: the softmax-backward row term Σ_j p_j dp_j */
  float *delta = malloc(sizeof(float) * (size_t)(tokens * heads));
  int32_t *seq_of = malloc(sizeof(int32_t) * (size_t)(tokens > 0 ? tokens : 1));
  for (int64_t s = 0; s < seqs; s++)
    for (int64_t t = seq_start[s]; t < seq_start[s + 1]; t++) seq_of[t] = (int32_t)s;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < tokens * heads; item++)
    delta[item] = dot(dout + item * head_dim, out + item * head_dim, head_dim);

  /* pass 1: dq, one (token, head) per item */
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t item = 0; item < tokens * heads; item++) {
    const int64_t t = item / heads, h = item % heads;
    const int64_t start = seq_start[seq_of[t]];
    const int64_t kv_off = (h / group) * head_dim;
    const float *qv = q + item * head_dim, *dov = dout + item * head_dim;
    float *dqv = dq + item * head_dim;
    for (int64_t d = 0; d < head_dim; d++) dqv[d] = 0.0f;
    for (int64_t j = start; j <= t; j++) {
      const float *kj = k + j * kv_stride + kv_off, *vj = v + j * kv_stride + kv_off;
      const float p = seal_expf(dot(qv, kj, head_dim) * scale - lse[item]);
      const float ds = p * (dot(dov, vj, head_dim) - delta[item]) * scale;
#pragma omp simd
      for (int64_t d = 0; d < head_dim; d++) dqv[d] += ds * kj[d];
    }
  }

  /* pass 2: dk, dv, one (key row, kv head) per item; sums over the later queries of the group */
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t item = 0; item < tokens * kv_heads; item++) {
    const int64_t j = item / kv_heads, g = item % kv_heads;
    const int64_t end = seq_start[seq_of[j] + 1];
    const float *kj = k + j * kv_stride + g * head_dim, *vj = v + j * kv_stride + g * head_dim;
    float *dkj = dk + j * kv_stride + g * head_dim, *dvj = dv + j * kv_stride + g * head_dim;
    for (int64_t d = 0; d < head_dim; d++) dkj[d] = dvj[d] = 0.0f;
    for (int64_t t = j; t < end; t++) {
      for (int64_t h = g * group; h < (g + 1) * group; h++) {
        const int64_t row = t * heads + h;
        const float *qv = q + row * head_dim, *dov = dout + row * head_dim;
        const float p = seal_expf(dot(qv, kj, head_dim) * scale - lse[row]);
        const float ds = p * (dot(dov, vj, head_dim) - delta[row]) * scale;
#pragma omp simd
        for (int64_t d = 0; d < head_dim; d++) {
          dkj[d] += ds * qv[d];
          dvj[d] += p * dov[d];
        }
      }
    }
  }
  free(delta);
  free(seq_of);
}
