# Stand-ins for the parts of NixOS and nixpkgs that nix/module.nix uses, so that the module can be
# evaluated with nothing but nixpkgs' lib (nixpkgs.lib's `lib.evalModules`). The option stubs
# declare only the NixOS options the module sets, with the names and roughly the types NixOS
# gives them; an option the module sets that is missing here is an evaluation error, on purpose.
{ lib }:
let
  inherit (lib) mkOption types;

  fakeDrv = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };

  # pkgs.formats.yaml's value type, as nixpkgs defines it.
  yamlValue =
    types.nullOr (
      types.oneOf [
        types.bool
        types.int
        types.float
        types.str
        types.path
        (types.attrsOf yamlValue)
        (types.listOf yamlValue)
      ]
    )
    // {
      description = "YAML value";
    };

  # Roughly NixOS's systemd unit option values.
  unitValue = types.oneOf [
    types.bool
    types.int
    types.str
    (types.listOf types.str)
  ];
in
{
  pkgs = {
    formats.yaml =
      { }:
      {
        type = yamlValue;
        # JSON is YAML: the text is what the test compares. The real generator runs remarshal.
        generate = name: value: fakeDrv name // { text = builtins.toJSON value; };
      };
    bash = fakeDrv "bash-5.3";
    coreutils = fakeDrv "coreutils-9.7";
    # The module's default package: nix/package.nix, which needs a real nixpkgs.
    callPackage = _path: _args: fakeDrv "packrat-0.1.0";
    # For the examples of docs/NIXOS.md.
    postgresql_16 = fakeDrv "postgresql-16.9";
    writeText = name: text: fakeDrv name // { inherit text; };
  };

  # What the examples of docs/NIXOS.md use besides the module: sops-nix, agenix, tmpfiles.
  docs =
    let
      secretsOf =
        dir:
        types.attrsOf (
          types.submodule (
            { name, ... }:
            {
              options = {
                file = mkOption {
                  type = types.path;
                  default = /dev/null;
                };
                owner = mkOption {
                  type = types.str;
                  default = "root";
                };
                group = mkOption {
                  type = types.str;
                  default = "root";
                };
                mode = mkOption {
                  type = types.str;
                  default = "0400";
                };
                path = mkOption {
                  type = types.str;
                  default = "${dir}/${name}";
                };
              };
            }
          )
        );
    in
    {
      options = {
        sops.secrets = mkOption {
          type = secretsOf "/run/secrets";
          default = { };
        };
        sops.defaultSopsFile = mkOption { type = types.path; };
        sops.age.keyFile = mkOption { type = types.str; };
        age.secrets = mkOption {
          type = secretsOf "/run/agenix";
          default = { };
        };
        systemd.tmpfiles.rules = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
      };
    };

  inherit fakeDrv;

  nixos = {
    options = {
      assertions = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
      };
      warnings = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };

      users.users = mkOption {
        default = { };
        type = types.attrsOf (
          types.submodule {
            options = {
              isSystemUser = mkOption {
                type = types.bool;
                default = false;
              };
              group = mkOption {
                type = types.str;
                default = "";
              };
              description = mkOption {
                type = types.str;
                default = "";
              };
              home = mkOption {
                type = types.str;
                default = "/var/empty";
              };
              createHome = mkOption {
                type = types.bool;
                default = false;
              };
              homeMode = mkOption {
                type = types.strMatching "[0-7]{1,5}";
                default = "700";
              };
              extraGroups = mkOption {
                type = types.listOf types.str;
                default = [ ];
              };
            };
          }
        );
      };
      users.groups = mkOption {
        default = { };
        type = types.attrsOf (types.submodule { });
      };

      environment.systemPackages = mkOption {
        type = types.listOf types.package;
        default = [ ];
      };
      environment.etc = mkOption {
        default = { };
        type = types.attrsOf (
          types.submodule {
            options = {
              source = mkOption { type = types.unspecified; };
              mode = mkOption {
                type = types.str;
                default = "symlink";
              };
              user = mkOption {
                type = types.str;
                default = "+0";
              };
              group = mkOption {
                type = types.str;
                default = "+0";
              };
            };
          }
        );
      };

      systemd.services = mkOption {
        default = { };
        type = types.attrsOf (
          types.submodule {
            options = {
              description = mkOption {
                type = types.str;
                default = "";
              };
              wantedBy = mkOption {
                type = types.listOf types.str;
                default = [ ];
              };
              after = mkOption {
                type = types.listOf types.str;
                default = [ ];
              };
              wants = mkOption {
                type = types.listOf types.str;
                default = [ ];
              };
              path = mkOption {
                type = types.listOf types.package;
                default = [ ];
              };
              reloadTriggers = mkOption {
                type = types.listOf types.unspecified;
                default = [ ];
              };
              serviceConfig = mkOption {
                type = types.attrsOf unitValue;
                default = { };
              };
            };
          }
        );
      };
    };
  };
}
