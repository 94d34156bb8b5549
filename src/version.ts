/** @module Packrat's version: shown by `--version` and written into every archive's header. */

export const VERSION = "0.1.0";
