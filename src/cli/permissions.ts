/**
 * Each command gives up the permissions it does not need, so a bug or a hostile archive can do
 * less: e.g. `list` cannot write files or run programs.
 *
 * @module
 */

type Droppable = "write" | "net" | "run";

/** Revokes every droppable permission not in `keep`. */
export function keepOnly(...keep: Droppable[]): void {
  for (const name of ["write", "net", "run"] as const) {
    if (!keep.includes(name)) Deno.permissions.revokeSync({ name });
  }
}
