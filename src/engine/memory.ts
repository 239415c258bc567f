/** A check before a large allocation, so an absurd size is refused with a message instead of aborting V8. */
import os from "node:os";

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

/** Throws when `bytes` exceed this machine's memory: `what` needs N GiB, more than the machine's M GiB (`advice`). */
export function assertFitsInMemory(bytes: number, what: string, advice: string): void {
  const total = os.totalmem();
  if (bytes > total)
    throw new Error(
      `${what} needs ${gib(bytes)} GiB, more than this machine's ${gib(total)} GiB of memory (${advice})`,
    );
}
