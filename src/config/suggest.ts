/** @module Suggests the closest known word for a misspelt one ("did you mean …?"). */

/**
 * The number of single-character insertions, deletions, substitutions and adjacent swaps
 * that turn `a` into `b` (optimal string alignment distance).
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows are enough: a swap looks back two rows.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, before[j - 2] + 1);
      }
      current.push(best);
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length];
}

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a likely typo:
 * at most one edit per three characters of the candidate (and always one edit is allowed).
 *
 * @example
 * ```ts
 * closestWord("retain_backup", ["retain", "retain_backups"]); // "retain_backups"
 * ```
 */
export function closestWord(word: string, candidates: readonly string[]): string | undefined {
  let closest: string | undefined;
  let closestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(candidate.length / 3));
    if (distance <= allowed && distance < closestDistance) {
      closest = candidate;
      closestDistance = distance;
    }
  }
  return closest;
}
