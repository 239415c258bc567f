/*
 * N-API glue: validates every argument (types and buffer extents) so a wrong call from JS throws a TypeError
 * or RangeError instead of corrupting memory, then calls the kernel.
 */
#include <cblas.h>
#include <node_api.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Declared by OpenBLAS; used for diagnostics only. */
extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);

#define MAX_ARGS 16
typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  int failed;
} Args;

static int fail(Args *a, const char *code, const char *message) {
  if (!a->failed) napi_throw_range_error(a->env, code, message);
  a->failed = 1;
  return 0;
}

static int load_args(Args *a, napi_env env, napi_callback_info info, size_t expected, const char *fn) {
  a->env = env;
  a->argc = MAX_ARGS;
  a->failed = 0;
  napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL);
  if (a->argc != expected) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s expects %zu arguments, got %zu", fn, expected, a->argc);
    napi_throw_type_error(env, NULL, msg);
    a->failed = 1;
    return 0;
  }
  return 1;
}

/* A typed array of the given type holding at least `need` elements (NULL allowed when optional). */
/* `need` is a double so that products of dimensions cannot wrap around before the comparison. */
static void *typed(Args *a, size_t i, napi_typedarray_type want, double need, int optional, const char *name) {
  if (a->failed) return NULL;
  napi_valuetype vt;
  napi_typeof(a->env, a->argv[i], &vt);
  if (optional && (vt == napi_null || vt == napi_undefined)) return NULL;
  bool is_typed = false;
  napi_is_typedarray(a->env, a->argv[i], &is_typed);
  char msg[200];
  if (!is_typed) {
    snprintf(msg, sizeof msg, "argument %s must be a %s", name, want == napi_float32_array ? "Float32Array" : "Int32Array");
    napi_throw_type_error(a->env, NULL, msg);
    a->failed = 1;
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, NULL, NULL);
  if (type != want) {
    snprintf(msg, sizeof msg, "argument %s must be a %s", name, want == napi_float32_array ? "Float32Array" : "Int32Array");
    napi_throw_type_error(a->env, NULL, msg);
    a->failed = 1;
    return NULL;
  }
  if (need < 0 || (double)length < need) {
    snprintf(msg, sizeof msg, "argument %s has %zu elements, needs %.0f", name, length, need);
    fail(a, "ERR_SEAL_EXTENT", msg);
    return NULL;
  }
  return data;
}

static float *f32(Args *a, size_t i, double need, const char *name) {
  return typed(a, i, napi_float32_array, need, 0, name);
}
static float *f32_opt(Args *a, size_t i, double need, const char *name) {
  return typed(a, i, napi_float32_array, need, 1, name);
}
static int32_t *i32(Args *a, size_t i, double need, const char *name) {
  return typed(a, i, napi_int32_array, need, 0, name);
}

static int64_t length_of(Args *a, size_t i) {
  size_t length = 0;
  bool is_typed = false;
  if (a->failed) return 0;
  napi_is_typedarray(a->env, a->argv[i], &is_typed);
  if (is_typed) napi_get_typedarray_info(a->env, a->argv[i], NULL, &length, NULL, NULL, NULL);
  return (int64_t)length;
}

static double number(Args *a, size_t i, const char *name) {
  double value = 0;
  if (a->failed) return 0;
  if (napi_get_value_double(a->env, a->argv[i], &value) != napi_ok) {
    char msg[120];
    snprintf(msg, sizeof msg, "argument %s must be a number", name);
    napi_throw_type_error(a->env, NULL, msg);
    a->failed = 1;
  }
  return value;
}

/* A non-negative integer dimension. */
static int64_t dim(Args *a, size_t i, const char *name) {
  double value = number(a, i, name);
  if (!a->failed && (value < 0 || value > 2147483647.0 || value != (double)(int64_t)value)) {
    char msg[120];
    snprintf(msg, sizeof msg, "argument %s must be an integer in [0, 2^31), got %g", name, value);
    fail(a, "ERR_SEAL_DIM", msg);
  }
  return (int64_t)value;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): row-major C = αA'B' + βC */
static napi_value js_sgemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 13, "sgemm")) return NULL;
  bool ta = false, tb = false;
  napi_get_value_bool(env, a.argv[0], &ta);
  napi_get_value_bool(env, a.argv[1], &tb);
  int64_t M = dim(&a, 2, "M"), N = dim(&a, 3, "N"), K = dim(&a, 4, "K");
  float alpha = (float)number(&a, 5, "alpha");
  int64_t lda = dim(&a, 7, "lda"), ldb = dim(&a, 9, "ldb"), ldc = dim(&a, 12, "ldc");
  float beta = (float)number(&a, 10, "beta");
  /* row-major extents: A is M×K (or K×M when transposed), B is K×N (or N×K) */
  int64_t a_rows = ta ? K : M, a_cols = ta ? M : K, b_rows = tb ? N : K, b_cols = tb ? K : N;
  if (!a.failed && (lda < (a_cols > 1 ? a_cols : 1) || ldb < (b_cols > 1 ? b_cols : 1) || ldc < (N > 1 ? N : 1)))
    fail(&a, "ERR_SEAL_DIM", "sgemm leading dimension smaller than the row length");
  float *A = f32(&a, 6, a_rows ? (a_rows - 1) * lda + a_cols : 0, "A");
  float *B = f32(&a, 8, b_rows ? (b_rows - 1) * ldb + b_cols : 0, "B");
  float *C = f32(&a, 11, M ? (M - 1) * ldc + N : 0, "C");
  if (a.failed) return NULL;
  if (M == 0 || N == 0) return undefined(env);
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
              alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
  return undefined(env);
}

/* matmulSmallM(out, x, w, M, N, K): out[M,N] = x[M,K]·w[N,K]ᵀ */
static napi_value js_matmul_small_m(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 6, "matmulSmallM")) return NULL;
  int64_t m = dim(&a, 3, "M"), n = dim(&a, 4, "N"), k = dim(&a, 5, "K");
  float *out = f32(&a, 0, (double)m * n, "out"), *x = f32(&a, 1, (double)m * k, "x"), *w = f32(&a, 2, (double)n * k, "w");
  if (a.failed) return NULL;
  matmul_small_m(out, x, w, m, n, k);
  return undefined(env);
}

static napi_value js_rmsnorm_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 7, "rmsnormForward")) return NULL;
  int64_t rows = dim(&a, 4, "rows"), d = dim(&a, 5, "dim");
  float eps = (float)number(&a, 6, "eps");
  float *out = f32(&a, 0, rows * d, "out"), *rstd = f32_opt(&a, 1, rows, "rstd");
  float *x = f32(&a, 2, rows * d, "x"), *w = f32(&a, 3, d, "weight");
  if (a.failed) return NULL;
  rmsnorm_forward(out, rstd, x, w, rows, d, eps);
  return undefined(env);
}

static napi_value js_rmsnorm_backward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 8, "rmsnormBackward")) return NULL;
  int64_t rows = dim(&a, 6, "rows"), d = dim(&a, 7, "dim");
  float *dx = f32(&a, 0, rows * d, "dx"), *dw = f32_opt(&a, 1, d, "dweight");
  float *dout = f32(&a, 2, rows * d, "dout"), *x = f32(&a, 3, rows * d, "x");
  float *w = f32(&a, 4, d, "weight"), *rstd = f32(&a, 5, rows, "rstd");
  if (a.failed) return NULL;
  rmsnorm_backward(dx, dw, dout, x, w, rstd, rows, d);
  return undefined(env);
}

static napi_value js_rope_apply(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 8, "ropeApply")) return NULL;
  int64_t tokens = dim(&a, 4, "tokens"), heads = dim(&a, 5, "heads"), hd = dim(&a, 6, "headDim");
  int direction = (int)number(&a, 7, "direction");
  if (!a.failed && hd % 2 != 0) fail(&a, "ERR_SEAL_DIM", "ropeApply: headDim must be even");
  float *x = f32(&a, 0, (double)tokens * heads * hd, "x");
  int32_t *pos = i32(&a, 1, tokens, "positions");
  float *c = f32(&a, 2, 0, "cos"), *s = f32(&a, 3, 0, "sin");
  if (a.failed) return NULL;
  int64_t table_rows = hd ? length_of(&a, 2) / (hd / 2) : 0;
  if (length_of(&a, 3) < length_of(&a, 2)) return fail(&a, "ERR_SEAL_EXTENT", "ropeApply: sin table shorter than cos"), NULL;
  for (int64_t t = 0; t < tokens; t++)
    if (pos[t] < 0 || pos[t] >= table_rows) return fail(&a, "ERR_SEAL_EXTENT", "ropeApply: position outside the cos/sin table"), NULL;
  rope_apply(x, pos, c, s, tokens, heads, hd, direction);
  return undefined(env);
}

static napi_value js_attention_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 12, "attentionForward")) return NULL;
  int64_t tokens = dim(&a, 7, "tokens"), heads = dim(&a, 8, "heads"), kvh = dim(&a, 9, "kvHeads");
  int64_t hd = dim(&a, 10, "headDim");
  float scale = (float)number(&a, 11, "scale");
  if (!a.failed && (kvh == 0 || hd == 0 || heads % kvh != 0))
    fail(&a, "ERR_SEAL_DIM", "attentionForward: need kvHeads > 0, headDim > 0 and heads a multiple of kvHeads");
  float *out = f32(&a, 0, (double)tokens * heads * hd, "out"), *lse = f32_opt(&a, 1, tokens * heads, "lse");
  float *q = f32(&a, 2, (double)tokens * heads * hd, "q"), *k = f32(&a, 3, 0, "k"), *v = f32(&a, 4, 0, "v");
  int32_t *base = i32(&a, 5, tokens, "keyBase"), *count = i32(&a, 6, tokens, "keyCount");
  if (a.failed) return NULL;
  int64_t rows = length_of(&a, 3) / (kvh * hd);
  if (length_of(&a, 4) < rows * kvh * hd) return fail(&a, "ERR_SEAL_EXTENT", "attentionForward: v shorter than k"), NULL;
  for (int64_t t = 0; t < tokens; t++)
    if (base[t] < 0 || count[t] < 0 || (int64_t)base[t] + count[t] > rows)
      return fail(&a, "ERR_SEAL_EXTENT", "attentionForward: key range outside k/v"), NULL;
  attention_forward(out, lse, q, k, v, base, count, tokens, heads, kvh, hd, scale);
  return undefined(env);
}

static napi_value js_attention_backward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 15, "attentionBackward")) return NULL;
  int64_t seqs = dim(&a, 10, "seqs"), heads = dim(&a, 11, "heads"), kvh = dim(&a, 12, "kvHeads");
  int64_t hd = dim(&a, 13, "headDim");
  float scale = (float)number(&a, 14, "scale");
  if (!a.failed && (kvh == 0 || hd == 0 || heads % kvh != 0))
    fail(&a, "ERR_SEAL_DIM", "attentionBackward: need kvHeads > 0, headDim > 0 and heads a multiple of kvHeads");
  int32_t *starts = i32(&a, 9, seqs + 1, "seqStart");
  if (a.failed) return NULL;
  if (starts[0] != 0) return fail(&a, "ERR_SEAL_EXTENT", "attentionBackward: seqStart[0] must be 0"), NULL;
  for (int64_t s = 0; s < seqs; s++)
    if (starts[s + 1] < starts[s]) return fail(&a, "ERR_SEAL_EXTENT", "attentionBackward: seqStart must be non-decreasing"), NULL;
  int64_t tokens = starts[seqs];
  float *dq = f32(&a, 0, (double)tokens * heads * hd, "dq"), *dk = f32(&a, 1, (double)tokens * kvh * hd, "dk");
  float *dv = f32(&a, 2, (double)tokens * kvh * hd, "dv"), *dout = f32(&a, 3, (double)tokens * heads * hd, "dout");
  float *out = f32(&a, 4, (double)tokens * heads * hd, "out"), *lse = f32(&a, 5, tokens * heads, "lse");
  float *q = f32(&a, 6, (double)tokens * heads * hd, "q"), *k = f32(&a, 7, (double)tokens * kvh * hd, "k");
  float *v = f32(&a, 8, (double)tokens * kvh * hd, "v");
  if (a.failed) return NULL;
  attention_backward(dq, dk, dv, dout, out, lse, q, k, v, starts, seqs, heads, kvh, hd, scale);
  return undefined(env);
}

static napi_value js_swiglu_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 4, "swigluForward")) return NULL;
  int64_t n = dim(&a, 3, "n");
  float *out = f32(&a, 0, n, "out"), *g = f32(&a, 1, n, "gate"), *u = f32(&a, 2, n, "up");
  if (a.failed) return NULL;
  swiglu_forward(out, g, u, n);
  return undefined(env);
}

static napi_value js_swiglu_backward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 6, "swigluBackward")) return NULL;
  int64_t n = dim(&a, 5, "n");
  float *dg = f32(&a, 0, n, "dgate"), *du = f32(&a, 1, n, "dup"), *dout = f32(&a, 2, n, "dout");
  float *g = f32(&a, 3, n, "gate"), *u = f32(&a, 4, n, "up");
  if (a.failed) return NULL;
  swiglu_backward(dg, du, dout, g, u, n);
  return undefined(env);
}

static napi_value js_cross_entropy(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 6, "crossEntropy")) return NULL;
  int64_t rows = dim(&a, 3, "rows"), vocab = dim(&a, 4, "vocab");
  float grad_scale = (float)number(&a, 5, "gradScale");
  float *logits = f32(&a, 0, rows * vocab, "logits"), *losses = f32(&a, 1, rows, "losses");
  int32_t *targets = i32(&a, 2, rows, "targets");
  if (a.failed) return NULL;
  for (int64_t r = 0; r < rows; r++)
    if (targets[r] >= vocab) return fail(&a, "ERR_SEAL_EXTENT", "crossEntropy: target id >= vocab"), NULL;
  cross_entropy(logits, losses, targets, rows, vocab, grad_scale);
  return undefined(env);
}

static napi_value js_adamw_step(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 10, "adamwStep")) return NULL;
  int64_t n = length_of(&a, 0);
  float *p = f32(&a, 0, n, "param"), *g = f32(&a, 1, n, "grad"), *m = f32(&a, 2, n, "m"), *v = f32(&a, 3, n, "v");
  float lr = (float)number(&a, 4, "lr");
  double b1 = number(&a, 5, "beta1"), b2 = number(&a, 6, "beta2");
  float eps = (float)number(&a, 7, "eps"), wd = (float)number(&a, 8, "weightDecay");
  int64_t step = dim(&a, 9, "step");
  if (!a.failed && step < 1) fail(&a, "ERR_SEAL_DIM", "adamwStep: step is 1-based");
  if (a.failed) return NULL;
  adamw_step(p, g, m, v, n, lr, b1, b2, eps, wd, step);
  return undefined(env);
}

static int check_ids(Args *a, const int32_t *ids, int64_t tokens, int64_t rows, const char *fn) {
  for (int64_t t = 0; t < tokens; t++)
    if (ids[t] < 0 || ids[t] >= rows) {
      char msg[160];
      snprintf(msg, sizeof msg, "%s: token id %d outside the table of %lld rows", fn, ids[t], (long long)rows);
      return fail(a, "ERR_SEAL_EXTENT", msg);
    }
  return 1;
}

static napi_value js_embedding_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 5, "embeddingForward")) return NULL;
  int64_t tokens = dim(&a, 3, "tokens"), d = dim(&a, 4, "dim");
  float *out = f32(&a, 0, tokens * d, "out"), *table = f32(&a, 1, 0, "table");
  int32_t *ids = i32(&a, 2, tokens, "ids");
  if (a.failed || !d || !check_ids(&a, ids, tokens, length_of(&a, 1) / d, "embeddingForward")) return NULL;
  embedding_forward(out, table, ids, tokens, d);
  return undefined(env);
}

static napi_value js_embedding_backward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 5, "embeddingBackward")) return NULL;
  int64_t tokens = dim(&a, 3, "tokens"), d = dim(&a, 4, "dim");
  float *dtable = f32(&a, 0, 0, "dtable"), *dout = f32(&a, 1, tokens * d, "dout");
  int32_t *ids = i32(&a, 2, tokens, "ids");
  if (a.failed || !d || !check_ids(&a, ids, tokens, length_of(&a, 0) / d, "embeddingBackward")) return NULL;
  embedding_backward(dtable, dout, ids, tokens, d);
  return undefined(env);
}

static napi_value js_bias_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 4, "biasForward")) return NULL;
  int64_t rows = dim(&a, 2, "rows"), d = dim(&a, 3, "dim");
  float *x = f32(&a, 0, rows * d, "x"), *b = f32(&a, 1, d, "bias");
  if (a.failed) return NULL;
  bias_forward(x, b, rows, d);
  return undefined(env);
}

static napi_value js_bias_backward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 4, "biasBackward")) return NULL;
  int64_t rows = dim(&a, 2, "rows"), d = dim(&a, 3, "dim");
  float *db = f32(&a, 0, d, "dbias"), *dout = f32(&a, 1, rows * d, "dout");
  if (a.failed) return NULL;
  bias_backward(db, dout, rows, d);
  return undefined(env);
}

static napi_value js_dropout_forward(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 5, "dropoutForward")) return NULL;
  int64_t n = length_of(&a, 2);
  float *out = f32(&a, 0, n, "out"), *mask = f32(&a, 1, n, "mask"), *x = f32(&a, 2, n, "x");
  float p = (float)number(&a, 3, "p");
  double seed = number(&a, 4, "seed");
  if (!a.failed && !(p >= 0.0f && p < 1.0f)) fail(&a, "ERR_SEAL_DIM", "dropoutForward: p must be in [0, 1)");
  if (!a.failed && !(seed >= 0 && seed < 9007199254740992.0 && seed == (double)(uint64_t)seed))
    fail(&a, "ERR_SEAL_DIM", "dropoutForward: seed must be an integer in [0, 2^53)");
  if (a.failed) return NULL;
  dropout_forward(out, mask, x, n, p, (uint64_t)seed);
  return undefined(env);
}

/* vec ops: (a, b) with b as long as a, or (a, alpha) */
static napi_value js_vec_add(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 2, "vecAdd")) return NULL;
  int64_t n = length_of(&a, 0);
  float *x = f32(&a, 0, n, "a"), *y = f32(&a, 1, n, "b");
  if (a.failed) return NULL;
  vec_add(x, y, n);
  return undefined(env);
}

static napi_value js_vec_axpy(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 3, "vecAxpy")) return NULL;
  int64_t n = length_of(&a, 0);
  float *x = f32(&a, 0, n, "a"), *y = f32(&a, 1, n, "b");
  float alpha = (float)number(&a, 2, "alpha");
  if (a.failed) return NULL;
  vec_axpy(x, y, alpha, n);
  return undefined(env);
}

static napi_value js_vec_scale(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 2, "vecScale")) return NULL;
  int64_t n = length_of(&a, 0);
  float *x = f32(&a, 0, n, "a");
  float alpha = (float)number(&a, 1, "alpha");
  if (a.failed) return NULL;
  vec_scale(x, alpha, n);
  return undefined(env);
}

static napi_value js_vec_mul(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 2, "vecMul")) return NULL;
  int64_t n = length_of(&a, 0);
  float *x = f32(&a, 0, n, "a"), *y = f32(&a, 1, n, "b");
  if (a.failed) return NULL;
  vec_mul(x, y, n);
  return undefined(env);
}

static napi_value js_vec_sum_squares(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 1, "vecSumSquares")) return NULL;
  int64_t n = length_of(&a, 0);
  float *x = f32(&a, 0, n, "a");
  if (a.failed) return NULL;
  napi_value result;
  napi_create_double(env, vec_sum_squares(x, n), &result);
  return result;
}

static napi_value js_vec_sum(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 1, "vecSum")) return NULL;
  int64_t n = length_of(&a, 0);
  float *x = f32(&a, 0, n, "a");
  if (a.failed) return NULL;
  napi_value result;
  napi_create_double(env, vec_sum(x, n), &result);
  return result;
}

/* The i-th element of the JS array argument `arg` as a Float32Array of at least `need` elements. */
static float *f32_item(Args *a, size_t arg, uint32_t i, double need, const char *name) {
  if (a->failed) return NULL;
  napi_value item;
  if (napi_get_element(a->env, a->argv[arg], i, &item) != napi_ok) return fail(a, "ERR_SEAL_EXTENT", name), NULL;
  napi_value saved = a->argv[arg];
  a->argv[arg] = item;
  float *data = f32(a, arg, need, name);
  a->argv[arg] = saved;
  return data;
}

static uint32_t array_length(Args *a, size_t arg, const char *name) {
  bool is_array = false;
  uint32_t length = 0;
  if (a->failed) return 0;
  napi_is_array(a->env, a->argv[arg], &is_array);
  if (!is_array) {
    char msg[120];
    snprintf(msg, sizeof msg, "argument %s must be an array of Float32Array", name);
    napi_throw_type_error(a->env, NULL, msg);
    a->failed = 1;
    return 0;
  }
  napi_get_array_length(a->env, a->argv[arg], &length);
  return length;
}

#define MAX_LORA_SEGMENTS 65536

/*
 * Reads the segment table shared by both LoRA wrappers: segments = Int32Array [start, rows, rank]·n, scales[n],
 * adapters' A/B (and, for the backward, their gradients) as arrays of n Float32Arrays; hidden blocks laid end to end.
 * Returns a malloc'd table (the caller frees it) or NULL with an exception pending.
 */
static LoraSegment *lora_segments(Args *a, size_t seg_arg, size_t scale_arg, size_t a_arg, size_t b_arg, size_t ga_arg,
                                  size_t gb_arg, size_t hidden_arg, size_t dhidden_arg, int64_t x_rows, int64_t in,
                                  int64_t out, int64_t *count) {
  int64_t n = length_of(a, seg_arg) / 3;
  if (!a->failed && (n < 1 || n > MAX_LORA_SEGMENTS || length_of(a, seg_arg) != 3 * n))
    return fail(a, "ERR_SEAL_EXTENT", "LoRA segments: need 1 to 65536 [start, rows, rank] triples"), NULL;
  int32_t *table = i32(a, seg_arg, 3 * n, "segments");
  float *scales = f32(a, scale_arg, n, "scales");
  if (array_length(a, a_arg, "as") != n || array_length(a, b_arg, "bs") != n)
    return fail(a, "ERR_SEAL_EXTENT", "LoRA segments: as/bs need one adapter per segment"), NULL;
  if (ga_arg && (array_length(a, ga_arg, "gradAs") != n || array_length(a, gb_arg, "gradBs") != n))
    return fail(a, "ERR_SEAL_EXTENT", "LoRA segments: gradAs/gradBs need one adapter per segment"), NULL;
  if (a->failed) return NULL;
  double hidden_need = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t start = table[3 * i], rows = table[3 * i + 1], rank = table[3 * i + 2];
    if (start < 0 || rows < 0 || rank < 1 || start + rows > x_rows)
      return fail(a, "ERR_SEAL_EXTENT", "LoRA segments: a segment lies outside the rows, or its rank is < 1"), NULL;
    hidden_need += (double)rows * rank;
  }
  float *hidden = f32(a, hidden_arg, hidden_need, "hidden");
  float *dhidden = dhidden_arg ? f32(a, dhidden_arg, hidden_need, "dhidden") : NULL;
  if (a->failed) return NULL;
  LoraSegment *segs = calloc((size_t)n, sizeof *segs);
  if (!segs) return fail(a, "ERR_SEAL_MEMORY", "LoRA segments: out of memory"), NULL;
  int64_t offset = 0;
  for (int64_t i = 0; i < n && !a->failed; i++) {
    LoraSegment *s = &segs[i];
    s->start = table[3 * i];
    s->rows = table[3 * i + 1];
    s->rank = table[3 * i + 2];
    s->scale = scales[i];
    s->a = f32_item(a, a_arg, (uint32_t)i, (double)s->rank * in, "as[i]");
    s->b = f32_item(a, b_arg, (uint32_t)i, (double)out * s->rank, "bs[i]");
    if (ga_arg) {
      s->ga = f32_item(a, ga_arg, (uint32_t)i, (double)s->rank * in, "gradAs[i]");
      s->gb = f32_item(a, gb_arg, (uint32_t)i, (double)out * s->rank, "gradBs[i]");
      /* segments run in parallel: two accumulating into one gradient would race */
      for (int64_t j = 0; j < i && !a->failed; j++)
        if (segs[j].ga == s->ga || segs[j].gb == s->gb)
          fail(a, "ERR_SEAL_EXTENT", "LoRA backward: two segments share one gradient buffer");
    }
    s->hidden = hidden + offset;
    s->dhidden = dhidden ? dhidden + offset : NULL;
    offset += s->rows * s->rank;
  }
  if (a->failed) {
    free(segs);
    return NULL;
  }
  *count = n;
  return segs;
}

/* loraForwardSegments(out, x, hidden, as, bs, segments, scales, inDim, outDim) */
static napi_value js_lora_forward_segments(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 9, "loraForwardSegments")) return NULL;
  int64_t in = dim(&a, 7, "inDim"), out = dim(&a, 8, "outDim");
  if (!a.failed && (in < 1 || out < 1)) fail(&a, "ERR_SEAL_DIM", "loraForwardSegments: dims must be ≥ 1");
  int64_t rows = a.failed ? 0 : length_of(&a, 1) / in;
  float *o = f32(&a, 0, (double)rows * out, "out"), *x = f32(&a, 1, 0, "x");
  int64_t n = 0;
  LoraSegment *segs = lora_segments(&a, 5, 6, 3, 4, 0, 0, 2, 0, rows, in, out, &n);
  if (!segs) return NULL;
  lora_forward_segments(o, x, segs, n, in, out);
  free(segs);
  return undefined(env);
}

/* loraBackwardSegments(dx, accumulate, dout, x, hidden, dhidden, as, bs, gradAs, gradBs, segments, scales, inDim, outDim,
 * overwrite): overwrite[i] ≠ 0 writes segment i's gradients instead of adding to them */
static napi_value js_lora_backward_segments(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 15, "loraBackwardSegments")) return NULL;
  bool accumulate = false;
  napi_get_value_bool(env, a.argv[1], &accumulate);
  int64_t in = dim(&a, 12, "inDim"), out = dim(&a, 13, "outDim");
  if (!a.failed && (in < 1 || out < 1)) fail(&a, "ERR_SEAL_DIM", "loraBackwardSegments: dims must be ≥ 1");
  int64_t rows = a.failed ? 0 : length_of(&a, 3) / in;
  float *dx = f32(&a, 0, (double)rows * in, "dx"), *dout = f32(&a, 2, (double)rows * out, "dout");
  float *x = f32(&a, 3, 0, "x");
  int64_t n = 0;
  LoraSegment *segs = lora_segments(&a, 10, 11, 6, 7, 8, 9, 4, 5, rows, in, out, &n);
  if (!segs) return NULL;
  int32_t *overwrite = i32(&a, 14, (double)n, "overwrite");
  if (a.failed) {
    free(segs);
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) segs[i].overwrite = overwrite[i] != 0;
  lora_backward_segments(dx, accumulate, dout, x, segs, n, in, out);
  free(segs);
  return undefined(env);
}

/* logitsScan(logits, stats): stats[0] = argmax (-1: a NaN, -2: all -Infinity), stats[1] = entries above -Infinity */
static napi_value js_logits_scan(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 2, "logitsScan")) return NULL;
  int64_t n = length_of(&a, 0);
  float *x = f32(&a, 0, n, "logits");
  int32_t *stats = i32(&a, 1, 2, "stats");
  if (a.failed) return NULL;
  if (n > INT32_MAX) return fail(&a, "ERR_SEAL_EXTENT", "logitsScan: more than 2^31-1 logits"), NULL;
  int64_t finite = 0;
  stats[0] = (int32_t)logits_scan(x, n, &finite);
  stats[1] = (int32_t)finite;
  return undefined(env);
}

/* Elements of the i-th Float32Array of the JS array argument `arg` (0 with an exception pending when not one). */
static int64_t item_length(Args *a, size_t arg, uint32_t i) {
  if (a->failed) return 0;
  napi_value item, saved = a->argv[arg];
  if (napi_get_element(a->env, a->argv[arg], i, &item) != napi_ok) return fail(a, "ERR_SEAL_EXTENT", "array item"), 0;
  a->argv[arg] = item;
  int64_t n = length_of(a, arg);
  a->argv[arg] = saved;
  return n;
}

/*
 * adamwTensors(params, grads, ms, vs, lr, beta1, beta2, eps, weightDecay, step, maxNorm, out): one optimizer step over
 * every tensor of a model or adapter in one call. out[0] = the gradients' global norm; when it is finite the gradients
 * are clipped to maxNorm (0: no clipping), AdamW is applied, and out[1] = the parameters' squared norm afterwards
 * (NaN when nothing was updated). Same arithmetic as vecSumSquares + vecScale + adamwStep per tensor.
 */
static napi_value js_adamw_tensors(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 12, "adamwTensors")) return NULL;
  uint32_t n = array_length(&a, 0, "params");
  if (!a.failed && (array_length(&a, 1, "grads") != n || array_length(&a, 2, "ms") != n || array_length(&a, 3, "vs") != n))
    fail(&a, "ERR_SEAL_EXTENT", "adamwTensors: params, grads, ms and vs need the same count");
  float lr = (float)number(&a, 4, "lr");
  double b1 = number(&a, 5, "beta1"), b2 = number(&a, 6, "beta2");
  float eps = (float)number(&a, 7, "eps"), wd = (float)number(&a, 8, "weightDecay");
  int64_t step = dim(&a, 9, "step");
  double max_norm = number(&a, 10, "maxNorm");
  if (!a.failed && step < 1) fail(&a, "ERR_SEAL_DIM", "adamwTensors: step is 1-based");
  double *out = NULL;
  if (!a.failed) {
    bool is_typed = false;
    napi_typedarray_type type;
    size_t length = 0;
    napi_is_typedarray(env, a.argv[11], &is_typed);
    if (is_typed) napi_get_typedarray_info(env, a.argv[11], &type, &length, (void **)&out, NULL, NULL);
    if (!is_typed || type != napi_float64_array || length < 2) fail(&a, "ERR_SEAL_EXTENT", "adamwTensors: out must be a Float64Array of 2");
  }
  if (a.failed) return NULL;
  float **t = calloc((size_t)n * 4 + 1, sizeof *t);
  int64_t *len = calloc((size_t)n + 1, sizeof *len);
  if (!t || !len) {
    free(t);
    free(len);
    return fail(&a, "ERR_SEAL_MEMORY", "adamwTensors: out of memory"), NULL;
  }
  for (uint32_t i = 0; i < n && !a.failed; i++) {
    len[i] = item_length(&a, 0, i);
    for (int k = 0; k < 4 && !a.failed; k++) t[4 * i + k] = f32_item(&a, (size_t)k, i, (double)len[i], "tensor");
  }
  if (!a.failed) {
    double grad_sq = 0;
    for (uint32_t i = 0; i < n; i++) grad_sq += vec_sum_squares(t[4 * i + 1], len[i]);
    const double norm = sqrt(grad_sq);
    out[0] = norm;
    out[1] = NAN;
    if (isfinite(norm)) {
      const double coefficient = max_norm / (norm + 1e-6);
      if (max_norm > 0 && coefficient < 1)
        for (uint32_t i = 0; i < n; i++) vec_scale(t[4 * i + 1], (float)coefficient, len[i]);
      double param_sq = 0;
      for (uint32_t i = 0; i < n; i++) {
        adamw_step(t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3], len[i], lr, b1, b2, eps, wd, step);
        param_sq += vec_sum_squares(t[4 * i], len[i]);
      }
      out[1] = param_sq;
    }
  }
  free(t);
  free(len);
  return a.failed ? NULL : undefined(env);
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 1, "setThreads")) return NULL;
  int64_t n = dim(&a, 0, "threads");
  // libgomp crashes on absurd counts (65536 segfaulted in GOMP_parallel); the TS layer bounds them by the CPUs
  if (!a.failed && (n < 1 || n > 4096)) fail(&a, "ERR_SEAL_DIM", "setThreads: need 1 to 4096 threads");
  if (a.failed) return NULL;
  openblas_set_num_threads((int)n);
#ifdef _OPENMP
  omp_set_num_threads((int)n);
#endif
  return undefined(env);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, value;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, obj, "blasCore", value);
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, obj, "blasConfig", value);
  napi_create_int32(env, openblas_get_num_threads(), &value);
  napi_set_named_property(env, obj, "blasThreads", value);
#ifdef _OPENMP
  napi_create_int32(env, omp_get_max_threads(), &value);
#else
  napi_create_int32(env, 1, &value);
#endif
  napi_set_named_property(env, obj, "kernelThreads", value);
  return obj;
}

/* matmulNnSmallM(out, a, w, M, N, K, accumulate): out[M,N] (+)= a[M,K]·w[K,N] */
static napi_value js_matmul_nn_small_m(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 7, "matmulNnSmallM")) return NULL;
  int64_t m = dim(&a, 3, "M"), n = dim(&a, 4, "N"), k = dim(&a, 5, "K");
  float *out = f32(&a, 0, (double)m * n, "out"), *x = f32(&a, 1, (double)m * k, "a"), *w = f32(&a, 2, (double)k * n, "w");
  bool accumulate = false;
  if (a.failed) return NULL;
  if (napi_get_value_bool(env, a.argv[6], &accumulate) != napi_ok) {
    napi_throw_type_error(env, NULL, "accumulate must be a boolean");
    return NULL;
  }
  matmul_nn_small_m(out, x, w, m, n, k, accumulate ? 1 : 0);
  return undefined(env);
}

/* matmulNtSmallM(out, x, w, M, N, K): out[M,N] = x[M,K]·w[N,K]ᵀ */
static napi_value js_matmul_nt_small_m(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(&a, env, info, 6, "matmulNtSmallM")) return NULL;
  int64_t m = dim(&a, 3, "M"), n = dim(&a, 4, "N"), k = dim(&a, 5, "K");
  float *out = f32(&a, 0, (double)m * n, "out"), *x = f32(&a, 1, (double)m * k, "x"), *w = f32(&a, 2, (double)n * k, "w");
  if (a.failed) return NULL;
  matmul_nt_small_m(out, x, w, m, n, k);
  return undefined(env);
}

static napi_value js_small_m_train_vectorized(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_get_boolean(env, smallm_train_vectorized() != 0, &result);
  return result;
}

#define EXPORT(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT("sgemm", js_sgemm),
      EXPORT("matmulSmallM", js_matmul_small_m),
      EXPORT("rmsnormForward", js_rmsnorm_forward),
      EXPORT("rmsnormBackward", js_rmsnorm_backward),
      EXPORT("ropeApply", js_rope_apply),
      EXPORT("attentionForward", js_attention_forward),
      EXPORT("attentionBackward", js_attention_backward),
      EXPORT("swigluForward", js_swiglu_forward),
      EXPORT("swigluBackward", js_swiglu_backward),
      EXPORT("crossEntropy", js_cross_entropy),
      EXPORT("adamwStep", js_adamw_step),
      EXPORT("embeddingForward", js_embedding_forward),
      EXPORT("embeddingBackward", js_embedding_backward),
      EXPORT("biasForward", js_bias_forward),
      EXPORT("biasBackward", js_bias_backward),
      EXPORT("dropoutForward", js_dropout_forward),
      EXPORT("vecAdd", js_vec_add),
      EXPORT("vecAxpy", js_vec_axpy),
      EXPORT("vecScale", js_vec_scale),
      EXPORT("vecMul", js_vec_mul),
      EXPORT("vecSumSquares", js_vec_sum_squares),
      EXPORT("vecSum", js_vec_sum),
      EXPORT("loraForwardSegments", js_lora_forward_segments),
      EXPORT("loraBackwardSegments", js_lora_backward_segments),
      EXPORT("adamwTensors", js_adamw_tensors),
      EXPORT("setThreads", js_set_threads),
      EXPORT("info", js_info),
      EXPORT("logitsScan", js_logits_scan),
      EXPORT("matmulNnSmallM", js_matmul_nn_small_m),
      EXPORT("matmulNtSmallM", js_matmul_nt_small_m),
      EXPORT("smallMTrainVectorized", js_small_m_train_vectorized),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
