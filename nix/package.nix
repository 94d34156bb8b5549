# Packrat, built from source offline in the Nix sandbox: the single binary of `deno task compile`.
#
# Two derivations:
#  - `denoDeps` (passthru) is a fixed-output derivation: the only step with network access. It
#    runs `deno install --frozen` against deno.json + deno.lock and keeps Deno's npm cache
#    (DENO_DIR/npm). Its hash therefore changes exactly when deno.lock does.
#  - the package copies that cache into a private DENO_DIR, lays out node_modules from it
#    without network (`--cached-only`) and runs `deno task compile`, the same command as on a
#    developer's machine (deno.json is the one place its permissions and flags are written),
#    with nixpkgs' `denort` as the runtime instead of a download.
{
  lib,
  stdenvNoCC,
  deno,
}:
let
  # The version is written once, in src/version.ts (`export const VERSION = "…";`).
  versionLine = ''export const VERSION = "([^"]+)";'';
  mainLines = lib.splitString "\n" (builtins.readFile ../src/version.ts);
  matches = builtins.filter (m: m != null) (map (builtins.match versionLine) mainLines);
  version =
    if matches == [ ] then
      throw "nix/package.nix: no `export const VERSION = \"…\";` line in src/version.ts"
    else
      builtins.head (builtins.head matches);

  # The vendored npm dependencies. To update after deno.lock changed: set this to lib.fakeHash,
  # run `nix build .#default.denoDeps` (or `nix build .#default`), and copy the hash Nix reports
  # after "got:". It cannot be computed without network access to npm, which is why it is still
  # lib.fakeHash here: the first build on a machine with network prints the real one. The npm
  # packages Packrat uses have no platform-specific parts, so x86_64 and aarch64 share the hash.
  depsHash = lib.fakeHash;

  depsSrc = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../deno.json
      ../deno.lock
    ];
  };

  denoDeps = stdenvNoCC.mkDerivation {
    pname = "packrat-deno-deps";
    inherit version;
    src = depsSrc;
    nativeBuildInputs = [ deno ];

    dontConfigure = true;
    dontFixup = true;
    impureEnvVars = lib.fetchers.proxyImpureEnvVars;

    buildPhase = ''
      runHook preBuild
      export HOME="$TMPDIR"
      export DENO_NO_UPDATE_CHECK=1
      export DENO_DIR="$out/deno"
      # Every npm package of deno.lock, checked against its integrity hash; --frozen fails
      # rather than change the lock. Lifecycle scripts are not run (Packrat needs none).
      deno install --frozen --quiet
      runHook postBuild
    '';

    # Keep only the unpacked packages. registry.json holds npm's current metadata (it changes
    # whenever a new version is published) and the *_cache_v2 files are SQLite caches: neither
    # is reproducible, and the build does not need them.
    installPhase = ''
      runHook preInstall
      find "$DENO_DIR" -mindepth 1 -maxdepth 1 ! -name npm -exec rm -rf {} +
      find "$DENO_DIR/npm" -name registry.json -delete
      runHook postInstall
    '';

    outputHashMode = "recursive";
    outputHashAlgo = "sha256";
    outputHash = depsHash;
  };
in
stdenvNoCC.mkDerivation (finalAttrs: {
  pname = "packrat";
  inherit version;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../deno.json
      ../deno.lock
      ../main.ts
      ../src
    ];
  };

  nativeBuildInputs = [ deno ];

  env = {
    # The runtime `deno compile` wraps the program in; without it, deno would download it.
    # nixpkgs' deno keeps it in its `denort` output.
    DENORT_BIN = "${deno.denort}/bin/denort";
    DENO_NO_UPDATE_CHECK = "1";
  };

  configurePhase = ''
    runHook preConfigure
    export HOME="$TMPDIR"
    # Deno writes caches into DENO_DIR: a writable copy of the vendored one.
    export DENO_DIR="$TMPDIR/deno"
    cp -r ${finalAttrs.passthru.denoDeps}/deno "$DENO_DIR"
    chmod -R u+w "$DENO_DIR"
    # node_modules (deno.json: nodeModulesDir "auto") from the cache alone.
    deno install --frozen --cached-only --quiet
    runHook postConfigure
  '';

  buildPhase = ''
    runHook preBuild
    # deno.json's task: deno compile -P=packrat … --output dist/packrat main.ts
    deno task compile
    runHook postBuild
  '';

  installPhase = ''
    runHook preInstall
    install -Dm755 dist/packrat "$out/bin/packrat"
    runHook postInstall
  '';

  # The program is appended to a copy of denort: stripping or patching the ELF file would damage
  # it, and nixpkgs' denort is already linked against the store's libraries.
  dontStrip = true;
  dontPatchELF = true;

  doInstallCheck = true;
  installCheckPhase = ''
    runHook preInstallCheck
    "$out/bin/packrat" --version | grep -Fx ${lib.escapeShellArg version}
    runHook postInstallCheck
  '';

  passthru = { inherit denoDeps; };

  meta = {
    description = "Encrypted, scheduled backups of homelab services, with one-command restores";
    mainProgram = "packrat";
    platforms = [
      "x86_64-linux"
      "aarch64-linux"
    ];
    # TODO: the repository has no LICENSE file and the README names no license; set
    # `license = lib.licenses.<id>;` here once the project has chosen one.
  };
})
