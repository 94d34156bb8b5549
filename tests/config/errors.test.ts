import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.ts";
import { parseConfig } from "../../src/config/load.ts";

const ENV = { home: "/home/ann", hostname: "nas1", tmpdir: "/tmp" };

/** The ConfigError that parsing `text` throws. */
function configError(text: string, env = ENV): ConfigError {
  try {
    parseConfig(text, "packrat.yaml", env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error;
  }
  assert.fail("the config was accepted");
}

/** Every problem line of the error for `text`. */
function problems(text: string): string[] {
  return configError(text).message.split("\n");
}

/** A valid config whose `services.app` mapping body is `service` (indented 4 spaces). */
function withService(service: string): string {
  return `encryption:
  key_file: /keys/packrat
services:
  app:
${service}backup:
  local:
    path: /mnt/backups
`;
}

/** A valid config whose `backup` mapping body is `backup` (indented 2 spaces). */
function withBackup(backup: string): string {
  return `encryption:
  key_file: /keys/packrat
services:
  app:
    path: /srv/app
backup:
${backup}`;
}

Deno.test("bad YAML is reported at the parser's position", () => {
  const error = configError("encryption:\n  key_file: /k\nservices: [gitea\nbackup: {}\n");
  assert.equal(
    error.message,
    "packrat.yaml:4:1: invalid YAML: " +
      "Flow sequence in block collection must be sufficiently indented and end with a ]",
  );
  assert.deepEqual(error.position, { file: "packrat.yaml", line: 4, column: 1 });
});

Deno.test("tab indentation is bad YAML", () => {
  assert.deepEqual(problems("encryption:\n\tkey_file: /k\n"), [
    "packrat.yaml:2:1: invalid YAML: Tabs are not allowed as indentation",
  ]);
});

Deno.test("an unknown key names its mapping and suggests the closest known key", () => {
  const error = configError(withService("    path: /srv/app\n    retain_backup: 14\n"));
  assert.equal(
    error.message,
    'packrat.yaml:6:5: unknown key "retain_backup" in services.app — did you mean "retain_backups"?',
  );
  assert.deepEqual(error.position, { file: "packrat.yaml", line: 6, column: 5 });
});

Deno.test("an unknown key with no close match lists the allowed keys", () => {
  assert.deepEqual(problems(withBackup("  local:\n    path: /mnt\n    speed: fast\n")), [
    'packrat.yaml:9:5: unknown key "speed" in backup.local (allowed keys: path)',
  ]);
  assert.deepEqual(problems(`${withBackup("  local: { path: /mnt }\n")}color: blue\n`), [
    'packrat.yaml:8:1: unknown key "color" at the top level ' +
    "(allowed keys: encryption, services, backup, notify)",
  ]);
});

Deno.test("a cron schedule with the wrong number of fields is refused", () => {
  assert.deepEqual(problems(withService('    path: /srv/app\n    schedule: "0 2 * *"\n')), [
    'packrat.yaml:6:15: services.app.schedule: "0 2 * *" has 4 fields; a schedule has exactly 5: ' +
    'minute hour day-of-month month day-of-week (e.g. "0 2 * * *" for 2 AM daily)',
  ]);
  assert.match(
    problems(withService('    path: /srv/app\n    schedule: "0 0 2 * * *"\n'))[0],
    /^packrat\.yaml:6:15: services\.app\.schedule: "0 0 2 \* \* \*" has 6 fields/,
  );
});

Deno.test("a cron field out of range is refused", () => {
  assert.deepEqual(problems(withService('    path: /srv/app\n    schedule: "61 * * * *"\n')), [
    'packrat.yaml:6:15: services.app.schedule: "61 * * * *" is not a valid cron schedule: ' +
    "invalid value for minute: 61",
  ]);
});

Deno.test("a bad duration says which forms work", () => {
  const service = "    path: /srv/app\n    pre_backup:\n      command: pg_dump\n" +
    "      timeout: 30 minutes\n";
  assert.deepEqual(problems(withService(service)), [
    'packrat.yaml:8:16: services.app.pre_backup.timeout: "30 minutes" is not a duration ' +
    "(use Go-style durations such as 90s, 30m, 2h, 1h30m)",
  ]);
  const unitless = "    path: /srv/app\n    docker:\n      container: app\n" +
    "      stop_timeout: 90\n";
  assert.deepEqual(problems(withService(unitless)), [
    'packrat.yaml:8:21: services.app.docker.stop_timeout: "90" is not a duration ' +
    "(use Go-style durations such as 90s, 30m, 2h, 1h30m)",
  ]);
});

Deno.test("a secret set both inline and as a file names both keys", () => {
  const s3 = "  s3:\n    bucket: b\n    access_key_id: AKIA\n" +
    "    access_key_id_file: /run/secrets/id\n    secret_access_key_file: /run/secrets/key\n";
  const error = configError(withBackup(s3));
  assert.equal(
    error.message,
    "packrat.yaml:10:5: set backup.s3.access_key_id or backup.s3.access_key_id_file, not both",
  );
  assert.ok(!error.message.includes("AKIA"));
});

Deno.test("a notify URL set both inline and as a file is refused", () => {
  const text = `${withBackup("  local: { path: /mnt }\n")}notify:
  webhook:
    url_file: /run/secrets/hook
    url: https://example.org/hook
`;
  assert.deepEqual(problems(text), [
    "packrat.yaml:11:5: set notify.webhook.url or notify.webhook.url_file, not both",
  ]);
});

Deno.test("a config without destinations points at backup", () => {
  const error = configError(withBackup("  retain_backups: 7\n"));
  assert.equal(
    error.message,
    "packrat.yaml:6:1: backup needs at least one destination: local, s3 or synology " +
      "(e.g. backup.local.path: /mnt/backups)",
  );
  assert.deepEqual(error.position, { file: "packrat.yaml", line: 6, column: 1 });
});

Deno.test("service names must be safe directory names", () => {
  const text = `encryption:
  key_file: /keys/packrat
services:
  a/b:
    path: /srv/a
  ..:
    path: /srv/b
  has space:
    path: /srv/c
  .:
    path: /srv/d
backup:
  local: { path: /mnt }
`;
  const rule = 'use only letters, digits, ".", "_" and "-" (it becomes a directory name)';
  assert.deepEqual(problems(text), [
    `packrat.yaml:4:3: invalid service name "a/b": ${rule}`,
    'packrat.yaml:6:3: invalid service name "..": it cannot be "." or ".."',
    `packrat.yaml:8:3: invalid service name "has space": ${rule}`,
    'packrat.yaml:10:3: invalid service name ".": it cannot be "." or ".."',
  ]);
});

Deno.test("duplicate keys are refused, naming the mapping and the first occurrence", () => {
  assert.deepEqual(problems(withService("    path: /srv/app\n    path: /srv/other\n")), [
    'packrat.yaml:6:5: duplicate key "path" in services.app (first set on line 5)',
  ]);
  const services = `encryption: { key_file: /k }
services:
  app: { path: /a }
  app: { path: /b }
backup: { local: { path: /mnt } }
`;
  assert.deepEqual(problems(services), [
    'packrat.yaml:4:3: duplicate key "app" in services (first set on line 3)',
  ]);
});

Deno.test("values of the wrong type are reported at the value", () => {
  assert.deepEqual(problems(withService('    path: /srv/app\n    retain_backups: "7"\n')), [
    "packrat.yaml:6:21: services.app.retain_backups must be a whole number of at least 1, " +
    'not the string "7" (write 7 without quotes)',
  ]);
  assert.deepEqual(problems(withService("    path: /srv/app\n    retain_backups: 0\n")), [
    "packrat.yaml:6:21: services.app.retain_backups must be a whole number of at least 1, not 0",
  ]);
  assert.deepEqual(problems(withService("    path: /srv/app\n    retain_backups: 2.5\n")), [
    "packrat.yaml:6:21: services.app.retain_backups must be a whole number of at least 1, not 2.5",
  ]);
  const synology = "  synology:\n    host: nas\n    port: abc\n    username: u\n" +
    "    key_file: /k\n    path: backups\n";
  assert.deepEqual(problems(withBackup(synology)), [
    "packrat.yaml:9:11: backup.synology.port must be a whole number from 1 to 65535, " +
    'not the string "abc"',
  ]);
  assert.deepEqual(problems(withService("    path: /srv/app\n    docker: app\n")), [
    "packrat.yaml:6:13: services.app.docker must be a mapping, not a string",
  ]);
  assert.deepEqual(problems(withService("    path: /srv/app\n    exclude: '*.log'\n")), [
    "packrat.yaml:6:14: services.app.exclude must be a list, not a string",
  ]);
  assert.deepEqual(problems(withService("    path: [/srv/app]\n")), [
    "packrat.yaml:5:11: services.app.path must be a string, not a list",
  ]);
});

Deno.test("a required key that is null or missing is reported as required", () => {
  assert.deepEqual(problems(withService("    path:\n")), [
    "packrat.yaml:5:5: services.app.path is required",
  ]);
  assert.deepEqual(problems(withService("    schedule: '@daily'\n")), [
    "packrat.yaml:4:3: services.app.path is required",
  ]);
  assert.deepEqual(problems("encryption: {}\nservices:\nbackup: { local: { path: /m } }\n"), [
    "packrat.yaml:1:1: encryption.key_file is required",
    "packrat.yaml:2:1: services is required",
  ]);
});

Deno.test("an empty file and a non-mapping file are refused", () => {
  assert.deepEqual(problems("# nothing yet\n"), [
    "packrat.yaml:1:1: the config file is empty; see the README for an example",
  ]);
  assert.deepEqual(problems("- gitea\n"), [
    "packrat.yaml:1:1: the config file must be a mapping, not a list",
  ]);
});

Deno.test("services must define at least one service", () => {
  const text = "encryption: { key_file: /k }\nservices: {}\nbackup: { local: { path: /m } }\n";
  assert.deepEqual(problems(text), [
    "packrat.yaml:2:1: services must define at least one service",
  ]);
});

Deno.test("local paths must be absolute or start with ~/", () => {
  assert.deepEqual(problems(withService("    path: srv/app\n")), [
    'packrat.yaml:5:11: services.app.path: "srv/app" must be an absolute path or start with ~/',
  ]);
  assert.deepEqual(problems(withService("    path: ~bob/app\n")), [
    'packrat.yaml:5:11: services.app.path: "~bob/app" must be an absolute path or start with ~/',
  ]);
});

Deno.test("a bare ~ (null in YAML) is refused where it would silently mean nothing", () => {
  assert.deepEqual(
    problems(withService("    path: /srv/app\n    pre_backup: { command: x, working_dir: ~ }\n")),
    [
      'packrat.yaml:6:44: services.app.pre_backup.working_dir: a bare ~ means "no value" in YAML; ' +
      'write "~" in quotes (for paths: the home directory), or leave the key out',
    ],
  );
});

Deno.test("retain_backups and retain together are refused", () => {
  const service = "    path: /srv/app\n    retain_backups: 7\n    retain: { daily: 7 }\n";
  assert.deepEqual(problems(withService(service)), [
    "packrat.yaml:7:5: set services.app.retain_backups or services.app.retain, not both",
  ]);
});

Deno.test("calendar retention must keep something", () => {
  const service = "    path: /srv/app\n    retain: { daily: 0 }\n";
  assert.deepEqual(problems(withService(service)), [
    "packrat.yaml:6:5: services.app.retain keeps nothing: " +
    "set at least one of last, daily, weekly, monthly, yearly above 0",
  ]);
  assert.deepEqual(problems(withService("    path: /srv/app\n    retain: { daily: -1 }\n")), [
    "packrat.yaml:6:22: services.app.retain.daily must be a whole number of at least 0, not -1",
  ]);
});

Deno.test("docker needs exactly one of container and containers", () => {
  const both = "    path: /srv/app\n    docker:\n      container: a\n      containers: [b]\n";
  assert.deepEqual(problems(withService(both)), [
    "packrat.yaml:8:7: set services.app.docker.container or services.app.docker.containers, " +
    "not both",
  ]);
  assert.deepEqual(problems(withService("    path: /srv/app\n    docker: { containers: [] }\n")), [
    "packrat.yaml:6:27: services.app.docker.containers must not be empty",
  ]);
  assert.deepEqual(
    problems(withService("    path: /srv/app\n    docker: { stop_timeout: 1m }\n")),
    [
      "packrat.yaml:6:5: services.app.docker.container is required",
    ],
  );
});

Deno.test("hook environment values must be scalars with valid names", () => {
  const service = `    path: /srv/app
    post_backup:
      command: echo done
      environment:
        GOOD: 1
        NESTED: { a: 1 }
        1BAD: x
        EMPTY:
`;
  assert.deepEqual(problems(withService(service)), [
    "packrat.yaml:10:17: services.app.post_backup.environment.NESTED must be a string, " +
    "not a mapping",
    'packrat.yaml:11:9: services.app.post_backup.environment: "1BAD" is not a valid variable ' +
    "name (letters, digits and _)",
    'packrat.yaml:12:9: services.app.post_backup.environment.EMPTY has no value (write "" for ' +
    "an empty one)",
  ]);
});

Deno.test("bad exclude globs are reported at the list item, naming the pattern", () => {
  const service = `    path: /srv/app
    exclude:
      - "**/*.log"
      - "[abc"
      - "ok/**"
      - "{a,b"
`;
  assert.deepEqual(problems(withService(service)), [
    'packrat.yaml:8:9: services.app.exclude[1]: unclosed "[" in pattern "[abc"',
    'packrat.yaml:10:9: services.app.exclude[3]: unclosed "{" in pattern "{a,b"',
  ]);
  assert.deepEqual(problems(withService('    path: /srv/app\n    exclude: [a, "/", "[z-a]"]\n')), [
    'packrat.yaml:6:18: services.app.exclude[1]: empty pattern "/"',
    'packrat.yaml:6:23: services.app.exclude[2]: invalid character class "[z-a]" in pattern "[z-a]"',
  ]);
});

Deno.test("hook environment: X_file reads X from a file; X and X_file together are an error", () => {
  const service = `    path: /srv/app
    pre_backup:
      command: pg_dumpall
      environment:
        PGPASSWORD: inline
        PGPASSWORD_file: /run/secrets/pg
        TOKEN_file: relative/path
        _file: /run/secrets/x
        EMPTY_file:
`;
  assert.deepEqual(problems(withService(service)), [
    "packrat.yaml:10:9: set services.app.pre_backup.environment.PGPASSWORD or " +
    "services.app.pre_backup.environment.PGPASSWORD_file, not both",
    'packrat.yaml:11:21: services.app.pre_backup.environment.TOKEN_file: "relative/path" must be ' +
    "an absolute path or start with ~/",
    'packrat.yaml:12:9: services.app.pre_backup.environment: "_file" is not a valid variable name ' +
    "(letters, digits and _)",
    'packrat.yaml:13:9: services.app.pre_backup.environment.EMPTY_file has no value (write "" for ' +
    "an empty one)",
  ]);
});

Deno.test("s3 credentials come in pairs and the endpoint must be a URL", () => {
  const half = "  s3:\n    bucket: b\n    secret_access_key_file: /run/secrets/key\n";
  assert.deepEqual(problems(withBackup(half)), [
    "packrat.yaml:9:5: backup.s3 sets secret_access_key but not access_key_id; set both " +
    "(or neither, to use the AWS environment variables)",
  ]);
  const endpoint = "  s3:\n    bucket: b\n    endpoint: s3.example.org\n";
  assert.deepEqual(problems(withBackup(endpoint)), [
    'packrat.yaml:9:15: backup.s3.endpoint: "s3.example.org" must be an http:// or https:// URL ' +
    "(e.g. https://s3.us-west-001.backblazeb2.com), or empty for AWS S3",
  ]);
  assert.deepEqual(problems(withBackup("  s3:\n    region: eu\n")), [
    "packrat.yaml:7:3: backup.s3.bucket is required",
  ]);
});

Deno.test("a synology host key must be a SHA256 fingerprint", () => {
  const synology = "  synology:\n    host: nas\n    username: u\n    key_file: /k\n" +
    "    path: backups\n    host_key: SHA256:abc=\n";
  assert.deepEqual(problems(withBackup(synology)), [
    'packrat.yaml:12:15: backup.synology.host_key: "SHA256:abc=" is not a SHA256 host key ' +
    "fingerprint (get it with: ssh-keyscan HOST | ssh-keygen -lf -)",
  ]);
});

Deno.test("notify values are checked without quoting secret URLs", () => {
  const text = `${withBackup("  local: { path: /mnt }\n")}notify:
  on: sometimes
  webhook: https://hooks.example.org/s3cr3t
  ntfy: { url: "ntfy.sh/s3cr3t" }
`;
  const error = configError(text);
  assert.deepEqual(error.message.split("\n"), [
    'packrat.yaml:9:7: notify.on must be "failure" or "always", not the string "sometimes"',
    "packrat.yaml:10:12: notify.webhook must be a mapping, not a string",
    "packrat.yaml:11:16: notify.ntfy.url must be an http:// or https:// URL",
  ]);
  assert.ok(!error.message.includes("s3cr3t"));
});

Deno.test("a service notify with `on` but no target is refused", () => {
  assert.deepEqual(problems(withService("    path: /srv/app\n    notify: { on: always }\n")), [
    'packrat.yaml:6:5: services.app.notify sets "on" but no webhook, ntfy, healthchecks; ' +
    "a notify section replaces the global one, so list its targets here too",
  ]);
});

Deno.test("an unknown time zone is refused", () => {
  assert.deepEqual(problems(withService("    path: /srv/app\n    timezone: Mars/Olympus\n")), [
    'packrat.yaml:6:15: services.app.timezone: "Mars/Olympus" is not a known time zone ' +
    "(use an IANA name such as Europe/Berlin)",
  ]);
});

Deno.test("a hostname that is not a directory name needs backup.host", () => {
  const text = withBackup("  local: { path: /mnt }\n");
  const error = configError(text, { ...ENV, hostname: "my host" });
  assert.equal(
    error.message,
    'packrat.yaml:6:1: this machine\'s hostname "my host" cannot be a directory name; ' +
      "set backup.host",
  );
  assert.deepEqual(problems(withBackup("  host: a/b\n  local: { path: /mnt }\n")), [
    'packrat.yaml:7:9: backup.host: "a/b" is not valid: use only letters, digits, ".", "_" and ' +
    '"-" (it becomes a directory name)',
  ]);
});

Deno.test("every problem is listed, in file order, in one ConfigError", () => {
  const text = `encryption:
  key_file: key
services:
  gitea:
    path: /srv/gitea
    retain_backup: 3
    schedule: "0 2 * *"
backup:
  concurrency: 0
`;
  const error = configError(text);
  assert.deepEqual(error.position, { file: "packrat.yaml", line: 2, column: 13 });
  assert.deepEqual(error.message.split("\n").map((line) => line.split(": ")[0]), [
    "packrat.yaml:2:13",
    "packrat.yaml:6:5",
    "packrat.yaml:7:15",
    "packrat.yaml:8:1",
    "packrat.yaml:9:16",
  ]);
});

Deno.test("YAML structure problems: unknown anchors, several documents, bad merges", () => {
  assert.deepEqual(problems(withService("    path: /srv/app\n    docker: *containers\n")), [
    "packrat.yaml:6:13: unknown anchor: *containers is not defined above",
  ]);
  assert.deepEqual(problems("encryption: { key_file: /k }\n---\nservices: {}\n"), [
    "packrat.yaml:2:1: the config file must be a single YAML document (remove the --- line)",
  ]);
  assert.deepEqual(problems(withService("    <<: 5\n    path: /srv/app\n")), [
    "packrat.yaml:5:9: services.app: << can only merge mappings",
  ]);
});
