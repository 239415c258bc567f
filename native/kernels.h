/*
 * Compute kernels of the seal engine. Flat row-major float32 buffers, no model knowledge.
 * Each forward has its backward beside it (llm.c style); the JS side owns every allocation.
 * Threading: OpenMP, the same runtime as Debian's libopenblas-openmp, so BLAS and these kernels share one pool.
 */
#ifndef SEAL_KERNELS_H
#define SEAL_KERNELS_H

/* Below this much work (elements, or multiply-adds) a kernel runs on the calling thread: an OpenMP fork/join costs
 * microseconds, more than the work itself, and a small model's training step makes hundreds of such calls. */
#define SEAL_OMP_MIN_WORK 32768
#include <stdint.h>

/* RMSNorm (HF LlamaRMSNorm / Qwen2RMSNorm): y = w * x / sqrt(mean(x^2) + eps), statistics in float. */
void rmsnorm_forward(float *out, float *rstd, const float *x, const float *weight, int64_t rows, int64_t dim, float eps);
/* dx += ∂L/∂x; dweight += ∂L/∂w when dweight is not NULL. */
void rmsnorm_backward(float *dx, float *dweight, const float *dout, const float *x, const float *weight,
                      const float *rstd, int64_t rows, int64_t dim);

/*
 * RoPE in HF's rotate-half layout: for each head, pairs (i, i + dim/2) rotate by angle pos * inv_freq[i].
 * cos/sin tables are [max_pos, head_dim/2]; direction -1 applies the inverse rotation (the backward).
 */
void rope_apply(float *x, const int32_t *positions, const float *cos_table, const float *sin_table, int64_t tokens,
                int64_t heads, int64_t head_dim, int direction);

/*
 * Causal grouped-query attention over variable-length key ranges.
 * q/out: [tokens, heads*head_dim]; k/v: rows of [kv_heads*head_dim]. Token t attends key rows
 * key_base[t] .. key_base[t]+key_count[t]-1. Query head h reads kv head h / (heads / kv_heads) (HF repeat_kv).
 * lse (optional, [tokens*heads]) keeps the log-sum-exp for the backward.
 */
void attention_forward(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *key_base,
                       const int32_t *key_count, int64_t tokens, int64_t heads, int64_t kv_heads, int64_t head_dim,
                       float scale);
/*
 * Backward of attention_forward for packed causal sequences: sequence s owns tokens (and key rows)
 * seq_start[s] .. seq_start[s+1]-1. dq, dk, dv are overwritten.
 */
void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                        const float *q, const float *k, const float *v, const int32_t *seq_start, int64_t seqs,
                        int64_t heads, int64_t kv_heads, int64_t head_dim, float scale);

/* SwiGLU (HF LlamaMLP): out = silu(gate) * up. Backward overwrites dgate, dup. */
void swiglu_forward(float *out, const float *gate, const float *up, int64_t n);
void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n);

/*
 * Cross-entropy over rows of logits with integer targets (target < 0: row ignored, loss 0).
 * losses[r] = logsumexp(row) - row[target]. If grad_scale != 0 the logits are overwritten by
 * grad_scale * (softmax(row) - onehot(target)) (zero for ignored rows).
 */
void cross_entropy(float *logits, float *losses, const int32_t *targets, int64_t rows, int64_t vocab, float grad_scale);

/* PyTorch AdamW (decoupled weight decay); step is 1-based. */
void adamw_step(float *param, const float *grad, float *m, float *v, int64_t n, float lr, double beta1, double beta2,
                float eps, float weight_decay, int64_t step);

/* out[t] = table[ids[t]] / dtable[ids[t]] += dout[t]. */
void embedding_forward(float *out, const float *table, const int32_t *ids, int64_t tokens, int64_t dim);
void embedding_backward(float *dtable, const float *dout, const int32_t *ids, int64_t tokens, int64_t dim);

/* x[r] += bias; dbias += sum over rows of dout. */
void bias_forward(float *x, const float *bias, int64_t rows, int64_t dim);
void bias_backward(float *dbias, const float *dout, int64_t rows, int64_t dim);

/* Inverted dropout with a counter-based generator: out = x * keep / (1 - p); mask gets keep/(1-p) or 0. */
void dropout_forward(float *out, float *mask, const float *x, int64_t n, float p, uint64_t seed);

/*
 * A parallel loop over chunks 0..chunks-1 on seal's own thread pool (native/thread_pool.c), for the decode step's
 * many short loops: the caller waits only for chunks another thread has claimed, never for a thread that is not
 * running. The caller takes chunks in ascending order, the other threads in descending order (from_back = 1), so
 * a task may prefetch its thread's next chunk. Runs on the caller alone inside a pool task, an OpenMP region, or while another thread uses the pool.
 */
typedef void (*seal_pool_task)(void *ctx, int64_t chunk, int from_back);
void seal_pool_for(int64_t chunks, seal_pool_task task, void *ctx);

/* out[M,N] = x[M,K]·W[N,K]ᵀ for small M (decode): reads W once, no packing. */
void matmul_small_m(float *out, const float *x, const float *w, int64_t m, int64_t n, int64_t k);

/*
 * LoRA on row segments (many adapters in one pass): segment s covers rows [start, start + rows) and adds
 * scale·(x·Aᵀ)·Bᵀ to them. hidden ([rows, rank], the segment's own block) is written by the forward and read by
 * the backward, which accumulates into ga/gb (distinct per segment; overwrite: writes them instead, for the first
 * contribution of an optimizer step, so they need no zeroing pass) and writes or adds dHidden·A into dx.
 */
typedef struct {
  const float *a, *b;
  float *ga, *gb;
  float *hidden, *dhidden;
  int64_t start, rows, rank;
  float scale;
  int overwrite;
} LoraSegment;
void lora_forward_segments(float *out, const float *x, const LoraSegment *segs, int64_t nseg, int64_t in_dim,
                           int64_t out_dim);
void lora_backward_segments(float *dx, int accumulate, const float *dout, const float *x, const LoraSegment *segs,
                            int64_t nseg, int64_t in_dim, int64_t out_dim);

/* Elementwise helpers. */
void vec_add(float *a, const float *b, int64_t n);            /* a += b */
void vec_axpy(float *a, const float *b, float alpha, int64_t n); /* a += alpha * b */
void vec_scale(float *a, float alpha, int64_t n);             /* a *= alpha */
void vec_mul(float *a, const float *b, int64_t n);            /* a *= b */
double vec_sum_squares(const float *a, int64_t n);
float vec_sum(const float *a, int64_t n); /* streaming read; float accumulation */

/* Lowest index of the largest logit; -1 when any entry is NaN, -2 when none is above -Infinity (or n is 0).
 * *finite_count gets the number of entries above -Infinity. */
int64_t logits_scan(const float *x, int64_t n, int64_t *finite_count);
/* out[M,N] (+)= a[M,K]·w[K,N] for small M (a linear layer's dx = dout·W on short sequences): reads w in place, no
 * packing. accumulate = 0 overwrites out. */
void matmul_nn_small_m(float *out, const float *a, const float *w, int64_t m, int64_t n, int64_t k, int accumulate);
/* out[M,N] = x[M,K]·w[N,K]ᵀ for tens to hundreds of rows (a training forward): w transposed in L1-sized chunks. */
void matmul_nt_small_m(float *out, const float *x, const float *w, int64_t m, int64_t n, int64_t k);
/* 1 when the two above were built with AVX-512 (otherwise they are plain loops, slower than sgemm). */
int smallm_train_vectorized(void);

#endif
