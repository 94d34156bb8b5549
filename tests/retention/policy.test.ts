import assert from "node:assert/strict";
import { newBackupId } from "../../src/catalog/id.ts";
import { idsToDelete } from "../../src/retention/policy.ts";

const day = 86_400_000;
/** One backup per day at noon local time, oldest first. */
function daily(count: number, start = new Date(2026, 0, 1, 12)): string[] {
  return Array.from({ length: count }, (_, i) => newBackupId(new Date(start.getTime() + i * day)));
}

Deno.test("count keeps exactly the newest N", () => {
  const ids = daily(10);
  assert.deepEqual(idsToDelete(ids, { kind: "count", keep: 3 }), ids.slice(0, 7));
  assert.deepEqual(idsToDelete(ids, { kind: "count", keep: 10 }), []);
  assert.deepEqual(idsToDelete(ids, { kind: "count", keep: 30 }), []);
});

Deno.test("the protected id survives even when it is not among the newest", () => {
  const ids = daily(5);
  const deleted = idsToDelete(ids, { kind: "count", keep: 1 }, ids[0]);
  assert.deepEqual(deleted, ids.slice(1, 4));
});

Deno.test("no policy deletes nothing; order of input does not matter", () => {
  const ids = daily(4);
  assert.deepEqual(idsToDelete(ids, { kind: "none" }), []);
  assert.deepEqual(idsToDelete([...ids].reverse(), { kind: "count", keep: 2 }), ids.slice(0, 2));
});

Deno.test("calendar: last + daily + weekly + monthly + yearly", () => {
  // 120 days, two backups a day (noon and 18:00).
  const ids = daily(120).flatMap((id, i) => [
    id,
    newBackupId(new Date(new Date(2026, 0, 1, 18).getTime() + i * day)),
  ]);
  const policy = { kind: "calendar", last: 2, daily: 7, weekly: 4, monthly: 3, yearly: 1 } as const;
  const deleted = new Set(idsToDelete(ids, policy));
  const kept = ids.filter((id) => !deleted.has(id)).sort().reverse();
  const newest = [...ids].sort().reverse();
  // last 2, then one (the newest) per day for 7 days: 2 + 6 (today is counted by "last").
  assert.ok(kept.includes(newest[0]) && kept.includes(newest[1]));
  const days = new Set(kept.map((id) => id.slice(0, 8)));
  assert.ok(days.size >= 7, `kept days: ${[...days]}`);
  // Monthly keeps the newest backup of the 3 newest months: April, March, February 2026.
  for (const month of ["202604", "202603", "202602"]) {
    assert.ok(kept.some((id) => id.startsWith(month)), `month ${month} kept`);
  }
  assert.ok(!kept.some((id) => id.startsWith("202601")), "January is beyond every rule");
  assert.ok(kept.length < 2 + 7 + 4 + 3 + 1);
});

Deno.test("the newest archive is never deleted, whatever the policy", () => {
  const ids = daily(3);
  const policy = { kind: "calendar", last: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 } as const;
  assert.deepEqual(idsToDelete(ids, policy), ids.slice(0, 2));
});

Deno.test("an archive dated in the future neither counts nor pushes real ones out", () => {
  const now = new Date(2026, 0, 10, 12).getTime();
  const ids = daily(5); // Jan 1..5
  const future = newBackupId(new Date(2027, 0, 1));
  const deleted = idsToDelete([...ids, future], { kind: "count", keep: 2 }, undefined, now);
  assert.deepEqual(deleted, ids.slice(0, 3));
});
