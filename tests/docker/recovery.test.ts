/**
 * Containers after a crash, against a real dockerd: a backup killed with -9 while its container
 * is stopped leaves it noted in its run record, and the next run of any service starts it and
 * removes the orphaned staging file; a container that does not come back after a good archive
 * fails the run loudly, but the archive is still stored and the staging file removed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DockerClient } from "../../src/docker/client.ts";
import {
  assertOk,
  entries,
  findArchives,
  killWhen,
  setup,
  show,
  tempDir,
  writeRandomFile,
} from "../helpers.ts";
import { tmpfs } from "../restore/support.ts";
import { container, dockerHost, stagedBytes } from "./support.ts";

const MB = 1024 * 1024;

Deno.test("docker: kill -9 while archiving; the next backup of another service starts the container and frees the staging disk", async () => {
  dockerHost();
  using client = new DockerClient();
  await using dir = await tempDir("packrat-docker-");
  await using c = await container(true);
  await writeRandomFile(`${c.data}/big.bin`, 150 * MB);
  // Room for one archive of the service (~150 MB), not for that and a large orphan.
  const staging = `${dir.path}/staging`;
  await using _mount = await tmpfs(staging, staging, 200 * MB);
  await Deno.mkdir(`${dir.path}/other`);
  await Deno.writeTextFile(`${dir.path}/other/a.txt`, "a\n");
  const s = await setup(dir.path, {
    app: {
      path: c.data,
      docker: { container: c.name, stop_timeout: "10s", health_timeout: "30s" },
    },
    other: { path: `${dir.path}/other` },
  });

  await using run = s.start(["backup", "app"]);
  await killWhen(
    run,
    "a large part of the archive, with the container down",
    async () => await stagedBytes(staging) > 64 * MB && !(await client.inspect(c.name)).running,
  );
  const [orphan] = await entries(staging);
  const orphanSize = await stagedBytes(staging);
  assert.equal((await client.inspect(c.name)).running, false, "the container came back by itself");
  const record = JSON.parse(await Deno.readTextFile(`${s.dir}/state/locks/app.json`));
  assert.deepEqual(record.containers, [c.name]);

  const next = assertOk(await s.run(["backup", "other"]));
  assert.match(
    next.stderr,
    new RegExp(`app: starting container ${c.name}, left stopped by a backup \\(pid ${run.pid},`),
  );
  assert.match(next.stderr, new RegExp(`app: removed ${staging}/${orphan}, left by a backup`));
  const info = await client.inspect(c.name);
  assert.equal(info.running, true, `container not started: ${info.status}`);
  assert.equal(info.health, "healthy");
  assert.deepEqual(await entries(staging), []);

  // With the orphan (over 64 MB) still there, this archive would not fit.
  const backup = await s.run(["backup", "app"]);
  assert.equal(backup.code, 0, show(backup));
  assert.equal((await findArchives(s.dest, "app")).length, 1);
  assert.equal((await client.inspect(c.name)).running, true);
  console.log(
    `  orphan ${Math.round(orphanSize / MB)} MB; ${
      next.stderr.trim().split("\n").filter((l) => /starting|removed/.test(l)).join(" | ")
    }`,
  );
});

Deno.test("docker: a container that does not come back after a good archive: stored, staging removed, exit 1", async () => {
  dockerHost();
  await using dir = await tempDir("packrat-docker-");
  // Never healthy: its check wants a file nobody makes.
  await using c = await container("test -f /data/never");
  await Deno.writeTextFile(`${c.data}/a.txt`, "a\n");
  const s = await setup(dir.path, {
    app: { path: c.data, docker: { container: c.name, stop_timeout: "5s", health_timeout: "3s" } },
  });
  const result = await s.run(["backup", "app"]);
  assert.equal(result.code, 1, show(result));
  assert.match(result.stderr, new RegExp(`container ${c.name} did not come back`));
  assert.match(result.stdout, /\n {2}local\s+ok/);
  assert.match(result.stdout, /the service may be down \(the backup itself is stored\)/);
  assert.equal((await findArchives(s.dest, "app")).length, 1, "the good archive was not stored");
  assertOk(await s.run(["verify", "app"]));
  assert.deepEqual(await entries(`${dir.path}/staging`), [], "staging file left behind");
  assert.deepEqual(await entries(`${s.dir}/state/locks`), ["app.lock"], "a record stayed");
});
