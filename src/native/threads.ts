/**
 * Thread counts for the addon's OpenMP kernels and OpenBLAS, read from the environment before the addon loads.
 *
 * Why validate: libgomp creates the threads it is told to. `OMP_NUM_THREADS=65536` segfaulted inside
 * GOMP_parallel and 32768 failed with "Thread creation failed", while 0, `abc` and -3 were silently ignored.
 * More threads than cores never helps these kernels (each thread spins for work), so the bound is a small
 * multiple of the logical CPUs: generous for a container whose CPU count is misreported, far from the crash.
 */

export const THREADS_PER_CPU_LIMIT = 4;

export interface ThreadSettings {
  /** The count used for OMP_NUM_THREADS and OPENBLAS_NUM_THREADS when the user set neither. */
  threads: number;
  /** The largest count accepted on this machine. */
  limit: number;
}

export function maxThreads(cpuCount: number): number {
  return Math.max(1, cpuCount) * THREADS_PER_CPU_LIMIT;
}

function isCount(text: string, limit: number): boolean {
  const count = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  return Number.isSafeInteger(count) && count >= 1 && count <= limit;
}

function unusableCount(name: string, value: string, limit: number, cpuCount: number): Error {
  return new Error(
    `${name}=${JSON.stringify(value)} is not a usable thread count: expected a whole number from 1 to ${limit} ` +
      `(${THREADS_PER_CPU_LIMIT} × the ${cpuCount} logical CPUs of this machine). Unset it to use every core.`,
  );
}

/**
 * Validates SEAL_THREADS, OMP_NUM_THREADS (OpenMP allows a comma list for nested levels) and
 * OPENBLAS_NUM_THREADS; empty values count as unset. SEAL_THREADS, else all logical CPUs, is the default.
 */
export function resolveThreadSettings(env: NodeJS.ProcessEnv, cpuCount: number): ThreadSettings {
  const limit = maxThreads(cpuCount);
  const given = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value;
  };
  const check = (name: string, value: string | undefined, levels: string[] = value ? [value] : []): void => {
    if (value !== undefined && !levels.every((level) => isCount(level, limit)))
      throw unusableCount(name, value, limit, cpuCount);
  };
  const sealThreads = given("SEAL_THREADS");
  check("SEAL_THREADS", sealThreads);
  const omp = given("OMP_NUM_THREADS");
  check("OMP_NUM_THREADS", omp, omp?.split(","));
  check("OPENBLAS_NUM_THREADS", given("OPENBLAS_NUM_THREADS"));
  const threads = sealThreads === undefined ? Math.max(1, cpuCount) : Number(sealThreads.trim());
  return { threads, limit };
}
