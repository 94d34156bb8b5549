/**
 * runBackup's own logic around an interrupt: a SIGINT/SIGTERM that arrives once the archive is
 * stored says so. The interrupt is raised from inside the copy by a wrapper around the real
 * local destination, at the exact point a signal would have to land.
 */
import assert from "node:assert/strict";
import { runBackup } from "../../src/backup/run.ts";
import { loadConfig } from "../../src/config/load.ts";
import { readKeyFile } from "../../src/crypto/key.ts";
import type { Destination } from "../../src/destinations/destination.ts";
import { LocalDestination } from "../../src/destinations/local.ts";
import { InterruptedError } from "../../src/errors.ts";
import { stateDirectory } from "../../src/state/directory.ts";
import type { Logger } from "../../src/ui/log.ts";
import { findArchives, setup, tempDir } from "../helpers.ts";

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * A destination that stores like `inner`; once `stored.count` reaches `all`, the run is
 * interrupted — after every destination stored, whichever finishes last.
 */
function interruptingAfterPut(
  inner: Destination,
  controller: AbortController,
  stored: { count: number; all: number },
): Destination {
  return {
    ...inner,
    list: (h, s) => inner.list(h, s),
    open: (h, s, id) => inner.open(h, s, id),
    remove: (h, s, id) => inner.remove(h, s, id),
    removePartials: (h, s, o) => inner.removePartials(h, s, o),
    close: () => inner.close(),
    put: async (...args) => {
      await inner.put(...args);
      if (++stored.count === stored.all) controller.abort(new InterruptedError("SIGTERM"));
    },
  };
}

Deno.test("interrupted once every destination stored the archive: the error says it was stored", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/data`);
  await Deno.writeTextFile(`${dir.path}/data/a.txt`, "a\n");
  await Deno.mkdir(`${dir.path}/second`);
  const s = await setup(dir.path, { svc: { path: `${dir.path}/data`, retain_backups: 1 } });
  const config = await loadConfig({ path: s.config });
  const controller = new AbortController();
  const stored = { count: 0, all: 2 };
  const destinations = [s.dest, `${dir.path}/second`].map((root) =>
    interruptingAfterPut(new LocalDestination(root), controller, stored)
  );
  const error = await runBackup({
    config,
    master: await readKeyFile(s.keyFile),
    destinations,
    log: quiet,
    stateDir: stateDirectory(config.backup.stateDir),
    signal: controller.signal,
  }, config.services[0]).then(() => undefined, (e) => e);

  assert.ok(error instanceof InterruptedError, `not an interrupt: ${error}`);
  const [archive] = await findArchives(s.dest, "svc");
  const id = archive.split("/").pop()!.replace(".packrat", "");
  assert.equal(
    error.message,
    `interrupted by SIGTERM; backup ${id} was stored on every destination (local, local)`,
  );
  assert.deepEqual(
    (await findArchives(`${dir.path}/second`, "svc")).map((p) => p.split("/").pop()),
    [`${id}.packrat`],
  );
});
