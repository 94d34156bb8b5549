import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import type { Config, ServiceConfig } from "../../src/config/types.ts";

// Both examples are copied verbatim: the product specification and the original README's configuration.
// They must keep loading unchanged.

const PRODUCT_EXAMPLE = `encryption:
  key_file: ~/.config/packrat/key      # derived key; \`~\` expands to the running user's home
services:
  gitea:
    path: /var/lib/gitea
    schedule: "0 2 * * *"             # standard 5-field cron, machine's local time zone
    docker:
      container: gitea
    exclude: ["**/tmp/**", "**/.git"]  # doublestar globs, relative to \`path\`
    retain_backups: 14
  postgres:
    path: /var/lib/postgres/backups
    schedule: "0 3 * * *"
    docker: { container: postgres }
    pre_backup:
      command: pg_dumpall -U postgres > /var/lib/postgres/backups/dump.sql
      working_dir: /var/lib/postgres   # default: the service's path
      environment: { PGPASSWORD: your-password }
      timeout: 30m                     # Go-style durations: 90s, 30m, 2h, 1h30m; default 5m
    exclude: ["**/*.log"]
    retain_backups: 30
backup:
  retain_backups: 7                    # default for services that set none
  synology:
    host: 192.168.1.100
    port: 22
    username: backups
    key_file: ~/.ssh/id_rsa
    path: ./backups/                   # relative paths are relative to the SSH login directory
  s3:
    endpoint: https://s3.us-west-001.backblazeb2.com   # empty/absent = AWS S3
    region: us-west-001
    bucket: homelab-backups
    access_key_id: your-access-key                     # or access_key_id_file: /run/secrets/...
    secret_access_key: your-secret-key                 # or secret_access_key_file: ...
    path: backups/packrat/
`;

const README_EXAMPLE = `encryption:
  key_file: ~/.config/packrat/key  # Contains the derived encryption key

services:
  # Example of a Docker-based service
  gitea:
    path: /var/lib/gitea
    schedule: "0 2 * * *"  # 2 AM daily
    docker:
      container: gitea
    exclude:
      - "**/tmp/**"
      - "**/.git"
    retain_backups: 14  # Keep last 14 backups
  
  # Example of a service with pre-backup database dump
  postgres:
    path: /var/lib/postgres/backups
    schedule: "0 3 * * *"  # 3 AM daily
    docker:
      container: postgres
    pre_backup:
      command: pg_dumpall -U postgres > /var/lib/postgres/backups/dump.sql
      working_dir: /var/lib/postgres
      environment:
        PGPASSWORD: your-password
      timeout: 30m  # Allow up to 30 minutes for the dump
    exclude:
      - "**/*.log"
    retain_backups: 30  # Keep last 30 backups

  # Example of a simple directory backup without Docker
  documents:
    path: /home/user/documents
    schedule: "0 1 * * *"  # 1 AM daily
    exclude:
      - "**/.DS_Store"
      - "**/node_modules"
      - "**/*.tmp"
    retain_backups: 60  # Keep last 60 backups

  # Example of a non-Docker service with API-based backup
  nextcloud:
    path: /var/www/nextcloud/data/backups
    schedule: "0 4 * * *"  # 4 AM daily
    pre_backup:
      command: |
        curl -X POST \\
          -H "Authorization: Bearer \${NC_TOKEN}" \\
          -H "Content-Type: application/json" \\
          http://localhost:8080/ocs/v2.php/apps/backup/api/v1/backup
      environment:
        NC_TOKEN: your-nextcloud-token
      timeout: 2h  # Allow up to 2 hours for large instances
    exclude:
      - "**/*.part"
      - "**/cache/*"
    retain_backups: 14

backup:
  retain_backups: 7  # Global default: keep last 7 backups
  synology:
    host: 192.168.1.100
    port: 22
    username: backups
    key_file: ~/.ssh/id_rsa
    path: ./backups/test/
  s3:
    # For Backblaze B2, use endpoint: https://s3.REGION.backblazeb2.com
    # For MinIO, use your MinIO server endpoint
    # For AWS S3, leave endpoint empty
    endpoint: https://s3.us-west-001.backblazeb2.com
    region: us-west-001
    bucket: homelab-backups
    access_key_id: your-access-key
    secret_access_key: your-secret-key
    path: backups/packrat/
`;

const ENV = { home: "/home/ann", hostname: "nas1", tmpdir: "/tmp" };

function service(config: Config, name: string): ServiceConfig {
  const found = config.services.find((candidate) => candidate.name === name);
  assert.ok(found, `service ${name} is missing`);
  return found;
}

Deno.test("the specification example loads with the expected resolved values", () => {
  const config = parseConfig(PRODUCT_EXAMPLE, "product.yaml", ENV);
  assert.equal(config.file, "product.yaml");
  assert.equal(config.encryption.keyFile, "/home/ann/.config/packrat/key");
  assert.deepEqual(config.services.map((s) => s.name), ["gitea", "postgres"]);

  const gitea = service(config, "gitea");
  assert.equal(gitea.path, "/var/lib/gitea");
  assert.equal(gitea.schedule, "0 2 * * *");
  assert.deepEqual(gitea.docker, {
    containers: ["gitea"],
    stopTimeoutMs: 30_000,
    healthTimeoutMs: 120_000,
  });
  assert.deepEqual(gitea.exclude, ["**/tmp/**", "**/.git"]);
  assert.deepEqual(gitea.retention, { kind: "count", keep: 14 });
  assert.equal(gitea.preBackup, undefined);

  const postgres = service(config, "postgres");
  assert.deepEqual(postgres.docker?.containers, ["postgres"]);
  assert.deepEqual(postgres.preBackup, {
    command: "pg_dumpall -U postgres > /var/lib/postgres/backups/dump.sql",
    workingDir: "/var/lib/postgres",
    environment: { PGPASSWORD: "your-password" },
    secretEnvironment: {},
    timeoutMs: 1_800_000,
  });
  assert.deepEqual(postgres.retention, { kind: "count", keep: 30 });

  const { backup } = config;
  assert.equal(backup.host, "nas1");
  assert.equal(backup.stagingDir, "/tmp");
  assert.equal(backup.concurrency, 1);
  assert.equal(backup.local, undefined);
  assert.equal(backup.synology?.host, "192.168.1.100");
  assert.equal(backup.synology?.port, 22);
  assert.equal(backup.synology?.username, "backups");
  assert.equal(backup.synology?.keyFile, "/home/ann/.ssh/id_rsa");
  assert.equal(backup.synology?.path, "./backups");
  assert.equal(backup.synology?.knownHosts, "/home/ann/.ssh/known_hosts");
  assert.deepEqual(backup.s3, {
    endpoint: "https://s3.us-west-001.backblazeb2.com",
    region: "us-west-001",
    bucket: "homelab-backups",
    accessKeyId: { kind: "inline", value: "your-access-key", key: "backup.s3.access_key_id" },
    secretAccessKey: {
      kind: "inline",
      value: "your-secret-key",
      key: "backup.s3.secret_access_key",
    },
    path: "backups/packrat/",
  });
});

Deno.test("the original README example loads with the expected resolved values", () => {
  const config = parseConfig(README_EXAMPLE, "readme.yaml", ENV);
  assert.deepEqual(config.services.map((s) => s.name), [
    "gitea",
    "postgres",
    "documents",
    "nextcloud",
  ]);
  assert.equal(config.encryption.keyFile, "/home/ann/.config/packrat/key");

  const documents = service(config, "documents");
  assert.equal(documents.docker, undefined);
  assert.equal(documents.schedule, "0 1 * * *");
  assert.deepEqual(documents.retention, { kind: "count", keep: 60 });
  assert.deepEqual(documents.exclude, ["**/.DS_Store", "**/node_modules", "**/*.tmp"]);

  const nextcloud = service(config, "nextcloud");
  const hook = nextcloud.preBackup;
  assert.ok(hook);
  // No working_dir: the hook runs in the service's path.
  assert.equal(hook.workingDir, "/var/www/nextcloud/data/backups");
  assert.equal(hook.timeoutMs, 2 * 3_600_000);
  assert.deepEqual(hook.environment, { NC_TOKEN: "your-nextcloud-token" });
  assert.match(hook.command, /^curl -X POST \\\n/);
  assert.match(hook.command, /Bearer \$\{NC_TOKEN\}/);

  assert.equal(service(config, "postgres").preBackup?.timeoutMs, 1_800_000);
  assert.equal(config.backup.synology?.path, "./backups/test");
  assert.equal(config.backup.s3?.path, "backups/packrat/");
  assert.equal(config.backup.s3?.endpoint, "https://s3.us-west-001.backblazeb2.com");
});
