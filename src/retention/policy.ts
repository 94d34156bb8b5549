/**
 * Which archives retention keeps. Pure logic over backup ids; the caller deletes.
 *
 * `count` keeps the newest N. `calendar` keeps the union of: the newest `last`, and the newest
 * archive of each of the newest `daily` days, `weekly` ISO weeks, `monthly` months and
 * `yearly` years that have one (local time), as restic's `forget` does. Whatever the policy, the
 * archive just written is kept, and the newest archive is never deleted, so a run never
 * leaves a service with no backup. Archives dated in the future are never deleted.
 *
 * @module
 */
import type { RetentionPolicy } from "../config/types.ts";
import { timeOfId } from "../catalog/id.ts";

/**
 * Returns the ids to delete from `ids` (any order), never `protect` and never the newest.
 */
export function idsToDelete(
  ids: readonly string[],
  policy: RetentionPolicy,
  protect?: string,
  now = Date.now(),
): string[] {
  // An id from more than a day ahead was made while the clock was wrong. Ranking it as the
  // newest would let it push out every real backup; it is kept and left out of the count.
  const present = ids.filter((id) => timeOfId(id).getTime() <= now + 86_400_000);
  if (policy.kind === "none" || present.length === 0) return [];
  const newestFirst = [...present].sort().reverse();
  const keep = new Set<string>([newestFirst[0]]);
  if (protect) keep.add(protect);
  if (policy.kind === "count") {
    newestFirst.slice(0, policy.keep).forEach((id) => keep.add(id));
  } else {
    newestFirst.slice(0, policy.last).forEach((id) => keep.add(id));
    const buckets: [number, (d: Date) => string][] = [
      [policy.daily, (d) => `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`],
      [policy.weekly, isoWeek],
      [policy.monthly, (d) => `${d.getFullYear()}-${d.getMonth() + 1}`],
      [policy.yearly, (d) => `${d.getFullYear()}`],
    ];
    for (const [count, bucketOf] of buckets) {
      const seen = new Set<string>();
      for (const id of newestFirst) {
        if (seen.size >= count) break;
        const bucket = bucketOf(timeOfId(id));
        if (seen.has(bucket)) continue;
        seen.add(bucket);
        keep.add(id);
      }
    }
  }
  return newestFirst.filter((id) => !keep.has(id)).reverse();
}

/** ISO 8601 week of the local date, e.g. `2026-W48`. */
function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}
