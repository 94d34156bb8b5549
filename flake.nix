{
  description = "Packrat: encrypted, scheduled backups of homelab services, with one-command restores";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        packrat = pkgs.callPackage ./nix/package.nix { };
        default = packrat;
      });

      overlays.default = final: _prev: {
        packrat = final.callPackage ./nix/package.nix { };
      };

      # services.packrat, with this flake's package (built with the system's own nixpkgs on
      # other platforms). See docs/NIXOS.md.
      nixosModules.default =
        { pkgs, lib, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.packrat.package = lib.mkDefault (
            self.packages.${pkgs.stdenv.hostPlatform.system}.default
              or (pkgs.callPackage ./nix/package.nix { })
          );
        };

      # The module evaluated with nixpkgs' lib.evalModules against the checks of
      # nix/tests/eval.nix (the same ones scripts/nix-eval runs).
      checks = forAllSystems (pkgs: {
        module-eval =
          let
            result = import ./nix/tests/eval.nix { inherit lib; };
          in
          if result.failed == [ ] then
            pkgs.runCommand "packrat-module-eval" { } ''
              printf '%s\n' ${lib.escapeShellArgs result.lines} > "$out"
            ''
          else
            throw ("nix/tests/eval.nix:\n" + lib.concatStringsSep "\n" result.failed);
      });
    };
}
