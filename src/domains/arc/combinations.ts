/** `itertools.combinations(items, k)`: every k-subset in lexicographic order of positions, items in order. */
export function combinations<T>(items: readonly T[], k: number): T[][] {
  if (k < 0 || k > items.length) return [];
  const out: T[][] = [];
  const chosen: T[] = [];
  const visit = (start: number): void => {
    if (chosen.length === k) {
      out.push(chosen.slice());
      return;
    }
    for (let i = start; i <= items.length - (k - chosen.length); i++) {
      chosen.push(items[i]);
      visit(i + 1);
      chosen.pop();
    }
  };
  visit(0);
  return out;
}

/** 0..n−1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
