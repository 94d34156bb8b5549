/** Helpers for config tests: parse a config with a fixed, made-up machine. @module */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import type { Config, ServiceConfig } from "../../src/config/types.ts";
import { ConfigError } from "../../src/errors.ts";

/** The machine the tests' configs are read on. */
export const ENV = { home: "/home/ann", hostname: "nas1", tmpdir: "/var/tmp/" };

/** Parses `text` as `packrat.yaml` on the made-up machine. */
export function load(text: string): Config {
  return parseConfig(text, "packrat.yaml", ENV);
}

/** The service `name`; fails the test when it is missing. */
export function service(config: Config, name: string): ServiceConfig {
  const found = config.services.find((candidate) => candidate.name === name);
  assert.ok(found, `service ${name} is missing`);
  return found;
}

/** Every problem line of the ConfigError that parsing `text` throws; fails if it parses. */
export function problems(text: string): string[] {
  try {
    load(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    return error.message.split("\n");
  }
  assert.fail("the config was accepted");
}
