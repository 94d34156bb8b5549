/** @module The config schema: turns a parsed YAML document into a resolved `Config`. */

import { backupIn } from "./backup.ts";
import { localPathIn } from "./fields.ts";
import { notifyIn } from "./notify.ts";
import {
  type Entry,
  optional,
  type Read,
  type ReadContext,
  readMapping,
  report,
  required,
} from "./reader.ts";
import { servicesWith } from "./service.ts";
import { DEFAULT_VERIFY } from "./verify.ts";
import type { Config } from "./types.ts";

/** The machine facts that defaults and `~` come from. */
export interface ConfigEnvironment {
  readonly home: string;
  readonly hostname: string;
  readonly tmpdir: string;
}

const TOP_KEYS = ["encryption", "services", "backup", "notify"];

/**
 * Reads the whole document. Every problem found is added to `ctx.problems`; the result is
 * only meaningful when there are none.
 */
export function readConfig(
  ctx: ReadContext,
  root: Entry,
  env: ConfigEnvironment,
): Config | undefined {
  if (root.value === null) {
    report(ctx, undefined, "the config file is empty; see the README for an example");
    return undefined;
  }
  const top = readMapping(ctx, root, TOP_KEYS);
  if (!top) return undefined;
  const keyFile = required(ctx, top, "encryption", encryptionIn(env.home));
  const backup = required(ctx, top, "backup", backupIn(env));
  const services = required(
    ctx,
    top,
    "services",
    servicesWith({
      home: env.home,
      retention: backup?.defaultRetention ?? { kind: "none" },
      notify: optional(ctx, top, "notify", notifyIn(env.home)),
      timezone: backup?.timezone,
      catchUp: backup?.catchUp ?? true,
      verify: backup?.verify ?? DEFAULT_VERIFY,
    }),
  );
  if (keyFile === undefined || backup === undefined || services === undefined) return undefined;
  return { file: ctx.file, encryption: { keyFile }, services, backup: backup.config };
}

function encryptionIn(home: string): Read<string> {
  return (ctx, entry) => {
    const mapping = readMapping(ctx, entry, ["key_file"]);
    return mapping && required(ctx, mapping, "key_file", localPathIn(home));
  };
}
