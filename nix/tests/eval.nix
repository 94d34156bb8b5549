# Evaluates nix/module.nix with nixpkgs' lib.evalModules and the stubs of ./stubs.nix, and checks
# what it produces: the rendered config, the systemd service, users, assertions and warnings.
#
#   nix-instantiate --eval --strict --json nix/tests/eval.nix --arg lib 'import /path/to/nixpkgs.lib/lib'
#
# `-A lines` gives one "PASS id: …" or "FAIL id: …" per check; `-A failed` only the failures. One
# check alone, with the real error when it does not evaluate: `-A checks.<id>`
# (scripts/nix-eval --only <id>); `-A ids` lists them. `-A example` shows what the guide's
# example produces. (builtins.tryEval catches throws, not every error: when `-A lines` stops
# at one, scripts/nix-eval evaluates the checks one by one.) `-A crossCheck` feeds its comparison
# with `packrat systemd-unit`.
{
  lib,
  # The examples of docs/NIXOS.md, as files (scripts/nix-eval extracts them): { configuration;
  # sops; agenix; configurationAgenix; }. Without them their checks are left out.
  docs ? null,
}:
let
  stubs = import ./stubs.nix { inherit lib; };
  hardening = builtins.fromJSON (builtins.readFile ../../src/systemd/hardening.json);
  package = stubs.fakeDrv "packrat-0.1.0";

  evalWith =
    modules:
    (lib.evalModules {
      modules = [
        stubs.nixos
        ../module.nix
        { _module.args.pkgs = stubs.pkgs; }
      ]
      ++ modules;
    }).config;

  # The original guide's example, with secrets as files and a database dump in a second service.
  guide = {
    services.packrat = {
      enable = true;
      settings = {
        services = {
          gitea = {
            path = "/var/lib/gitea";
            schedule = "0 2 * * *";
            docker.container = "gitea";
            exclude = [
              "**/tmp/**"
              "**/.git"
            ];
            retain_backups = 14;
          };
          gitea-db = {
            path = "/var/backup/gitea-db";
            schedule = "30 1 * * *";
            pre_backup = {
              command = "pg_dump --format=custom --file=/var/backup/gitea-db/gitea.dump gitea";
              environment = {
                PGHOST = "127.0.0.1";
                PGUSER = "gitea";
                PGPASSWORD_file = "/run/secrets/gitea-db-password";
              };
              timeout = "10m";
            };
          };
        };
        backup = {
          retain_backups = 7;
          synology = {
            host = "192.168.1.100";
            port = 22;
            username = "backups";
            key_file = "/var/lib/packrat/.ssh/id_ed25519";
            known_hosts = "/var/lib/packrat/.ssh/known_hosts";
            path = "./backups/";
          };
          s3 = {
            endpoint = "https://s3.us-west-001.backblazeb2.com";
            region = "us-west-001";
            bucket = "homelab-backups";
            access_key_id_file = "/run/secrets/packrat/s3_access_key";
            secret_access_key_file = "/run/secrets/packrat/s3_secret_key";
            path = "backups/packrat/";
          };
        };
      };
    };
  };

  # What /etc/packrat/config.yaml must hold for the guide (defaults filled in, nothing null).
  expectedConfig = {
    encryption.key_file = "/var/lib/packrat/key";
    services = {
      gitea = {
        path = "/var/lib/gitea";
        schedule = "0 2 * * *";
        docker.container = "gitea";
        exclude = [
          "**/tmp/**"
          "**/.git"
        ];
        retain_backups = 14;
      };
      gitea-db = {
        path = "/var/backup/gitea-db";
        schedule = "30 1 * * *";
        pre_backup = {
          command = "pg_dump --format=custom --file=/var/backup/gitea-db/gitea.dump gitea";
          environment = {
            PGHOST = "127.0.0.1";
            PGUSER = "gitea";
            PGPASSWORD_file = "/run/secrets/gitea-db-password";
          };
          timeout = "10m";
        };
      };
    };
    backup = {
      retain_backups = 7;
      state_dir = "/var/lib/packrat";
      synology = {
        host = "192.168.1.100";
        port = 22;
        username = "backups";
        key_file = "/var/lib/packrat/.ssh/id_ed25519";
        known_hosts = "/var/lib/packrat/.ssh/known_hosts";
        path = "./backups/";
      };
      s3 = {
        endpoint = "https://s3.us-west-001.backblazeb2.com";
        region = "us-west-001";
        bucket = "homelab-backups";
        access_key_id_file = "/run/secrets/packrat/s3_access_key";
        secret_access_key_file = "/run/secrets/packrat/s3_secret_key";
        path = "backups/packrat/";
      };
    };
  };

  withGuide = extra: evalWith ([ guide ] ++ extra);
  configText = c: c.environment.etc."packrat/config.yaml".source.text;
  configOf = c: builtins.fromJSON (configText c);
  unitOf = c: c.systemd.services.packrat;
  serviceConfigOf = c: (unitOf c).serviceConfig;
  failedMessages = c: map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);
  mentions = needle: lib.any (lib.hasInfix needle);

  systemdValue =
    v:
    if builtins.isBool v then
      (if v then "yes" else "no")
    else if builtins.isList v then
      lib.concatStringsSep " " v
    else
      toString v;
  unitLinesOf =
    c:
    let
      unit = unitOf c;
      service = removeAttrs unit.serviceConfig [
        "ExecStart"
        "ExecReload"
      ];
    in
    [
      "Description=${unit.description}"
      "After=${systemdValue unit.after}"
      "Wants=${systemdValue unit.wants}"
      "WantedBy=${systemdValue unit.wantedBy}"
    ]
    ++ lib.mapAttrsToList (key: value: "${key}=${systemdValue value}") service;

  hasNull =
    value:
    if builtins.isAttrs value then
      lib.any hasNull (lib.attrValues value)
    else if builtins.isList value then
      lib.any hasNull value
    else
      value == null;

  # The evaluated configurations the checks look at.
  packratUser = withGuide [ ];
  rootUser = withGuide [ { services.packrat.user = "root"; } ];
  literalSecrets = withGuide [
    {
      services.packrat.settings = {
        backup.s3.secret_access_key = "hunter2";
        notify.webhook.url = "https://example.org/hook?token=abc";
        services.gitea.notify.ntfy.url = "https://ntfy.sh/secret-topic";
      };
    }
  ];
  storeSecret = withGuide [
    {
      services.packrat.settings.backup.s3.secret_access_key_file = lib.mkForce "${builtins.toFile "s3-secret" "x"}";
    }
  ];
  homePath = withGuide [
    { services.packrat.settings.services.documents.path = "/home/ann/documents/"; }
  ];
  rootTildeKey = withGuide [
    {
      services.packrat.user = "root";
      services.packrat.settings.encryption.key_file = "~/.config/packrat/key";
    }
  ];
  otherPaths = withGuide [
    {
      services.packrat.configDir = "/srv/packrat";
      services.packrat.settings.backup = {
        local.path = "/mnt/usb/backups/";
        staging_dir = "/var/cache/packrat-staging";
        metrics_file = "/var/lib/node_exporter/textfile/packrat.prom";
      };
      services.packrat.settings.services.gitea-db.pre_backup.working_dir = "/var/lib/postgresql";
    }
  ];
  stagingInTmp = withGuide [ { services.packrat.settings.backup.staging_dir = "/tmp/packrat"; } ];
  inlineHookPassword = withGuide [
    { services.packrat.settings.services.gitea-db.pre_backup.environment.PGPASSWORD = "hunter2"; }
  ];
  noDestination = evalWith [
    {
      services.packrat.enable = true;
      services.packrat.settings.services.notes.path = "/srv/notes";
    }
  ];
  disabled = evalWith [ { services.packrat.settings.services.notes.path = "/srv/notes"; } ];
  silencedService = withGuide [ { services.packrat.settings.services.gitea.notify = { }; } ];

  # nix/package.nix with stand-ins for stdenvNoCC and deno: the derivations' attributes.
  packageAttrs = import ../package.nix {
    inherit lib;
    stdenvNoCC.mkDerivation =
      f:
      let
        attrs = if builtins.isFunction f then f attrs else f;
      in
      attrs;
    deno = stubs.fakeDrv "deno-2.9.6" // {
      denort = stubs.fakeDrv "deno-2.9.6-denort";
    };
  };

  # flake.nix's outputs, with nixpkgs' lib and stub packages for its two systems.
  flakePackage = stubs.fakeDrv "packrat-from-the-flake";
  flakePkgs =
    system:
    stubs.pkgs
    // {
      stdenv.hostPlatform.system = system;
      callPackage = _path: _args: flakePackage;
      runCommand = name: _env: script: stubs.fakeDrv name // { inherit script; };
    };
  flake = (import ../../flake.nix).outputs {
    self = flake;
    nixpkgs = {
      inherit lib;
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] flakePkgs;
    };
  };
  viaFlakeModule =
    (lib.evalModules {
      modules = [
        stubs.nixos
        flake.nixosModules.default
        { _module.args.pkgs = stubs.pkgs // { stdenv.hostPlatform.system = "aarch64-linux"; }; }
        guide
      ];
    }).config;

  docsWith = modules: evalWith ([ stubs.docs ] ++ modules);
  docsSops = docsWith [
    docs.configuration
    docs.sops
  ];
  docsAgenix = docsWith [
    docs.configurationAgenix
    docs.agenix
  ];
  docsSecretOwners =
    secrets:
    lib.all (secret: secret.owner == "packrat" && secret.group == "packrat") (lib.attrValues secrets);
  docsChecks = [
    {
      id = "docs-example";
      what = "docs/NIXOS.md: the example with sops-nix evaluates, renders the secrets as paths";
      ok =
        let
          c = configOf docsSops;
        in
        builtins.deepSeq (serviceConfigOf docsSops) true
        && failedMessages docsSops == [ ]
        && docsSops.warnings == [ ]
        && c.backup.s3.access_key_id_file == "/run/secrets/packrat/b2_key_id"
        && c.backup.synology.key_file == "/run/secrets/packrat/nas_ssh_key"
        && lib.hasPrefix "/nix/store/" c.backup.synology.known_hosts
        && c.services.gitea-db.pre_backup.environment.PGPASSWORD_file
        == "/run/secrets/packrat/gitea_db_password"
        && c.notify.ntfy.url_file == "/run/secrets/packrat/ntfy_url"
        && c.services.gitea.docker.container == "gitea"
        && (serviceConfigOf docsSops).ReadWritePaths == [
          "-/var/lib/gitea"
          "-/var/backup/gitea-db"
        ]
        && (serviceConfigOf docsSops).ProtectHome == true
        && docsSecretOwners docsSops.sops.secrets;
    }
    {
      id = "docs-agenix";
      what = "docs/NIXOS.md: the same example with agenix evaluates";
      ok =
        let
          c = configOf docsAgenix;
        in
        builtins.deepSeq (serviceConfigOf docsAgenix) true
        && failedMessages docsAgenix == [ ]
        && c.backup.s3.secret_access_key_file == "/run/agenix/packrat-b2_application_key"
        && c.services.gitea-db.pre_backup.environment.PGPASSWORD_file
        == "/run/agenix/packrat-gitea_db_password"
        && docsSecretOwners docsAgenix.age.secrets;
    }
  ];

  expectedHardening = lib.mapAttrs (
    _: v: if builtins.isList v then lib.concatStringsSep " " v else v
  ) hardening.service;

  checkList = [
    {
      id = "guide-evaluates";
      what = "the guide's full example evaluates, with no failed assertion or warning";
      ok =
        builtins.deepSeq [
          (configText packratUser)
          (serviceConfigOf packratUser)
          packratUser.users
          packratUser.warnings
        ] (failedMessages packratUser == [ ] && packratUser.warnings == [ ]);
    }
    {
      id = "config-exact";
      what = "rendered config is exactly the expected one";
      ok = configOf packratUser == expectedConfig;
    }
    {
      id = "config-fields";
      what = "rendered config: gitea path and container, s3 key id file, state_dir, key_file";
      ok =
        let
          c = configOf packratUser;
        in
        c.services.gitea.path == "/var/lib/gitea"
        && c.services.gitea.docker.container == "gitea"
        && c.backup.s3.access_key_id_file == "/run/secrets/packrat/s3_access_key"
        && c.backup.s3.secret_access_key_file == "/run/secrets/packrat/s3_secret_key"
        && c.services.gitea-db.pre_backup.environment.PGPASSWORD_file == "/run/secrets/gitea-db-password"
        && c.backup.state_dir == "/var/lib/packrat"
        && c.encryption.key_file == "/var/lib/packrat/key";
    }
    {
      id = "config-no-nulls";
      what = "rendered config has no nulls and no unset options";
      ok =
        let
          c = configOf packratUser;
        in
        !hasNull c
        && !(c.services.gitea-db ? docker)
        && !(c.services.gitea ? pre_backup)
        && !(c.backup ? local)
        && !(c ? notify)
        && !(lib.hasInfix "null" (configText packratUser));
    }
    {
      id = "config-notify-empty";
      what = "notify = { } is kept (it silences a service)";
      ok = (configOf silencedService).services.gitea.notify == { };
    }
    {
      id = "config-etc-mode";
      what = "/etc/packrat/config.yaml: mode 0640, group packrat";
      ok =
        let
          etc = packratUser.environment.etc."packrat/config.yaml";
        in
        etc.mode == "0640" && etc.group == "packrat";
    }
    {
      id = "exec-start";
      what = "ExecStart runs the package's daemon with the rendered config";
      ok =
        (serviceConfigOf packratUser).ExecStart
        == "${package}/bin/packrat --config /etc/packrat/config.yaml daemon";
    }
    {
      id = "exec-reload";
      what = "ExecReload sends SIGHUP";
      ok = lib.hasSuffix "/bin/kill -HUP $MAINPID" (serviceConfigOf packratUser).ExecReload;
    }
    {
      id = "user-group";
      what = "User and Group";
      ok =
        (serviceConfigOf packratUser).User == "packrat" && (serviceConfigOf packratUser).Group == "packrat";
    }
    {
      id = "rw-service-paths";
      what = "ReadWritePaths: every service path, optional";
      ok =
        (serviceConfigOf packratUser).ReadWritePaths == [
          "-/var/lib/gitea"
          "-/var/backup/gitea-db"
        ];
    }
    {
      id = "rw-other-paths";
      what = "ReadWritePaths: local, staging, metrics directory, hook working_dir, state_dir elsewhere";
      ok =
        (serviceConfigOf otherPaths).ReadWritePaths == [
          "-/var/lib/gitea"
          "-/var/backup/gitea-db"
          "-/var/lib/postgresql"
          "-/mnt/usb/backups"
          "-/var/cache/packrat-staging"
          "-/var/lib/node_exporter/textfile"
          "-/srv/packrat"
        ]
        && (configOf otherPaths).backup.state_dir == "/srv/packrat"
        && (configOf otherPaths).encryption.key_file == "/srv/packrat/key"
        && otherPaths.users.users.packrat.home == "/srv/packrat";
    }
    {
      id = "rw-staging-tmp";
      what = "a staging_dir under /tmp stays in the private /tmp";
      ok = !(lib.elem "-/tmp/packrat" (serviceConfigOf stagingInTmp).ReadWritePaths);
    }
    {
      id = "docker";
      what = "Docker: SupplementaryGroups docker, after and wants docker.service";
      ok =
        (serviceConfigOf packratUser).SupplementaryGroups == [ "docker" ]
        && lib.elem "docker.service" (unitOf packratUser).after
        && lib.elem "docker.service" (unitOf packratUser).wants
        && lib.elem "network-online.target" (unitOf packratUser).after;
    }
    {
      id = "no-docker";
      what = "no Docker service: no docker group or ordering";
      ok =
        !((serviceConfigOf noDestination) ? SupplementaryGroups)
        && !(lib.elem "docker.service" (unitOf noDestination).after);
    }
    {
      id = "protect-home";
      what = "ProtectHome is true when nothing is under /home or /root";
      ok = (serviceConfigOf packratUser).ProtectHome == true;
    }
    {
      id = "protect-home-off";
      what = "a service path under /home turns ProtectHome off";
      ok =
        (serviceConfigOf homePath).ProtectHome == false
        && lib.elem "-/home/ann/documents" (serviceConfigOf homePath).ReadWritePaths;
    }
    {
      id = "tilde-root";
      what = "a ~/ key file as root means /root: ProtectHome off, and a warning";
      ok =
        (serviceConfigOf rootTildeKey).ProtectHome == false
        && mentions "encryption.key_file starts with `~`" rootTildeKey.warnings;
    }
    {
      id = "caps-packrat";
      what = "user packrat: no capabilities at all";
      ok =
        (serviceConfigOf packratUser).CapabilityBoundingSet == ""
        && (serviceConfigOf packratUser).AmbientCapabilities == "";
    }
    {
      id = "caps-root";
      what = "user root: exactly the root capabilities of hardening.json";
      ok =
        (serviceConfigOf rootUser).CapabilityBoundingSet
        == lib.concatStringsSep " " hardening.rootCapabilities
        && (serviceConfigOf rootUser).CapabilityBoundingSet
        == "CAP_DAC_READ_SEARCH CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE"
        && (serviceConfigOf rootUser).AmbientCapabilities == ""
        && (serviceConfigOf rootUser).User == "root"
        && !(rootUser.users.users ? packrat)
        && rootUser.users.groups ? packrat;
    }
    {
      id = "hardening-json";
      what = "every value of hardening.json is in serviceConfig";
      ok =
        lib.all (key: (serviceConfigOf packratUser).${key} == expectedHardening.${key}) (
          lib.attrNames hardening.service
        );
    }
    {
      id = "unit";
      what = "unit: description, wantedBy, network-online, reload on config change, sh on PATH";
      ok =
        let
          unit = unitOf packratUser;
        in
        unit.description == hardening.unit.Description
        && unit.wantedBy == [ "multi-user.target" ]
        && lib.all (u: lib.elem u unit.after) hardening.unit.After
        && lib.all (u: lib.elem u unit.wants) hardening.unit.Wants
        && unit.reloadTriggers == [ packratUser.environment.etc."packrat/config.yaml".source ]
        && lib.any (p: lib.hasInfix "bash" p.name) unit.path;
    }
    {
      id = "users";
      what = "user and group packrat are created; home is configDir; docker group for the CLI";
      ok =
        let
          user = packratUser.users.users.packrat;
        in
        user.isSystemUser
        && user.group == "packrat"
        && user.home == "/var/lib/packrat"
        && user.createHome
        && user.homeMode == "770"
        && user.extraGroups == [ "docker" ]
        && (otherPaths.users.users.packrat.extraGroups == [ "docker" ])
        && noDestination.users.users.packrat.extraGroups == [ ]
        && packratUser.users.groups ? packrat;
    }
    {
      id = "system-packages";
      what = "the package is on everyone's PATH";
      ok = packratUser.environment.systemPackages == [ package ];
    }
    {
      id = "assert-secret-access-key";
      what = "a literal secret_access_key trips an assertion naming secret_access_key_file";
      ok = mentions "settings.backup.s3.secret_access_key_file" (failedMessages literalSecrets);
    }
    {
      id = "assert-notify-urls";
      what = "literal notification URLs (global and per service) trip assertions naming url_file";
      ok =
        mentions "settings.notify.webhook.url_file" (failedMessages literalSecrets)
        && mentions "settings.services.gitea.notify.ntfy.url_file" (failedMessages literalSecrets)
        && lib.length (failedMessages literalSecrets) == 3;
    }
    {
      id = "assert-store-file";
      what = "a *_file inside the Nix store trips an assertion";
      ok =
        mentions "settings.backup.s3.secret_access_key_file points into the Nix store" (
          failedMessages storeSecret
        );
    }
    {
      id = "path-literal";
      what = "a Nix path literal (which would be copied into the store) is refused for a *_file";
      ok =
        !(builtins.tryEval (
          configText (withGuide [
            { services.packrat.settings.backup.s3.secret_access_key_file = lib.mkForce ./stubs.nix; }
          ])
        )).success;
    }
    {
      id = "warn-hook-password";
      what = "an inline hook password is warned about";
      ok =
        mentions "pre_backup.environment.PGPASSWORD is stored in the Nix store" inlineHookPassword.warnings;
    }
    {
      id = "assert-destination";
      what = "no destination trips an assertion";
      ok = mentions "needs at least one destination" (failedMessages noDestination);
    }
    {
      id = "disabled";
      what = "disabled: nothing is defined";
      ok =
        disabled.systemd.services == { }
        && disabled.assertions == [ ]
        && disabled.users.users == { }
        && disabled.environment.etc == { };
    }
    {
      id = "package-build";
      what = "package.nix: vendored deps are a fixed-output derivation, compile uses denort";
      ok =
        let
          deps = packageAttrs.passthru.denoDeps;
        in
        deps.outputHashMode == "recursive"
        && deps.outputHash == lib.fakeHash
        && lib.hasInfix "deno install --frozen" deps.buildPhase
        && packageAttrs.env.DENORT_BIN == "${stubs.fakeDrv "deno-2.9.6-denort"}/bin/denort"
        && packageAttrs.env.DENO_NO_UPDATE_CHECK == "1"
        && lib.hasInfix "deno task compile" packageAttrs.buildPhase
        && lib.hasInfix "$out/bin/packrat" packageAttrs.installPhase;
    }
    {
      id = "package-meta";
      what = "package.nix: version from src/version.ts, meta";
      ok =
        packageAttrs.version == "0.1.0"
        && packageAttrs.meta.mainProgram == "packrat"
        && packageAttrs.meta.platforms == [
          "x86_64-linux"
          "aarch64-linux"
        ];
    }
    {
      id = "flake";
      what = "flake.nix: packages, overlay, checks, and a module using the flake's package";
      ok =
        flake.packages.x86_64-linux.default == flakePackage
        && flake.packages.aarch64-linux.packrat == flakePackage
        && (flake.overlays.default (flakePkgs "x86_64-linux") { }).packrat == flakePackage
        && lib.attrNames flake.checks.x86_64-linux == [ "module-eval" ]
        && (serviceConfigOf viaFlakeModule).ExecStart
        == "${flakePackage}/bin/packrat --config /etc/packrat/config.yaml daemon";
    }
  ];
  allChecks = checkList ++ lib.optionals (docs != null) docsChecks;
  checks = lib.listToAttrs (map (c: lib.nameValuePair c.id c.ok) allChecks);

  run =
    check:
    let
      result = builtins.tryEval (builtins.deepSeq check.ok check.ok);
    in
    if !result.success then
      "FAIL ${check.id}: ${check.what} (does not evaluate; scripts/nix-eval --only ${check.id} shows why)"
    else if result.value == true then
      "PASS ${check.id}: ${check.what}"
    else
      "FAIL ${check.id}: ${check.what}";

  lines = map run allChecks;
in
{
  inherit checks lines;
  ids = map (c: c.id) allChecks;
  failed = builtins.filter (lib.hasPrefix "FAIL") lines;
  # For scripts/nix-eval's comparison with `packrat systemd-unit`: per case, the rendered config,
  # the user and group, and the unit's lines as systemd reads them (lists space-separated,
  # booleans yes/no), leaving out ExecStart and ExecReload, whose paths differ by design.
  crossCheck = lib.mapAttrs (_: c: {
    config = configText c;
    user = (serviceConfigOf c).User;
    # What `~` means for the daemon.
    home =
      if (serviceConfigOf c).User == "root" then "/root" else c.users.users.${(serviceConfigOf c).User}.home;
    group = (serviceConfigOf c).Group;
    lines = lib.sort (a: b: a < b) (unitLinesOf c);
  }) {
    inherit
      packratUser
      rootUser
      homePath
      otherPaths
      stagingInTmp
      rootTildeKey
      ;
  };
  # For a look at what the guide's example produces.
  example = {
    config = configText packratUser;
    serviceConfig = serviceConfigOf packratUser;
    unit = removeAttrs (unitOf packratUser) [ "serviceConfig" "reloadTriggers" "path" ];
  };
}
