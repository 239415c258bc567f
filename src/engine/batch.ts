/**
 * Packed batches: sequences of different lengths laid end to end (no padding). Each token knows its position
 * in its own sequence and attends only to earlier tokens of that sequence, so nothing leaks across sequences.
 */
export interface PackedBatch {
  tokens: Int32Array;
  positions: Int32Array;
  /** Sequence s owns rows seqStart[s] .. seqStart[s+1]-1. */
  seqStart: Int32Array;
  /** Attention key range of each row (rows of the same packed buffers). */
  keyBase: Int32Array;
  keyCount: Int32Array;
  rows: number;
}

export function packSequences(sequences: ArrayLike<number>[]): PackedBatch {
  const rows = sequences.reduce((sum, s) => sum + s.length, 0);
  const tokens = new Int32Array(rows);
  const positions = new Int32Array(rows);
  const keyBase = new Int32Array(rows);
  const keyCount = new Int32Array(rows);
  const seqStart = new Int32Array(sequences.length + 1);
  let row = 0;
  sequences.forEach((sequence, s) => {
    seqStart[s] = row;
    for (let i = 0; i < sequence.length; i++, row++) {
      tokens[row] = sequence[i];
      positions[row] = i;
      keyBase[row] = seqStart[s];
      keyCount[row] = i + 1;
    }
  });
  seqStart[sequences.length] = row;
  return { tokens, positions, seqStart, keyBase, keyCount, rows };
}
