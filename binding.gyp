{
  "targets": [
    {
      "target_name": "seal_native",
      "sources": ["native/addon.c", "native/kernels_math.c", "native/kernels_attention.c", "native/kernels_matvec.c", "native/kernels_lora.c", "native/kernels_sampling.c", "native/kernels_smallm_train.c", "native/thread_pool.c"],
      "include_dirs": ["<!@(node scripts/blas-flags.mjs include)"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-mprefer-vector-width=512", "-fopenmp", "-std=c11", "-Wall", "-Wno-unused-parameter"],
      "cflags!": ["-O2", "-O0", "-g"],
      "ldflags": ["-fopenmp"],
      "libraries": ["<!@(node scripts/blas-flags.mjs libs)"]
    }
  ]
}
