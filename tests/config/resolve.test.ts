import assert from "node:assert/strict";
import { load, service } from "./support.ts";

Deno.test("retention: a service's own value, else the global default, else none", () => {
  const withDefault = load(`encryption: { key_file: /k }
services:
  counted: { path: /a, retain_backups: 3 }
  calendar: { path: /b, retain: { daily: 7, weekly: 4 } }
  inherits: { path: /c }
backup:
  retain_backups: 7
  local: { path: /mnt }
`);
  assert.deepEqual(service(withDefault, "counted").retention, { kind: "count", keep: 3 });
  assert.deepEqual(service(withDefault, "calendar").retention, {
    kind: "calendar",
    last: 0,
    daily: 7,
    weekly: 4,
    monthly: 0,
    yearly: 0,
  });
  assert.deepEqual(service(withDefault, "inherits").retention, { kind: "count", keep: 7 });

  const calendarDefault = load(`encryption: { key_file: /k }
services:
  inherits: { path: /c }
backup:
  retain: { last: 2, monthly: 12 }
  local: { path: /mnt }
`);
  assert.deepEqual(service(calendarDefault, "inherits").retention, {
    kind: "calendar",
    last: 2,
    daily: 0,
    weekly: 0,
    monthly: 12,
    yearly: 0,
  });

  const noDefault = load(`encryption: { key_file: /k }
services:
  inherits: { path: /c }
backup:
  local: { path: /mnt }
`);
  assert.deepEqual(service(noDefault, "inherits").retention, { kind: "none" });
});

Deno.test("backup defaults: hostname, temp dir, concurrency 1", () => {
  const config = load(`encryption: { key_file: /k }
services: { app: { path: /a } }
backup: { local: { path: /mnt/usb/ } }
`);
  assert.equal(config.backup.host, "nas1");
  assert.equal(config.backup.stagingDir, "/var/tmp");
  assert.equal(config.backup.concurrency, 1);
  assert.deepEqual(config.backup.local, { path: "/mnt/usb" });
  assert.equal(config.backup.s3, undefined);
  assert.equal(config.backup.synology, undefined);
});

Deno.test("`~` expands in every local path, and trailing slashes go", () => {
  const config = load(`encryption:
  key_file: ~/.config/packrat/key
services:
  docs:
    path: ~/Documents/
    pre_backup:
      command: make dump
      working_dir: "~"
backup:
  host: laptop
  staging_dir: ~//staging/
  concurrency: 4
  local: { path: / }
  s3:
    bucket: b
    access_key_id_file: ~/secrets/id
    secret_access_key_file: /run/secrets/key
  synology:
    host: nas
    username: backups
    key_file: ~/.ssh/id_ed25519
    key_passphrase_file: ~/.ssh/passphrase
    known_hosts: ~/.ssh/known_hosts_nas
    path: ~/backups/
`);
  assert.equal(config.encryption.keyFile, "/home/ann/.config/packrat/key");
  const docs = service(config, "docs");
  assert.equal(docs.path, "/home/ann/Documents");
  assert.equal(docs.preBackup?.workingDir, "/home/ann");
  assert.equal(config.backup.host, "laptop");
  assert.equal(config.backup.stagingDir, "/home/ann/staging");
  assert.equal(config.backup.concurrency, 4);
  assert.equal(config.backup.local?.path, "/");
  assert.deepEqual(config.backup.s3?.accessKeyId, {
    kind: "file",
    path: "/home/ann/secrets/id",
    key: "backup.s3.access_key_id_file",
  });
  const synology = config.backup.synology;
  assert.equal(synology?.keyFile, "/home/ann/.ssh/id_ed25519");
  assert.deepEqual(synology?.keyPassphrase, {
    kind: "file",
    path: "/home/ann/.ssh/passphrase",
    key: "backup.synology.key_passphrase_file",
  });
  assert.equal(synology?.knownHosts, "/home/ann/.ssh/known_hosts_nas");
  // A remote path: `~` is left for the NAS to interpret.
  assert.equal(synology?.path, "~/backups");
});

Deno.test("s3: path prefix normalised, empty endpoint means AWS, credentials optional", () => {
  const prefixes: Record<string, string> = {
    '""': "",
    '"/"': "",
    "/backups": "backups/",
    "backups/packrat": "backups/packrat/",
    "/a//b/": "a/b/",
  };
  for (const [written, expected] of Object.entries(prefixes)) {
    const config = load(`encryption: { key_file: /k }
services: { app: { path: /a } }
backup:
  s3:
    endpoint: ""
    bucket: b
    path: ${written}
`);
    assert.equal(config.backup.s3?.path, expected, `path: ${written}`);
    assert.equal(config.backup.s3?.endpoint, undefined);
    assert.equal(config.backup.s3?.region, "us-east-1");
    assert.equal(config.backup.s3?.accessKeyId, undefined);
    assert.equal(config.backup.s3?.secretAccessKey, undefined);
  }
});

Deno.test("synology: port and host key pinning", () => {
  const config = load(`encryption: { key_file: /k }
services: { app: { path: /a } }
backup:
  synology:
    host: nas.lan
    port: 2222
    username: backups
    key_file: /keys/nas
    key_passphrase: "123456"
    path: /volume1/backups
    host_key: SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s
`);
  const synology = config.backup.synology;
  assert.equal(synology?.port, 2222);
  assert.equal(synology?.path, "/volume1/backups");
  assert.equal(synology?.hostKey, "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s");
  // A pinned key replaces the default known_hosts file.
  assert.equal(synology?.knownHosts, undefined);
  assert.deepEqual(synology?.keyPassphrase, {
    kind: "inline",
    value: "123456",
    key: "backup.synology.key_passphrase",
  });
});

Deno.test("docker: one container or several, with timeouts", () => {
  const config = load(`encryption: { key_file: /k }
services:
  one: { path: /a, docker: { container: web } }
  several:
    path: /b
    docker:
      containers: [app, db]
      stop_timeout: 0
      health_timeout: 5m
backup: { local: { path: /mnt } }
`);
  assert.deepEqual(service(config, "one").docker, {
    containers: ["web"],
    stopTimeoutMs: 30_000,
    healthTimeoutMs: 120_000,
  });
  assert.deepEqual(service(config, "several").docker, {
    containers: ["app", "db"],
    stopTimeoutMs: 0,
    healthTimeoutMs: 300_000,
  });
});

Deno.test("hooks: defaults, and environment values taken as written", () => {
  const config = load(`encryption: { key_file: /k }
services:
  db:
    path: /srv/db
    post_backup:
      command: echo done
      environment:
        PORT: 05432
        VERBOSE: true
        RATIO: 1.0
        EMPTY: ""
backup: { local: { path: /mnt } }
`);
  assert.deepEqual(service(config, "db").postBackup, {
    command: "echo done",
    workingDir: "/srv/db",
    environment: { PORT: "05432", VERBOSE: "true", RATIO: "1.0", EMPTY: "" },
    secretEnvironment: {},
    timeoutMs: 300_000,
  });
  assert.equal(service(config, "db").preBackup, undefined);
});

Deno.test("hooks: X_file is a secret read when the hook runs; only lowercase _file counts", () => {
  const config = load(`encryption: { key_file: /k }
services:
  db:
    path: /srv/db
    pre_backup:
      command: pg_dumpall
      environment:
        PGPASSWORD_file: /run/secrets/pg
        TOKEN_file: ~/token
        POSTGRES_PASSWORD_FILE: /run/secrets/postgres
        PGUSER: postgres
backup: { local: { path: /mnt } }
`);
  const hook = service(config, "db").preBackup;
  assert.deepEqual(hook?.environment, {
    POSTGRES_PASSWORD_FILE: "/run/secrets/postgres",
    PGUSER: "postgres",
  });
  assert.deepEqual(hook?.secretEnvironment, {
    PGPASSWORD: {
      kind: "file",
      path: "/run/secrets/pg",
      key: "services.db.pre_backup.environment.PGPASSWORD_file",
    },
    TOKEN: {
      kind: "file",
      path: "/home/ann/token",
      key: "services.db.pre_backup.environment.TOKEN_file",
    },
  });
});

Deno.test("schedules: names, ranges, steps, lists and nicknames; time zones canonical", () => {
  const config = load(`encryption: { key_file: /k }
services:
  weekdays: { path: /a, schedule: "30 1 * * MON-FRI", timezone: europe/berlin }
  steps: { path: /b, schedule: "*/15 8-18 1,15 JAN-JUN *" }
  nightly: { path: /c, schedule: "@daily" }
  weekly: { path: /d, schedule: "@weekly" }
  unscheduled: { path: /e }
backup: { local: { path: /mnt } }
`);
  assert.equal(service(config, "weekdays").schedule, "30 1 * * MON-FRI");
  assert.equal(service(config, "weekdays").timezone, "Europe/Berlin");
  assert.equal(service(config, "steps").schedule, "*/15 8-18 1,15 JAN-JUN *");
  assert.equal(service(config, "nightly").schedule, "0 0 * * *");
  assert.equal(service(config, "weekly").schedule, "0 0 * * 0");
  assert.equal(service(config, "unscheduled").schedule, undefined);
});

Deno.test("notify: global default, replaced per service, silenced with {}", () => {
  const config = load(`encryption: { key_file: /k }
services:
  inherits: { path: /a }
  own:
    path: /b
    notify:
      on: always
      healthchecks: { url: "https://hc-ping.com/uuid" }
  quiet: { path: /c, notify: {} }
backup: { local: { path: /mnt } }
notify:
  webhook: { url_file: /run/secrets/hook }
  ntfy: { url: "https://ntfy.sh/topic" }
`);
  const global = service(config, "inherits").notify;
  assert.equal(global?.on, "failure");
  assert.deepEqual(global?.webhook, {
    url: { kind: "file", path: "/run/secrets/hook", key: "notify.webhook.url_file" },
  });
  assert.deepEqual(global?.ntfy, {
    url: { kind: "inline", value: "https://ntfy.sh/topic", key: "notify.ntfy.url" },
  });
  const own = service(config, "own").notify;
  assert.equal(own?.on, "always");
  assert.equal(own?.webhook, undefined);
  assert.equal(own?.healthchecks?.url.key, "services.own.notify.healthchecks.url");
  const quiet = service(config, "quiet").notify;
  assert.equal(quiet?.on, "failure");
  assert.equal(quiet?.webhook ?? quiet?.ntfy ?? quiet?.healthchecks, undefined);
});

Deno.test("YAML anchors, aliases and merge keys work", () => {
  const config = load(`encryption: { key_file: /k }
services:
  app:
    path: /srv/app
    pre_backup: &maintenance
      command: maintenance on
      timeout: 1m
    post_backup:
      <<: *maintenance
      command: maintenance off
  other:
    path: /srv/other
    pre_backup: *maintenance
backup: { local: { path: /mnt } }
`);
  const app = service(config, "app");
  assert.equal(app.preBackup?.command, "maintenance on");
  assert.equal(app.postBackup?.command, "maintenance off");
  assert.equal(app.postBackup?.timeoutMs, 60_000);
  assert.equal(service(config, "other").preBackup?.workingDir, "/srv/other");
});

Deno.test("services keep the file's order; names may use . _ and -", () => {
  const config = load(`encryption: { key_file: /k }
services:
  zeta: { path: /z }
  my.app_v-2: { path: /m }
  alpha: { path: /a }
backup: { local: { path: /mnt } }
`);
  assert.deepEqual(config.services.map((s) => s.name), ["zeta", "my.app_v-2", "alpha"]);
});
