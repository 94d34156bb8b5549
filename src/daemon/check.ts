/**
 * `packrat daemon --test`: everything a scheduled run will need, checked without backing
 * anything up — config, key, state directory, each destination (list, write, delete), each
 * container, each service and hook directory — and each schedule's next run. Every problem is
 * found, not just the first.
 *
 * @module
 */
import { loadConfig } from "../config/load.ts";
import { readSecret } from "../config/secrets.ts";
import type { Config, Secret, ServiceConfig } from "../config/types.ts";
import { readKeyFile } from "../crypto/key.ts";
import type { Destination } from "../destinations/destination.ts";
import { closeDestinations, openDestinations } from "../destinations/index.ts";
import { newBackupId } from "../catalog/id.ts";
import { DockerClient } from "../docker/client.ts";
import { messageOf } from "../errors.ts";
import { stateDirectory } from "../state/directory.ts";
import { formatLocal, localTimeZone, scheduleOf, verifyScheduleOf } from "./schedule.ts";

/** One line of the check: what was checked and, when it failed, why. */
export interface CheckResult {
  readonly subject: string;
  readonly problem?: string;
  readonly detail?: string;
}

/** Where the probe goes: `@` is not allowed in service names, so no service can collide. */
const PROBE_SERVICE = "@packrat-probe";

/**
 * Runs every check and calls `report` with each result as it is known. Returns the results;
 * the setup is good when none has a problem.
 */
export async function checkSetup(
  configPath: string | undefined,
  report: (result: CheckResult) => void,
  now = new Date(),
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const note = (result: CheckResult) => {
    results.push(result);
    report(result);
  };
  let config: Config;
  try {
    config = await loadConfig({ path: configPath });
    note({ subject: "config", detail: config.file });
  } catch (error) {
    note({ subject: "config", problem: messageOf(error) });
    return results;
  }
  await check(note, "key", async () => {
    await readKeyFile(config.encryption.keyFile);
    return config.encryption.keyFile;
  });
  await check(note, "state directory", () => writableDir(stateDirectory(config.backup.stateDir)));
  await check(note, "staging directory", () => writableDir(config.backup.stagingDir));

  let destinations: Destination[] = [];
  try {
    destinations = await openDestinations(config);
    await Promise.all(
      destinations.map((destination) =>
        check(
          note,
          `destination ${destination.name}`,
          () => probe(destination, config),
          `${destination.name}: `,
        )
      ),
    );
  } catch (error) {
    note({ subject: "destinations", problem: messageOf(error) });
  } finally {
    await closeDestinations(destinations);
  }

  await checkServices(config, note, now);
  return results;
}

async function check(
  note: (result: CheckResult) => void,
  subject: string,
  work: () => Promise<string | undefined>,
  /** Dropped from the start of an error message that repeats the subject. */
  redundant?: string,
): Promise<void> {
  try {
    note({ subject, detail: await work() });
  } catch (error) {
    const message = messageOf(error);
    const problem = redundant && message.startsWith(redundant)
      ? message.slice(redundant.length)
      : message;
    note({ subject, problem });
  }
}

/** Creates `dir` if need be (as a run would) and writes and removes a file in it. */
async function writableDir(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  const probe = `${dir}/.probe-${Deno.pid}`;
  await Deno.writeTextFile(probe, "");
  await Deno.remove(probe);
  return dir;
}

/** Lists, writes a small object, sees it listed, reads it back and deletes it. */
async function probe(destination: Destination, config: Config): Promise<string> {
  const host = config.backup.host;
  const id = newBackupId();
  const started = performance.now();
  const file = await Deno.makeTempFile({
    dir: config.backup.stagingDir,
    prefix: ".packrat-probe-",
  });
  try {
    await destination.list(host, PROBE_SERVICE);
    const bytes = crypto.getRandomValues(new Uint8Array(64));
    await Deno.writeFile(file, bytes);
    await destination.put(host, PROBE_SERVICE, id, file, bytes.length);
    try {
      const listed = await destination.list(host, PROBE_SERVICE);
      if (!listed.some((archive) => archive.id === id && archive.size === bytes.length)) {
        throw new Error("an object written was not listed afterwards");
      }
    } finally {
      await destination.remove(host, PROBE_SERVICE, id);
    }
    return `list, write and delete work (${Math.round(performance.now() - started)} ms)`;
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

async function checkServices(
  config: Config,
  note: (result: CheckResult) => void,
  now: Date,
): Promise<void> {
  const usesDocker = config.services.some((s) => s.docker);
  using docker = usesDocker ? new DockerClient({ requestTimeoutMs: 10_000 }) : undefined;
  for (const service of config.services) {
    const name = service.name;
    await check(note, `${name}: path`, () => directory(service.path));
    for (
      const [hook, settings] of [["pre_backup", service.preBackup], [
        "post_backup",
        service.postBackup,
      ]] as const
    ) {
      if (settings) {
        await check(note, `${name}: ${hook} working_dir`, () => directory(settings.workingDir));
      }
    }
    // Secret files are read only when a run needs them: a missing one would first show at 2 AM.
    for (const secret of secretFilesOf(service)) {
      await check(note, `${name}: ${secret.key}`, async () => {
        await readSecret(secret);
        return `${secret.path} is readable`;
      }, `${secret.key}: `);
    }
    for (const container of service.docker?.containers ?? []) {
      await check(note, `${name}: container ${container}`, async () => {
        const info = await docker!.inspect(container);
        return info.running ? "running" : "present, not running";
      });
    }
    const schedule = scheduleOf(service);
    const next = schedule?.next(now);
    note({
      subject: `${name}: schedule`,
      detail: schedule
        ? `"${schedule.expression}", next run ${
          next ? formatLocal(next, schedule.timeZone) : "never"
        }`
        : `none (manual only; local time zone ${localTimeZone()})`,
    });
    const verify = verifyScheduleOf(service);
    if (verify) {
      const nextVerify = verify.next(now);
      const { copies, destinations, repair } = service.verify;
      note({
        subject: `${name}: verify`,
        detail: `"${verify.expression}" (${copies === "all" ? "every backup" : "newest backup"}, ${
          destinations === "all" ? "every copy" : "first copy"
        }${repair ? ", then repair" : ""}), next run ${
          nextVerify ? formatLocal(nextVerify, verify.timeZone) : "never"
        }`,
      });
    }
  }
}

/** The service's secrets that come from files: notification URLs and hook variables. */
function secretFilesOf(service: ServiceConfig): (Secret & { kind: "file" })[] {
  const secrets: Secret[] = [
    ...[service.notify?.webhook, service.notify?.ntfy, service.notify?.healthchecks]
      .flatMap((target) => target ? [target.url] : []),
    ...[service.preBackup, service.postBackup]
      .flatMap((hook) => hook ? Object.values(hook.secretEnvironment) : []),
  ];
  return secrets.filter((secret) => secret.kind === "file");
}

async function directory(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(`${path} does not exist`);
    throw error;
  }
  if (!info.isDirectory) throw new Error(`${path} is not a directory`);
  return path;
}
