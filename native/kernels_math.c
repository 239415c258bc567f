/* Row-wise and elementwise kernels: RMSNorm, RoPE, SwiGLU, cross-entropy, AdamW, embeddings, bias, dropout. */
#include <math.h>
#include "fast_exp.h"
#include "kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif

void rmsnorm_forward(float *out, float *rstd, const float *x, const float *weight, int64_t rows, int64_t dim,
                     float eps) {
#pragma omp parallel for schedule(static) if (rows * dim > SEAL_OMP_MIN_WORK)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * dim;
    float *yr = out + r * dim;
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < dim; i++) sum += (double)xr[i] * xr[i];
    const float s = (float)(1.0 / sqrt(sum / (double)dim + (double)eps));
    if (rstd) rstd[r] = s;
#pragma omp simd
    for (int64_t i = 0; i < dim; i++) yr[i] = weight[i] * (xr[i] * s);
  }
}

void rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x, const float *weight,
                      const float *rstd, int64_t rows, int64_t dim) {
#pragma omp parallel for schedule(static) if (rows * dim > SEAL_OMP_MIN_WORK)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * dim, *dr = dout + r * dim;
    float *dxr = dx + r * dim;
    const float s = rstd[r];
    double proj = 0.0; /* Σ w·dout·x */
#pragma omp simd reduction(+ : proj)
    for (int64_t i = 0; i < dim; i++) proj += (double)weight[i] * dr[i] * xr[i];
    const float c = (float)(proj * s * s * s / (double)dim);
#pragma omp simd
    for (int64_t i = 0; i < dim; i++) dxr[i] += s * weight[i] * dr[i] - c * xr[i];
  }
  if (!dweight) return;
  /* column sums: split columns across threads so no two threads write the same dweight entry */
#pragma omp parallel for schedule(static) if (rows * dim > SEAL_OMP_MIN_WORK)
  for (int64_t i = 0; i < dim; i++) {
    double acc = 0.0;
    for (int64_t r = 0; r < rows; r++) acc += (double)dout[r * dim + i] * x[r * dim + i] * rstd[r];
    dweight[i] += (float)acc;
  }
}

void rope_apply(float *x, const int32_t *positions, const float *cos_table, const float *sin_table, int64_t tokens,
                int64_t heads, int64_t head_dim, int direction) {
  const int64_t half = head_dim / 2;
#pragma omp parallel for schedule(static) if (tokens * heads * head_dim > SEAL_OMP_MIN_WORK)
  for (int64_t t = 0; t < tokens; t++) {
    const float *c = cos_table + (int64_t)positions[t] * half;
    const float *s = sin_table + (int64_t)positions[t] * half;
    for (int64_t h = 0; h < heads; h++) {
      float *x1 = x + (t * heads + h) * head_dim, *x2 = x1 + half;
#pragma omp simd
      for (int64_t i = 0; i < half; i++) {
        const float sn = direction < 0 ? -s[i] : s[i];
        const float a = x1[i], b = x2[i];
        x1[i] = a * c[i] - b * sn; /* rotate_half(x) = cat(-x2, x1) */
        x2[i] = b * c[i] + a * sn;
      }
    }
  }
}

void swiglu_forward(float *out, const float *gate, const float *up, int64_t n) {
  /* a decode step's 16 × 4864 elements take ~40 µs on one thread; a fork/join on a shared machine took 0.5 ms */
#pragma omp parallel for simd schedule(static) if (parallel: n > 8 * SEAL_OMP_MIN_WORK)
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i];
    out[i] = g / (1.0f + seal_expf(-g)) * up[i];
  }
}

void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n) {
#pragma omp parallel for simd schedule(static) if (parallel: n > SEAL_OMP_MIN_WORK)
  for (int64_t i = 0; i < n; i++) {
    const float g = gate[i], sig = 1.0f / (1.0f + seal_expf(-g));
    const float silu = g * sig;
    dup[i] = dout[i] * silu;
    dgate[i] = dout[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
  }
}

void cross_entropy(float *logits, float *losses, const int32_t *targets, int64_t rows, int64_t vocab,
                   float grad_scale) {
#pragma omp parallel for schedule(dynamic, 1) if (rows * vocab > SEAL_OMP_MIN_WORK)
  for (int64_t r = 0; r < rows; r++) {
    float *row = logits + r * vocab;
    const int32_t target = targets[r];
    if (target < 0) {
      losses[r] = 0.0f;
      if (grad_scale != 0.0f)
        for (int64_t i = 0; i < vocab; i++) row[i] = 0.0f;
      continue;
    }
    float max = -INFINITY;
#pragma omp simd reduction(max : max)
    for (int64_t i = 0; i < vocab; i++) max = row[i] > max ? row[i] : max;
    /* float lanes within blocks of 4096 (vectorizes cleanly), blocks summed in double */
    double sum = 0.0;
    for (int64_t b = 0; b < vocab; b += 4096) {
      const int64_t end = b + 4096 < vocab ? b + 4096 : vocab;
      float partial = 0.0f;
#pragma omp simd reduction(+ : partial)
      for (int64_t i = b; i < end; i++) partial += seal_expf(row[i] - max);
      sum += partial;
    }
    const float log_sum = (float)log(sum);
    losses[r] = max + log_sum - row[target];
    if (grad_scale != 0.0f) {
      const float shift = max + log_sum;
#pragma omp simd
      for (int64_t i = 0; i < vocab; i++) row[i] = grad_scale * seal_expf(row[i] - shift);
      row[target] -= grad_scale;
    }
  }
}

void adamw_step(float *param, const float *grad, float *m, float *v, int64_t n, float lr, double beta1, double beta2,
                float eps, float weight_decay, int64_t step) {
  /* torch.optim.AdamW: p ← p(1 − lr·wd); m̂ = m/(1−β1^t); v̂ = v/(1−β2^t); p ← p − lr·m̂/(√v̂ + ε).
   * 1−β is formed in double, as PyTorch does (1 − fround(0.999) would be off by 1.3e-5 relative). */
  const float b1 = (float)beta1, b2 = (float)beta2, c1 = (float)(1.0 - beta1), c2 = (float)(1.0 - beta2);
  const float bias1 = (float)(1.0 - pow(beta1, (double)step));
  const float bias2_sqrt = (float)sqrt(1.0 - pow(beta2, (double)step));
  const float step_size = lr / bias1, decay = 1.0f - lr * weight_decay;
#pragma omp parallel for simd schedule(static) if (parallel: n > SEAL_OMP_MIN_WORK)
  for (int64_t i = 0; i < n; i++) {
    const float g = grad[i];
    m[i] = b1 * m[i] + c1 * g;
    v[i] = b2 * v[i] + c2 * g * g;
    param[i] = param[i] * decay - step_size * m[i] / (sqrtf(v[i]) / bias2_sqrt + eps);
  }
}

void embedding_forward(float *out, const float *table, const int32_t *ids, int64_t tokens, int64_t dim) {
#pragma omp parallel for schedule(static) if (tokens * dim > SEAL_OMP_MIN_WORK)
  for (int64_t t = 0; t < tokens; t++) {
    const float *src = table + (int64_t)ids[t] * dim;
    float *dst = out + t * dim;
    for (int64_t i = 0; i < dim; i++) dst[i] = src[i];
  }
}

void embedding_backward(float *dtable, const float *dout, const int32_t *ids, int64_t tokens, int64_t dim) {
  /* threads own column ranges, so repeated ids never race */
#pragma omp parallel if (tokens * dim > SEAL_OMP_MIN_WORK)
  {
#ifdef _OPENMP
    const int64_t nth = omp_get_num_threads(), me = omp_get_thread_num();
#else
    const int64_t nth = 1, me = 0;
#endif
    const int64_t lo = dim * me / nth, hi = dim * (me + 1) / nth;
    for (int64_t t = 0; t < tokens; t++) {
      float *dst = dtable + (int64_t)ids[t] * dim;
      const float *src = dout + t * dim;
      for (int64_t i = lo; i < hi; i++) dst[i] += src[i];
    }
  }
}

void bias_forward(float *x, const float *bias, int64_t rows, int64_t dim) {
#pragma omp parallel for schedule(static) if (rows * dim > SEAL_OMP_MIN_WORK)
  for (int64_t r = 0; r < rows; r++) {
    float *xr = x + r * dim;
#pragma omp simd
    for (int64_t i = 0; i < dim; i++) xr[i] += bias[i];
  }
}

void bias_backward(float *dbias, const float *dout, int64_t rows, int64_t dim) {
#pragma omp parallel for schedule(static) if (rows * dim > SEAL_OMP_MIN_WORK)
  for (int64_t i = 0; i < dim; i++) {
    double acc = 0.0;
    for (int64_t r = 0; r < rows; r++) acc += dout[r * dim + i];
    dbias[i] += (float)acc;
  }
}

static inline uint64_t mix64(uint64_t z) {
  /* splitmix64 finalizer: a counter-based generator, so threads need no shared state */
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void dropout_forward(float *out, float *mask, const float *x, int64_t n, float p, uint64_t seed) {
  const float keep_scale = 1.0f / (1.0f - p);
  const uint64_t key = mix64(seed);
#pragma omp parallel for schedule(static) if (n > SEAL_OMP_MIN_WORK)
  for (int64_t i = 0; i < n; i++) {
    const double u = (double)(mix64(key ^ (uint64_t)i) >> 11) * (1.0 / 9007199254740992.0);
    const float scale = u < (double)p ? 0.0f : keep_scale;
    mask[i] = scale;
    out[i] = x[i] * scale;
  }
}

void vec_add(float *a, const float *b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (parallel: n > 65536)
  for (int64_t i = 0; i < n; i++) a[i] += b[i];
}

void vec_axpy(float *a, const float *b, float alpha, int64_t n) {
#pragma omp parallel for simd schedule(static) if (parallel: n > 65536)
  for (int64_t i = 0; i < n; i++) a[i] += alpha * b[i];
}

void vec_scale(float *a, float alpha, int64_t n) {
#pragma omp parallel for simd schedule(static) if (parallel: n > 65536)
  for (int64_t i = 0; i < n; i++) a[i] *= alpha;
}

void vec_mul(float *a, const float *b, int64_t n) {
#pragma omp parallel for simd schedule(static) if (parallel: n > 65536)
  for (int64_t i = 0; i < n; i++) a[i] *= b[i];
}

float vec_sum(const float *a, int64_t n) {
  /* float lanes (vectorizable without -ffast-math via the simd reduction): a streaming read, used to measure
   * memory bandwidth; not meant for precise sums */
  float sum = 0.0f;
#pragma omp parallel for simd reduction(+ : sum) schedule(static) if (parallel: n > 65536)
  for (int64_t i = 0; i < n; i++) sum += a[i];
  return sum;
}

double vec_sum_squares(const float *a, int64_t n) {
  /* float lanes within blocks of 4096, blocks summed in double: vectorizes and stays accurate */
  double sum = 0.0;
#pragma omp parallel for reduction(+ : sum) schedule(static) if (n > 65536)
  for (int64_t b = 0; b < n; b += 4096) {
    const int64_t end = b + 4096 < n ? b + 4096 : n;
    float partial = 0.0f;
#pragma omp simd reduction(+ : partial)
    for (int64_t i = b; i < end; i++) partial += a[i] * a[i];
    sum += partial;
  }
  return sum;
}
