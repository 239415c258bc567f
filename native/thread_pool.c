/*
 * A thread pool for the decode step's short parallel loops, where waiting on a descheduled thread costs more than
 * the loop itself.
 *
 * Why not OpenMP here: a 16-row decode step is ~190 parallel loops of 0.05-3 ms. An OpenMP loop ends at a barrier
 * that every thread of the team must reach, so on a shared machine each loop waits for whichever thread the kernel
 * has descheduled (measured: 2 threads took 1.5-2x longer per step than 1 thread under a load average of 4). Here
 * the caller and the workers claim chunks from one atomic counter, and the caller waits only for chunks already
 * claimed: a worker that is asleep or descheduled when a loop starts simply takes no part in it, and a loop never
 * runs slower than on the caller alone (plus at most one chunk in flight on a worker).
 *
 * The claim word packs generation | back | front, so a worker that wakes late can never claim a chunk
 * of a loop that has ended: its compare-and-swap fails once the generation moved on. A successful claim keeps
 * the loop alive (the caller waits for it), so the task it then reads is that loop's.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "kernels.h"

#define POOL_MAX_WORKERS 63
#define FIELD_BITS 20
#define FIELD_MASK ((UINT64_C(1) << FIELD_BITS) - 1)
/* How long an idle worker polls for the next loop before sleeping. Within a decode layer the loops follow each
 * other within tens of microseconds. Longer polling took CPU from the working threads on a shared machine: a
 * 16-row step at a load average of ~3.8 took (median of 4, A/B against OpenMP in one process) 74% of OpenMP's
 * time polling 30 µs, 77% at 100 µs, 79% at 5 µs, 105% at 2 ms. */
#define IDLE_SPIN_NS 50000

/* generation << 40 | back << 20 | front: chunks front..back-1 are unclaimed. The caller claims from the front and
 * the workers from the back, so each walks a contiguous run of chunks (a kernel can prefetch its next chunk). */
static _Atomic uint64_t claim_word;
static _Atomic int64_t done_chunks;
static seal_pool_task job_task;
static void *job_ctx;
static int job_workers; /* workers with index < job_workers take part */
static _Atomic uint32_t wake_seq;
static _Atomic int sleepers;
static int started_workers;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int inside_pool_task;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline uint64_t word_front(uint64_t w) { return w & FIELD_MASK; }
static inline uint64_t word_back(uint64_t w) { return (w >> FIELD_BITS) & FIELD_MASK; }

/* Claims and runs chunks of the current loop (from the back or the front) until none is left. */
static void run_chunks(int from_back) {
  uint64_t w = atomic_load_explicit(&claim_word, memory_order_acquire);
  while (word_front(w) < word_back(w)) {
    const uint64_t claimed = from_back ? w - (UINT64_C(1) << FIELD_BITS) : w + 1;
    if (!atomic_compare_exchange_weak_explicit(&claim_word, &w, claimed, memory_order_acq_rel, memory_order_acquire))
      continue;
    inside_pool_task = 1;
    job_task(job_ctx, (int64_t)(from_back ? word_back(w) - 1 : word_front(w)), from_back);
    inside_pool_task = 0;
    atomic_fetch_add_explicit(&done_chunks, 1, memory_order_release);
    w = atomic_load_explicit(&claim_word, memory_order_acquire);
  }
}

static int work_available(int index) {
  const uint64_t w = atomic_load(&claim_word);
  return word_front(w) < word_back(w) && index < __atomic_load_n(&job_workers, __ATOMIC_ACQUIRE);
}

static void *worker_main(void *arg) {
  const int index = (int)(intptr_t)arg;
  for (;;) {
    const int64_t idle_since = now_ns();
    for (int spins = 0;; spins++) {
      if (work_available(index)) break;
      cpu_relax();
      if ((spins & 63) == 63 && now_ns() - idle_since > IDLE_SPIN_NS) {
        const uint32_t seq = atomic_load(&wake_seq);
        atomic_fetch_add(&sleepers, 1);
        if (!work_available(index)) syscall(SYS_futex, &wake_seq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
        atomic_fetch_sub(&sleepers, 1);
        break;
      }
    }
    if (work_available(index)) run_chunks(1);
  }
  return NULL;
}

static int pool_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void seal_pool_for(int64_t chunks, seal_pool_task task, void *ctx) {
  if (chunks <= 0) return;
  const int threads = pool_threads();
  int serial = threads <= 1 || chunks == 1 || chunks > (int64_t)FIELD_MASK || inside_pool_task;
#ifdef _OPENMP
  serial = serial || omp_in_parallel();
#endif
  /* another JS thread (worker_threads) already runs a loop on the pool: run this one on the caller */
  if (!serial && pthread_mutex_trylock(&run_lock) != 0) serial = 1;
  if (serial) {
    for (int64_t c = 0; c < chunks; c++) task(ctx, c, 0);
    return;
  }
  const int workers = threads - 1 < POOL_MAX_WORKERS ? threads - 1 : POOL_MAX_WORKERS;
  while (started_workers < workers) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, worker_main, (void *)(intptr_t)started_workers) != 0) break;
    pthread_detach(thread);
    started_workers++;
  }
  job_task = task;
  job_ctx = ctx;
  __atomic_store_n(&job_workers, workers, __ATOMIC_RELEASE);
  atomic_store_explicit(&done_chunks, 0, memory_order_relaxed);
  const uint64_t generation = (atomic_load(&claim_word) >> (2 * FIELD_BITS)) + 1;
  atomic_store(&claim_word, generation << (2 * FIELD_BITS) | (uint64_t)chunks << FIELD_BITS);
  if (atomic_load(&sleepers) > 0) {
    atomic_fetch_add(&wake_seq, 1);
    syscall(SYS_futex, &wake_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
  }
  run_chunks(0);
  /* only chunks a worker has claimed are left: wait for those, yielding the core if their thread is off it */
  for (int spins = 0; atomic_load_explicit(&done_chunks, memory_order_acquire) < chunks; spins++) {
    if (spins < 2000) cpu_relax();
    else sched_yield();
  }
  pthread_mutex_unlock(&run_lock);
}
