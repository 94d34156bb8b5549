/**
 * `packrat daemon --test` against the real servers (radosgw, sshd, dockerd): it passes on a good
 * setup after writing and deleting a probe on every destination; it names every problem at once
 * (unreachable destination, missing container, missing key file, missing hook directory); and it
 * prints each next run in local time with its zone.
 *
 * @module
 */
import assert from "node:assert/strict";
import { listKeys, nasDir, remoteBackupConfig, s3Client, servers, tempBucket } from "../remote.ts";
import { filesUnder, setup, show, tempDir } from "../helpers.ts";
import { refusingPort } from "../notify/support.ts";
import { container, dockerHost } from "../docker/support.ts";

Deno.test("daemon --test: a good setup passes; the probes leave no object behind", async () => {
  dockerHost();
  const s3 = servers();
  await using dir = await tempDir("packrat-check-");
  await using bucket = await tempBucket(s3Client(s3));
  await using nas = await nasDir();
  await using c = await container(false);
  await Deno.mkdir(`${dir.path}/dumps`);
  const s = await setup(
    dir.path,
    {
      app: {
        path: c.data,
        schedule: "30 4 * * *",
        docker: { container: c.name },
        pre_backup: { command: "true", working_dir: `${dir.path}/dumps` },
      },
    },
    remoteBackupConfig(s3, bucket.name, nas.relative),
  );
  const result = await s.run(["daemon", "--test"]);
  assert.equal(result.code, 0, show(result));
  for (const name of ["local", "s3", "synology"]) {
    assert.match(
      result.stdout,
      new RegExp(`^ok +destination ${name}: list, write and delete work`, "m"),
    );
  }
  assert.match(result.stdout, new RegExp(`^ok +app: container ${c.name}: running`, "m"));
  assert.match(result.stdout, /^ok +app: pre_backup working_dir: /m);
  assert.match(
    result.stdout,
    /^ok +app: schedule: "30 4 \* \* \*", next run \d{4}-\d\d-\d\d 04:30 /m,
  );
  assert.match(result.stdout, /all checks passed/);
  assert.deepEqual(await listKeys(s3Client(s3), bucket.name), []);
  assert.deepEqual(await filesUnder(nas.absolute), []);
  assert.deepEqual(await filesUnder(s.dest), []);
});

Deno.test("daemon --test: lists every problem — unreachable destination, missing container, key file, hook dir, secret file", async () => {
  dockerHost();
  await using dir = await tempDir("packrat-check-");
  await Deno.mkdir(`${dir.path}/data`);
  const missing = `packrat-missing-${crypto.randomUUID().slice(0, 8)}`;
  const s = await setup(
    dir.path,
    {
      app: {
        path: `${dir.path}/data`,
        schedule: "0 2 * * *",
        docker: { container: missing },
        post_backup: { command: "true", working_dir: `${dir.path}/gone` },
        notify: { webhook: { url_file: `${dir.path}/webhook-url` } },
      },
    },
    {
      s3: {
        endpoint: `http://127.0.0.1:${refusingPort()}`,
        bucket: "nowhere",
        access_key_id: "id",
        secret_access_key: "secret-never-shown",
      },
    },
  );
  await Deno.remove(s.keyFile);
  const started = performance.now();
  const result = await s.run(["daemon", "--test"]);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(result.code, 1, show(result));
  const problems = result.stdout.slice(result.stdout.indexOf("5 problems:"));
  assert.match(problems, /^5 problems:$/m, show(result));
  assert.match(problems, /- key: .*key.*(not found|does not exist|No such file)/i);
  assert.match(problems, /- destination s3: .*127\.0\.0\.1/);
  assert.match(
    problems,
    new RegExp(`- app: container ${missing}: no container named ${missing}$`, "m"),
  );
  assert.match(
    problems,
    new RegExp(`- app: post_backup working_dir: ${dir.path}/gone does not exist`),
  );
  assert.match(
    problems,
    new RegExp(
      `- app: services\\.app\\.notify\\.webhook\\.url_file: cannot read ${dir.path}/webhook-url: no such file`,
    ),
  );
  // The good parts are checked too, not skipped after the first problem.
  assert.match(result.stdout, /^ok +destination local: /m);
  assert.match(result.stdout, /^ok +app: schedule: /m);
  assert.doesNotMatch(result.stdout + result.stderr, /secret-never-shown/);
  console.log(`  daemon --test with an unreachable destination took ${seconds.toFixed(1)} s`);
});

Deno.test("daemon --test: a bad config is one problem, with its line and column", async () => {
  await using dir = await tempDir("packrat-check-");
  const s = await setup(dir.path, { app: { path: dir.path, schedule: "0 25 * * *" } });
  const result = await s.run(["daemon", "--test"]);
  assert.equal(result.code, 3, show(result));
  assert.match(result.stdout, /^FAILED +config: .*config\.yaml:\d+:\d+: .*0 25 \* \* \*/m);
  assert.match(result.stdout, /^1 problem:$/m);
});

Deno.test("daemon --test: TZ=Europe/Berlin, 0 2 * * * — the next run is 02:00 local, in local and UTC", async () => {
  await using dir = await tempDir("packrat-check-");
  const s = await setup(dir.path, {
    berlin: { path: dir.path, schedule: "0 2 * * *" },
    newyork: { path: dir.path, schedule: "0 2 * * *", timezone: "America/New_York" },
  });
  const result = await s.run(["daemon", "--test"], { env: { TZ: "Europe/Berlin" } });
  assert.equal(result.code, 0, show(result));
  for (const [service, zone] of [["berlin", "Europe/Berlin"], ["newyork", "America/New_York"]]) {
    const next = nextLocal(zone, 2);
    const line = new RegExp(
      `${service}: schedule: "0 2 \\* \\* \\*", next run ${next.local} 02:00 ${zone} \\(${next.utc}Z\\)`,
    );
    assert.match(result.stdout, line, result.stdout);
  }
  // Berlin in winter is UTC+1, in summer UTC+2.
  const berlin = nextLocal("Europe/Berlin", 2);
  assert.equal(berlin.utc, berlin.winter ? "01:00" : "00:00");
});

/**
 * The next time after now when the clock in `zone` shows `hour`:00, found by stepping through
 * whole UTC hours with Intl (independent of the cron library).
 */
function nextLocal(zone: string, hour: number): { local: string; utc: string; winter: boolean } {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "shortOffset",
  });
  let t = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
  for (;; t += 3_600_000) {
    const parts = Object.fromEntries(
      format.formatToParts(new Date(t)).map((p) => [p.type, p.value]),
    );
    if (Number(parts.hour) === hour && parts.minute === "00") {
      return {
        local: `${parts.year}-${parts.month}-${parts.day}`,
        utc: new Date(t).toISOString().slice(11, 16),
        winter: parts.timeZoneName === "GMT+1",
      };
    }
  }
}
