/** Where the state directory is, for root, a service user and an ordinary user. */
import assert from "node:assert/strict";
import { stateDirectory, type StateDirFacts, SYSTEM_STATE_DIR } from "../../src/state/directory.ts";

function facts(overrides: Partial<StateDirFacts> & { vars?: Record<string, string> }) {
  const vars = overrides.vars ?? {};
  return {
    uid: 1000,
    home: "/home/ann",
    writable: () => false,
    env: (name: string) => vars[name],
    ...overrides,
  };
}

Deno.test("backup.state_dir wins over every default", () => {
  assert.equal(stateDirectory("/srv/packrat-state", facts({ uid: 0 })), "/srv/packrat-state");
});

Deno.test("root uses /var/lib/packrat whatever its environment says", () => {
  const env = { STATE_DIRECTORY: "/run/elsewhere", XDG_STATE_HOME: "/root/xdg" };
  assert.equal(stateDirectory(undefined, facts({ uid: 0, vars: env })), SYSTEM_STATE_DIR);
  assert.equal(stateDirectory(undefined, facts({ uid: 0 })), SYSTEM_STATE_DIR);
});

Deno.test("a user who can write /var/lib/packrat (the service's user) uses it", () => {
  const writable = (path: string) => path === SYSTEM_STATE_DIR;
  assert.equal(stateDirectory(undefined, facts({ writable })), SYSTEM_STATE_DIR);
});

Deno.test("other users: $XDG_STATE_HOME/packrat, else ~/.local/state/packrat", () => {
  assert.equal(
    stateDirectory(undefined, facts({ vars: { XDG_STATE_HOME: "/home/ann/.state/" } })),
    "/home/ann/.state/packrat",
  );
  // A relative XDG_STATE_HOME is ignored, as the XDG spec says; so is STATE_DIRECTORY.
  assert.equal(
    stateDirectory(
      undefined,
      facts({ vars: { XDG_STATE_HOME: "state", STATE_DIRECTORY: "/var/lib/other" } }),
    ),
    "/home/ann/.local/state/packrat",
  );
});
