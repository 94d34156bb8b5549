/** @module Reads `services`: path, schedule, containers, hooks and retention of each service. */

import {
  globPattern,
  isPathSegment,
  laterKey,
  localPathIn,
  pathSegmentRule,
  retentionField,
  schedule,
  timeZone,
} from "./fields.ts";
import { notifyIn } from "./notify.ts";
import { verifyIn } from "./verify.ts";
import {
  boolean,
  childPath,
  duration,
  type Entry,
  isSet,
  listOf,
  type Mapping,
  optional,
  type Read,
  type ReadContext,
  readMapping,
  report,
  required,
  stringList,
  text,
  valueNode,
} from "./reader.ts";
import type {
  DockerConfig,
  HookConfig,
  NotifyConfig,
  RetentionPolicy,
  Secret,
  ServiceConfig,
  VerifyConfig,
} from "./types.ts";

/** What a service takes from the global config when it does not set its own. */
export interface ServiceDefaults {
  readonly home: string;
  readonly retention: RetentionPolicy;
  readonly notify?: NotifyConfig;
  readonly timezone?: string;
  readonly catchUp: boolean;
  readonly verify: VerifyConfig;
}

const SERVICE_KEYS = [
  "path",
  "schedule",
  "timezone",
  "catch_up",
  "docker",
  "exclude",
  "retain_backups",
  "retain",
  "pre_backup",
  "post_backup",
  "notify",
  "verify",
];
const DOCKER_KEYS = ["container", "containers", "stop_timeout", "health_timeout"];
const HOOK_KEYS = ["command", "working_dir", "environment", "timeout"];

const DEFAULT_STOP_TIMEOUT_MS = 30_000;
const DEFAULT_HEALTH_TIMEOUT_MS = 2 * 60_000;
const DEFAULT_HOOK_TIMEOUT_MS = 5 * 60_000;

/** Reads the `services` mapping, in file order; at least one service is required. */
export function servicesWith(defaults: ServiceDefaults): Read<ServiceConfig[]> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry);
    if (!mapping) return undefined;
    if (mapping.entries.size === 0) {
      report(ctx, entry.key, `${entry.path} must define at least one service`);
      return undefined;
    }
    const services: ServiceConfig[] = [];
    for (const [name, serviceEntry] of mapping.entries) {
      const service = readService(ctx, name, serviceEntry, defaults);
      if (service) services.push(service);
    }
    return services.length === mapping.entries.size ? services : undefined;
  };
}

function readService(
  ctx: ReadContext,
  name: string,
  entry: Entry,
  defaults: ServiceDefaults,
): ServiceConfig | undefined {
  const validName = isPathSegment(name);
  if (!validName) {
    report(ctx, entry.key, `invalid service name "${name}": ${pathSegmentRule(name)}`);
  }
  const mapping = readMapping(ctx, entry, SERVICE_KEYS);
  if (!mapping) return undefined;
  const path = required(ctx, mapping, "path", localPathIn(defaults.home));
  // Hooks default to the service's path; with a bad path they are still checked.
  const hook = hookIn(defaults.home, path ?? "/");
  const service: ServiceConfig = {
    name,
    path: path ?? "",
    schedule: optional(ctx, mapping, "schedule", schedule),
    timezone: optional(ctx, mapping, "timezone", timeZone) ?? defaults.timezone,
    catchUp: optional(ctx, mapping, "catch_up", boolean) ?? defaults.catchUp,
    docker: optional(ctx, mapping, "docker", docker),
    exclude: optional(ctx, mapping, "exclude", listOf(globPattern)) ?? [],
    retention: retentionField(ctx, mapping) ?? defaults.retention,
    preBackup: optional(ctx, mapping, "pre_backup", hook),
    postBackup: optional(ctx, mapping, "post_backup", hook),
    notify: optional(ctx, mapping, "notify", notifyIn(defaults.home)) ?? defaults.notify,
    verify: optional(ctx, mapping, "verify", verifyIn(defaults.verify)) ?? defaults.verify,
  };
  return validName && path !== undefined ? service : undefined;
}

const docker: Read<DockerConfig> = (ctx, entry) => {
  const mapping = readMapping(ctx, entry, DOCKER_KEYS);
  if (!mapping) return undefined;
  const containers = readContainers(ctx, mapping);
  const stopTimeoutMs = optional(ctx, mapping, "stop_timeout", duration({ allowZero: true }));
  const healthTimeoutMs = optional(ctx, mapping, "health_timeout", duration());
  return containers && {
    containers,
    stopTimeoutMs: stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    healthTimeoutMs: healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
  };
};

/** `container: x` or `containers: [x, y]`: exactly one of the two. */
function readContainers(ctx: ReadContext, mapping: Mapping): string[] | undefined {
  const single = isSet(mapping, "container");
  const several = isSet(mapping, "containers");
  if (single && several) {
    report(
      ctx,
      laterKey(mapping, "container", "containers"),
      `set ${mapping.path}.container or ${mapping.path}.containers, not both`,
    );
    return undefined;
  }
  if (!several) {
    const container = required(ctx, mapping, "container", text());
    return container === undefined ? undefined : [container];
  }
  const containers = required(ctx, mapping, "containers", stringList);
  if (containers?.length === 0) {
    const entry = mapping.entries.get("containers");
    report(ctx, entry && valueNode(entry), `${mapping.path}.containers must not be empty`);
    return undefined;
  }
  return containers;
}

function hookIn(home: string, servicePath: string): Read<HookConfig> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, HOOK_KEYS);
    if (!mapping) return undefined;
    const command = required(ctx, mapping, "command", text());
    const workingDir = optional(ctx, mapping, "working_dir", localPathIn(home));
    const environment = optional(ctx, mapping, "environment", environmentVariables(home));
    const timeoutMs = optional(ctx, mapping, "timeout", duration());
    return command === undefined ? undefined : {
      command,
      workingDir: workingDir ?? servicePath,
      environment: environment?.plain ?? {},
      secretEnvironment: environment?.secret ?? {},
      timeoutMs: timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    };
  };
}

interface HookEnvironment {
  plain: Record<string, string>;
  secret: Record<string, Secret>;
}

/**
 * Variable names and values; numbers and booleans become the text written in the file.
 * `X_file: PATH` sets `X` to the content of PATH, as for every other secret. Only the lowercase
 * suffix counts: `POSTGRES_PASSWORD_FILE` is a plain variable, as Docker images use it.
 */
function environmentVariables(home: string): Read<HookEnvironment> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry);
    if (!mapping) return undefined;
    const variables: HookEnvironment = { plain: {}, secret: {} };
    for (const [key, variable] of mapping.entries) {
      const name = key.endsWith(SECRET_SUFFIX) ? key.slice(0, -SECRET_SUFFIX.length) : key;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        report(
          ctx,
          variable.key,
          `${entry.path}: "${key}" is not a valid variable name (letters, digits and _)`,
        );
        continue;
      }
      if (variable.value === null) {
        report(ctx, variable.key, `${variable.path} has no value (write "" for an empty one)`);
        continue;
      }
      if (name === key) {
        const value = text({ allowEmpty: true, withBooleans: true })(ctx, variable);
        if (value !== undefined) variables.plain[name] = value;
        continue;
      }
      if (isSet(mapping, name)) {
        report(
          ctx,
          laterKey(mapping, name, key),
          `set ${childPath(entry.path, name)} or ${variable.path}, not both`,
        );
        continue;
      }
      const path = localPathIn(home)(ctx, variable);
      if (path !== undefined) variables.secret[name] = { kind: "file", path, key: variable.path };
    }
    return variables;
  };
}

const SECRET_SUFFIX = "_file";
