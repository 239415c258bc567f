/** Finding NaN and ±Infinity in tensors (plain TypeScript, so the file writers can use it without the addon). */

/** Index of the first NaN or ±Infinity in `data`, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) return i; // 0 for every finite x; NaN for NaN and ±Infinity
  }
  return -1;
}

/** Throws, naming the tensor and the first bad value, when a tensor holds NaN or ±Infinity: nothing is written. */
export function refuseNonFiniteTensors(
  tensors: readonly { name: string; data: ArrayLike<number> }[],
  where: string,
): void {
  for (const { name, data } of tensors) {
    const index = firstNonFinite(data);
    if (index >= 0)
      throw new Error(
        `${where}: tensor "${name}" holds ${data[index]} at index ${index}; refusing to write non-finite weights ` +
          "(did the training diverge?)",
      );
  }
}
