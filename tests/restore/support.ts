/**
 * Helpers for restore tests: hand-built archives (as an attacker with the key would make
 * them), tmpfs mounts, immutable files, and running the CLI as an unprivileged user.
 *
 * @module
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { encodeEntryHeader, END_OF_ARCHIVE, padded, type TarEntry } from "../../src/archive/tar.ts";
import { encodeHeader, newHeader } from "../../src/crypto/header.ts";
import { readKeyFile } from "../../src/crypto/key.ts";
import { ChunkEncryptor } from "../../src/crypto/stream.ts";
import { type CliResult, ROOT } from "../helpers.ts";

export type Item = Partial<TarEntry> & { path: string; content?: string };

/** A tar stream of `items` (files by default, mode 0644, owner 0, mtime 0). */
export function tarOf(items: Item[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const content = new TextEncoder().encode(item.content ?? "");
    parts.push(
      encodeEntryHeader({
        type: "file",
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtimeMs: 0,
        ...item,
        size: item.type && item.type !== "file" ? 0 : content.length,
      }).slice(),
    );
    if (!item.type || item.type === "file") {
      const block = new Uint8Array(padded(content.length));
      block.set(content);
      parts.push(block);
    }
  }
  parts.push(END_OF_ARCHIVE);
  const tar = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) (tar.set(p, offset), offset += p.length);
  return tar;
}

/** Writes a valid, encrypted archive of `items` under the user's key. */
export async function plantArchive(keyFile: string, file: string, items: Item[]): Promise<void> {
  const master = await readKeyFile(keyFile);
  const header = newHeader(master, {});
  const out = await Deno.open(file, { write: true, create: true, truncate: true });
  const encryptor = await ChunkEncryptor.start(
    master,
    header,
    await encodeHeader(header),
    async (b) => {
      await out.write(b);
    },
  );
  await encryptor.write(zlib.zstdCompressSync(tarOf(items)));
  await encryptor.close();
  out.close();
}

async function run(command: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(command, { args, stdout: "null" }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

/**
 * Mounts a fresh tmpfs on `dir` (created if needed), `size` bytes if given. A failed mount
 * fails the test. Disposing unmounts every mount point under `root` — also one a buggy
 * restore moved elsewhere.
 */
export function tmpfs(dir: string, root: string, size?: number): Promise<AsyncDisposable> {
  const options = size === undefined ? [] : ["-o", `size=${size}`];
  return mount(["-t", "tmpfs", ...options, "tmpfs", dir], dir, root);
}

/** Bind-mounts `source` on `dir` (same filesystem: same device number); see `tmpfs`. */
export function bindMount(source: string, dir: string, root: string): Promise<AsyncDisposable> {
  return mount(["--bind", source, dir], dir, root);
}

async function mount(args: string[], dir: string, root: string): Promise<AsyncDisposable> {
  await Deno.mkdir(dir, { recursive: true });
  const mounted = await run("mount", args);
  assert.equal(mounted.code, 0, `mount ${args.join(" ")} failed: ${mounted.stderr}`);
  return { [Symbol.asyncDispose]: () => unmountAllUnder(root) };
}

/** Mount points at or below `root`, from the mount table (Deno reads /proc only with -A). */
export async function mountPoints(root: string): Promise<string[]> {
  const { stdout } = await new Deno.Command("cat", { args: ["/proc/self/mountinfo"] }).output();
  return new TextDecoder().decode(stdout).split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point) => point !== undefined && (point === root || point.startsWith(`${root}/`)))
    .sort();
}

async function unmountAllUnder(root: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const points = (await mountPoints(root)).sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const point of points) {
      if ((await run("umount", [point])).code !== 0) await run("umount", ["-l", point]);
    }
  }
}

/** Sets or clears the immutable attribute (even root cannot rename or delete such a file). */
export async function immutable(path: string, on: boolean): Promise<void> {
  const result = await run("chattr", [on ? "+i" : "-i", path]);
  assert.equal(result.code, 0, `chattr on ${path} failed: ${result.stderr}`);
}

/** Clears the immutable attribute of every file under `root` (for cleanup). */
export async function clearImmutable(root: string): Promise<void> {
  await run("chattr", ["-R", "-i", root]);
}

/** The id of `nobody`, to run the CLI without root's privileges. */
export const NOBODY = 65534;

/** Gives the whole tree to `nobody`. */
export async function giveToNobody(root: string): Promise<void> {
  const result = await run("chown", ["-R", `${NOBODY}:${NOBODY}`, root]);
  assert.equal(result.code, 0, result.stderr);
}

/** Runs `packrat ARGS` as `nobody` (via setpriv), with a Deno cache of its own under `home`. */
export async function packratAsNobody(args: string[], home: string): Promise<CliResult> {
  const { code, stdout, stderr } = await new Deno.Command("setpriv", {
    args: [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "env",
      `HOME=${home}`,
      `DENO_DIR=${home}/deno`,
      "NO_COLOR=1",
      `${ROOT}/scripts/packrat`,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Names of restore leftovers (`.packrat-restore-*`, `.packrat-old-*`, …) anywhere under `root`. */
export function leftovers(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (/packrat-(restore|old|tmp)/.test(entry.name)) found.push(path);
      else if (entry.isDirectory && !entry.isSymlink) visit(path);
    }
  };
  visit(root);
  return found;
}
