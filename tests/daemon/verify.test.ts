/**
 * Scheduled verification against real servers (OpenSSH sshd for the NAS, Ceph radosgw for S3):
 * the daemon reads both copies back every minute, a byte flipped in the S3 copy is found and
 * reported (webhook, status, metrics), and `packrat repair` replaces it from the NAS copy.
 *
 * @module
 */
import assert from "node:assert/strict";
import { listen } from "../notify/support.ts";
import { assertOk, pollUntil, setup, show, tempDir, writeRandomFile } from "../helpers.ts";
import {
  flipObjectByte,
  nasDir,
  objectBytes,
  remoteBackupConfig,
  s3Client,
  servers,
  tempBucket,
} from "../remote.ts";
import { parsePrometheusText } from "../status/prometheus.ts";
import { historyOf, startDaemon, waitForLines } from "./support.ts";
import { writeHistory } from "../../src/state/history.ts";

/** The value of `name` for `labels` in the metrics file, if there is one. */
async function metric(
  path: string,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const family = parsePrometheusText(await Deno.readTextFile(path)).get(name);
  return family?.samples.find((sample) => JSON.stringify(sample.labels) === JSON.stringify(labels))
    ?.value;
}

interface VerifyJson {
  damaged: boolean;
  last_run: { outcome: string } | null;
  destinations: {
    name: string;
    last_verified: string | null;
    damaged: { id: string; error: string | null }[];
  }[];
}

async function verifyStatus(run: (args: string[]) => Promise<{ code: number; stdout: string }>) {
  const result = await run(["status", "--json"]);
  const verify = JSON.parse(result.stdout).services[0].verify as VerifyJson;
  return {
    code: result.code,
    verify,
    byName: new Map(verify.destinations.map((d) => [d.name, d])),
  };
}

Deno.test("daemon: a minutely verify reads both copies; a flipped byte on S3 notifies and fails status; repair replaces it from the NAS", async () => {
  const srv = servers();
  const s3 = s3Client(srv);
  await using dir = await tempDir("packrat-verify-");
  await using bucket = await tempBucket(s3);
  await using nas = await nasDir();
  await using hook = listen();
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/blob.bin`, 1_000_000);
  const metrics = `${dir.path}/metrics.prom`;
  const s = await setup(dir.path, {
    svc: {
      path: data,
      notify: { webhook: { url: `${hook.url}/hook` } },
      verify: { schedule: "* * * * *" },
    },
  }, {
    local: undefined,
    ...remoteBackupConfig(srv, bucket.name, nas.relative),
    metrics_file: metrics,
  });
  assertOk(await s.run(["backup", "svc"]));
  const [backup] = JSON.parse(assertOk(await s.run(["list", "--json"])).stdout);
  assert.deepEqual(backup.destinations, ["s3", "synology"]);
  const id: string = backup.id;

  {
    await using daemon = await startDaemon(s);
    assert.match(
      daemon.stderrSoFar(),
      /ready: 0 scheduled services, 0 to catch up; 1 scheduled verify/,
    );
    await waitForLines(
      daemon,
      /svc: verify passed: 2 copies of 1 backup read back intact/,
      1,
      90_000,
    );
    const passed = await verifyStatus(s.run);
    assert.equal(passed.code, 0);
    assert.equal(passed.verify.damaged, false);
    assert.equal(passed.verify.last_run?.outcome, "passed");
    for (const name of ["s3", "synology"]) {
      const seen = passed.byName.get(name)?.last_verified;
      assert.ok(seen && Date.now() - Date.parse(seen) < 120_000, `${name} verified: ${seen}`);
    }
    for (const destination of ["s3", "synology"]) {
      const labels = { service: "svc", destination };
      const at = await metric(metrics, "packrat_last_verify_timestamp_seconds", labels);
      assert.ok(at && Date.now() / 1000 - at < 120, `${destination}: verified at ${at}`);
      assert.equal(await metric(metrics, "packrat_verify_failures", labels), 0);
    }
    assert.equal(hook.received.length, 0, "a passed verify sends nothing under on: failure");

    // A byte of the S3 copy goes bad; the next minute's verify finds it.
    const key = `packrat/testhost/svc/${id}.packrat`;
    await flipObjectByte(s3, bucket.name, key);
    await waitForLines(daemon, new RegExp(`svc: verify: s3: backup ${id} is damaged`), 1, 90_000);
    await pollUntil("the webhook", () => hook.received.length > 0, 20_000);
    const payload = JSON.parse(hook.received[0].body);
    assert.equal(payload.status, "damaged");
    assert.equal(payload.backup_id, id);
    assert.match(payload.error, new RegExp(`^s3: backup ${id} is damaged: `));
    assert.doesNotMatch(payload.error, /synology/);
    daemon.kill("SIGTERM");
    assert.equal((await daemon.result).code, 0);
  }

  const failed = await verifyStatus(s.run);
  assert.equal(failed.code, 1, "status exits non-zero while a stored copy is damaged");
  assert.equal(failed.verify.damaged, true);
  assert.deepEqual(failed.byName.get("s3")?.damaged.map((c) => c.id), [id]);
  assert.deepEqual(failed.byName.get("synology")?.damaged, []);
  const labels = { service: "svc", destination: "s3" };
  assert.equal(await metric(metrics, "packrat_verify_failures", labels), 1);

  const repair = await s.run(["repair"]);
  assert.equal(repair.code, 0, show(repair));
  assert.match(
    repair.stdout,
    new RegExp(`svc: replaced the damaged copy of ${id} on s3 from synology`),
  );
  const nasCopy = await Deno.readFile(`${nas.absolute}/testhost/svc/${id}.packrat`);
  assert.deepEqual(
    await objectBytes(s3, bucket.name, `packrat/testhost/svc/${id}.packrat`),
    nasCopy,
  );

  const verify = await s.run(["verify", "svc", "--all-copies"]);
  assert.equal(verify.code, 0, show(verify));
  assert.match(verify.stdout, new RegExp(`svc: backup ${id} on s3 is intact`));
  const healed = await verifyStatus(s.run);
  assert.equal(healed.code, 0, "status is clean once the copy is replaced and verified");
  assert.equal(healed.verify.damaged, false);
});

Deno.test("daemon --test: a weekly verify schedule is shown with its next run", async () => {
  await using dir = await tempDir("packrat-verify-check-");
  await Deno.mkdir(`${dir.path}/data`);
  const s = await setup(dir.path, {
    svc: {
      path: `${dir.path}/data`,
      timezone: "UTC",
      verify: { schedule: "0 4 * * 0", copies: "all" },
    },
  });
  const result = await s.run(["daemon", "--test"]);
  assert.equal(result.code, 0, show(result));
  // The next Sunday 04:00 UTC after now, computed here independently.
  const next = new Date();
  next.setUTCHours(4, 0, 0, 0);
  while (next.getUTCDay() !== 0 || next.getTime() <= Date.now()) {
    next.setUTCDate(next.getUTCDate() + 1);
  }
  const day = next.toISOString().slice(0, 10);
  assert.match(
    result.stdout,
    new RegExp(
      `svc: verify: "0 4 \\* \\* 0" \\(every backup, every copy\\), next run ${day} 04:00 UTC \\(04:00Z\\)`,
    ),
  );
});

Deno.test("daemon: with verify.repair, a verify that finds a damaged and a missing copy on S3 repairs both from local", async () => {
  const srv = servers();
  const s3 = s3Client(srv);
  await using dir = await tempDir("packrat-verify-repair-");
  await using bucket = await tempBucket(s3);
  const data = `${dir.path}/data`;
  await Deno.mkdir(data);
  await writeRandomFile(`${data}/blob.bin`, 500_000);
  const { s3: s3Config } = remoteBackupConfig(srv, bucket.name, "unused");
  const service = {
    svc: { path: data, verify: { schedule: "* * * * *", copies: "all", repair: true } },
  };
  const s = await setup(dir.path, service, { s3: s3Config });
  assertOk(await s.run(["backup", "svc"]));
  // A second backup while the bucket was not configured: S3 misses it.
  await setup(dir.path, service);
  await Deno.writeTextFile(`${data}/note.txt`, "second\n");
  assertOk(await s.run(["backup", "svc"]));
  await setup(dir.path, service, { s3: s3Config });
  const [newer, older] = JSON.parse(assertOk(await s.run(["list", "--json"])).stdout);
  assert.deepEqual(older.destinations, ["local", "s3"]);
  assert.deepEqual(newer.destinations, ["local"]);
  await flipObjectByte(s3, bucket.name, `packrat/testhost/svc/${older.id}.packrat`);

  {
    await using daemon = await startDaemon(s);
    await waitForLines(
      daemon,
      new RegExp(`svc: repair: replaced the damaged copy of ${older.id} on s3 from local`),
      1,
      90_000,
    );
    await waitForLines(daemon, new RegExp(`svc: repair: copied ${newer.id} to s3 from local`));
    assert.match(
      daemon.stderrSoFar(),
      new RegExp(`svc: verify: s3: backup ${older.id} is damaged`),
    );
    daemon.kill("SIGTERM");
    assert.equal((await daemon.result).code, 0);
  }
  for (const backup of [older, newer]) {
    assert.deepEqual(
      await objectBytes(s3, bucket.name, `packrat/testhost/svc/${backup.id}.packrat`),
      await Deno.readFile(`${s.dest}/testhost/svc/${backup.id}.packrat`),
      backup.id,
    );
  }
  const status = await s.run(["status", "--json"]);
  assert.equal(status.code, 0, show(status));
  assert.equal(JSON.parse(status.stdout).services[0].verify.damaged, false);
});

Deno.test("daemon: a long verify does not hold up another service's backup (concurrency 1)", async () => {
  await using dir = await tempDir("packrat-verify-slot-");
  const slowData = `${dir.path}/slow`;
  const quickData = `${dir.path}/quick`;
  await Deno.mkdir(slowData);
  await Deno.mkdir(quickData);
  await writeRandomFile(`${slowData}/blob.bin`, 1_000_000);
  await Deno.writeTextFile(`${quickData}/a.txt`, "a\n");
  const s = await setup(dir.path, {
    // Read at 1 KiB/s, this verify would take about 16 minutes.
    slow: { path: slowData, verify: { schedule: "0 4 * * *", max_rate: "1KiB/s" } },
    quick: { path: quickData, schedule: "* * * * *" },
  }, { concurrency: 1 });
  assertOk(await s.run(["backup", "slow"]));
  // The last verify was two days ago: the 04:00 one is caught up at start.
  const history = await historyOf(s, "slow");
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
  await writeHistory(`${s.dir}/state`, {
    ...history,
    since: twoDaysAgo,
    verify: {
      copies: {},
      destinations: {},
      lastRun: {
        started: twoDaysAgo,
        finished: twoDaysAgo,
        trigger: "schedule",
        outcome: "passed",
      },
    },
  });

  await using daemon = await startDaemon(s);
  assert.match(daemon.stderrSoFar(), /1 scheduled verify, 1 to catch up/);
  await waitForLines(daemon, /slow: starting catch-up verify/);
  await waitForLines(daemon, /quick: backup \S+ stored on local/, 1, 90_000);
  assert.doesNotMatch(daemon.stderrSoFar(), /slow: verify passed/, "the verify is still reading");
  daemon.kill("SIGTERM");
  assert.equal((await daemon.result).code, 0);
  assert.equal((await historyOf(s, "slow")).verify?.lastRun?.outcome, "interrupted");
});
