/*
 * LoRA over row segments: rows [start, start + rows) of a pass use their own adapter (A [rank, in], B [out, rank],
 * scale alpha/rank), so one pass over the shared base weights serves many adapters (multi-LoRA training, and a
 * decode batch whose sequences use different adapters). Each segment is a few small GEMMs; segments run in
 * parallel, one per thread (OpenBLAS's OpenMP build runs single-threaded inside a parallel region), and a lone
 * segment lets OpenBLAS use every thread itself.
 */
#include <cblas.h>
#include "kernels.h"

static void forward_one(float *out, const float *x, const LoraSegment *s, int64_t in_dim, int64_t out_dim) {
  const float *xs = x + s->start * in_dim;
  float *os = out + s->start * out_dim;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->rows, (int)s->rank, (int)in_dim, 1.0f, xs, (int)in_dim,
              s->a, (int)in_dim, 0.0f, s->hidden, (int)s->rank);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->rows, (int)out_dim, (int)s->rank, s->scale, s->hidden,
              (int)s->rank, s->b, (int)s->rank, 1.0f, os, (int)out_dim);
}

void lora_forward_segments(float *out, const float *x, const LoraSegment *segs, int64_t nseg, int64_t in_dim,
                           int64_t out_dim) {
  if (nseg == 1) {
    forward_one(out, x, &segs[0], in_dim, out_dim);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < nseg; i++) forward_one(out, x, &segs[i], in_dim, out_dim);
}

static void backward_one(float *dx, int accumulate, const float *dout, const float *x, const LoraSegment *s,
                         int64_t in_dim, int64_t out_dim) {
  const float *xs = x + s->start * in_dim, *ds = dout + s->start * out_dim;
  const int rows = (int)s->rows, rank = (int)s->rank, in = (int)in_dim, out = (int)out_dim;
  /* dB += scale·doutᵀ·hidden; dHidden = scale·dout·B; dA += dHiddenᵀ·x; dx (+)= dHidden·A */
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, rank, rows, s->scale, ds, out, s->hidden, rank, 1.0f,
              s->gb, rank);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, rank, out, s->scale, ds, out, s->b, rank, 0.0f,
              s->dhidden, rank);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rank, in, rows, 1.0f, s->dhidden, rank, xs, in, 1.0f, s->ga, in);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, rank, 1.0f, s->dhidden, rank, s->a, in,
              accumulate ? 1.0f : 0.0f, dx + s->start * in_dim, in);
}

void lora_backward_segments(float *dx, int accumulate, const float *dout, const float *x, const LoraSegment *segs,
                            int64_t nseg, int64_t in_dim, int64_t out_dim) {
  if (nseg == 1) {
    backward_one(dx, accumulate, dout, x, &segs[0], in_dim, out_dim);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < nseg; i++) backward_one(dx, accumulate, dout, x, &segs[i], in_dim, out_dim);
}
