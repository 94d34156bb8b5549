# NixOS module: services.packrat.
#
# Renders `settings` to /etc/packrat/config.yaml (mode 0640, group `group`) and runs
# `packrat daemon` as a hardened systemd service. The fixed hardening comes from
# src/systemd/hardening.json, which `packrat systemd-unit` uses too; this file adds only what
# depends on the configuration (paths the daemon writes, /home, Docker, capabilities).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkOption
    mkEnableOption
    mkIf
    types
    literalExpression
    ;

  cfg = config.services.packrat;
  settingsFormat = pkgs.formats.yaml { };
  hardening = builtins.fromJSON (builtins.readFile ../src/systemd/hardening.json);

  # systemd's StateDirectory=packrat: /var/lib/packrat. Packrat uses exactly this directory by
  # itself when run as root, so the default config points there too.
  stateDirectory = "/var/lib/${hardening.service.StateDirectory}";
  configPath = "/etc/packrat/config.yaml";

  # ---------------------------------------------------------------------------------------------
  # settings: the main keys are typed and documented; anything else passes through (freeform).
  # Unset options are null and are not rendered.

  optional =
    type: description:
    mkOption {
      type = types.nullOr type;
      default = null;
      inherit description;
    };

  # Paths are plain strings: a Nix path literal (./secret) would be copied into the world-readable
  # store, so it is refused by the type. `~/` means the home of whoever runs packrat.
  pathString = types.strMatching "(/|~/).*" // {
    description = "absolute path (or ~/…) as a string";
  };

  secretFile =
    what:
    optional pathString ''
      File holding ${what}, read by Packrat at run time (one trailing newline removed). Only the
      path goes into the configuration; the secret never enters the Nix store. Typically
      `config.sops.secrets."…".path` or `config.age.secrets."…".path`.
    '';

  notifyTarget = types.submodule {
    freeformType = settingsFormat.type;
    options.url_file = secretFile "the URL (it usually contains a token)";
  };

  notifyModule = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      on = optional (types.enum [
        "failure"
        "always"
      ]) "When to notify: `failure` (Packrat's default) or `always` (successes too).";
      webhook = optional notifyTarget "POST a JSON report to a URL.";
      ntfy = optional notifyTarget "Publish to an ntfy topic URL.";
      healthchecks = optional notifyTarget ''
        Ping a healthchecks.io check on every run (start, success, failure).
      '';
    };
  };

  hookModule = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      command = mkOption {
        type = types.str;
        description = ''
          Run with `sh -c`. The daemon's PATH holds little beyond coreutils, so use absolute
          paths, e.g. `''${config.services.postgresql.package}/bin/pg_dump`.
        '';
      };
      working_dir = optional pathString "Working directory (default: the service's `path`).";
      environment = optional (types.attrsOf types.str) ''
        Variables added to Packrat's environment. `X_file = "/run/secrets/x"` sets `X` to that
        file's content, read each time the hook runs — use it for passwords
        (`PGPASSWORD_file`); plain values end up in the Nix store.
      '';
      timeout = optional types.str "Go-style duration after which the hook is killed (default 5m).";
    };
  };

  dockerModule = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      container = optional types.str "Container stopped while the archive is written.";
      containers = optional (types.listOf types.str) ''
        Several containers: stopped in this order, started again in reverse.
      '';
      stop_timeout = optional types.str "Go-style duration (default 30s).";
      health_timeout = optional types.str ''
        How long to wait for a restarted container to be running and healthy (default 2m).
      '';
    };
  };

  serviceModule = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      path = mkOption {
        type = pathString;
        description = ''
          The directory to back up. The daemon may write here (restores, dumps of
          `pre_backup`): it is added to the unit's `ReadWritePaths`.
        '';
      };
      schedule = optional types.str ''
        5-field cron expression (`0 2 * * *`, `@daily`, …) for the daemon. Without one the
        service runs only when started by hand.
      '';
      timezone = optional types.str "IANA zone the schedule is read in, e.g. `Europe/Berlin`.";
      catch_up = optional types.bool ''
        Run a scheduled time missed while the daemon was not running (default true).
      '';
      docker = optional dockerModule ''
        Docker containers to stop while the archive is written. Gives the daemon the `docker`
        group and orders it after `docker.service`.
      '';
      exclude = optional (types.listOf types.str) "Doublestar globs relative to `path`.";
      retain_backups = optional types.ints.positive ''
        Keep the newest N backups on each destination.
      '';
      pre_backup = optional hookModule "Command run before the archive (a database dump, …).";
      post_backup = optional hookModule "Command run afterwards, also when the backup failed.";
      notify = optional notifyModule ''
        This service's notifications; they replace the global `notify`. `{ }` silences the
        service.
      '';
    };
  };

  s3Module = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      endpoint = optional types.str ''
        `https://s3.REGION.backblazeb2.com` for B2, your MinIO or Ceph URL; unset for AWS.
      '';
      region = optional types.str "e.g. `us-west-001` (B2); Packrat's default is `us-east-1`.";
      bucket = mkOption {
        type = types.str;
        description = "The bucket (it must exist).";
      };
      access_key_id_file = secretFile "the access key id";
      secret_access_key_file = secretFile "the secret access key";
      path = optional types.str "Key prefix, e.g. `backups/packrat/`.";
    };
  };

  synologyModule = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      host = mkOption {
        type = types.str;
        description = "The NAS (or any SSH server); archives go over SFTP.";
      };
      port = optional types.port "SSH port (default 22).";
      username = mkOption {
        type = types.str;
        description = "SSH user.";
      };
      key_file = mkOption {
        type = pathString;
        description = "SSH private key; it must be readable by the service user.";
      };
      key_passphrase_file = secretFile "the SSH key's passphrase";
      path = mkOption {
        type = types.str;
        description = ''
          Remote directory; relative paths start at the login directory. On a Synology NAS
          shared folders appear at the root (`/backups/packrat`, not `/volume1/…`).
        '';
      };
      known_hosts = optional pathString ''
        known_hosts file holding the NAS's host key (default `~/.ssh/known_hosts` of the user
        running Packrat). The host key is always checked.
      '';
      host_key = optional types.str "Or pin the host key's fingerprint: `SHA256:…`.";
    };
  };

  backupModule = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      retain_backups = optional types.ints.positive "Default retention for services that set none.";
      host = optional types.str "Name archives are stored under (default: the hostname).";
      state_dir = mkOption {
        type = pathString;
        default = cfg.configDir;
        defaultText = literalExpression "config.services.packrat.configDir";
        description = ''
          Locks, run records and each service's history. It defaults to `configDir`, which
          by default is the unit's `StateDirectory` (/var/lib/packrat), so commands run by hand
          and the daemon take the same locks.
        '';
      };
      staging_dir = optional pathString ''
        Where the encrypted archive is written before the upload (default: the service's private
        /tmp). Needs room for one compressed archive; added to `ReadWritePaths`.
      '';
      concurrency = optional types.ints.positive "Services backed up at once (default 1).";
      metrics_file = optional pathString ''
        Prometheus textfile for node_exporter, rewritten after every run; its directory is added
        to `ReadWritePaths`.
      '';
      local = optional (types.submodule {
        freeformType = settingsFormat.type;
        options.path = mkOption {
          type = pathString;
          description = ''
            Destination directory (a USB disk, a mounted share); added to `ReadWritePaths`.
          '';
        };
      }) "A local directory destination.";
      s3 = optional s3Module "An S3-compatible bucket (AWS, Backblaze B2, MinIO, Ceph).";
      synology = optional synologyModule "A NAS or any SSH server, over SFTP.";
    };
  };

  settingsModule = types.submodule {
    freeformType = settingsFormat.type;
    options = {
      encryption = mkOption {
        default = { };
        description = "Encryption settings.";
        type = types.submodule {
          freeformType = settingsFormat.type;
          options.key_file = mkOption {
            type = pathString;
            default = "${cfg.configDir}/key";
            defaultText = literalExpression ''"''${config.services.packrat.configDir}/key"'';
            description = ''
              The key file. Create it once with `sudo -u packrat packrat init`; it must be
              mode 0600 and owned by the service user. Keep the password: `packrat rekey`
              recreates the key from it.
            '';
          };
        };
      };
      services = mkOption {
        type = types.attrsOf serviceModule;
        default = { };
        description = "The services to back up; the name becomes a directory name.";
      };
      backup = mkOption {
        type = backupModule;
        default = { };
        description = "Defaults and destinations (at least one of `local`, `s3`, `synology`).";
      };
      notify = optional notifyModule "Notifications for every service that sets no `notify`.";
    };
  };

  # ---------------------------------------------------------------------------------------------
  # The rendered configuration.

  withoutNulls =
    value:
    if builtins.isAttrs value then
      lib.mapAttrs (_: withoutNulls) (lib.filterAttrs (_: v: v != null) value)
    else if builtins.isList value then
      map withoutNulls (builtins.filter (v: v != null) value)
    else
      value;

  rendered = withoutNulls cfg.settings;
  configFile = settingsFormat.generate "packrat-config.yaml" rendered;

  # Every leaf of the rendered settings, as { path = [ "backup" "s3" … ]; value; }.
  leaves =
    prefix: value:
    if builtins.isAttrs value then
      lib.concatLists (lib.mapAttrsToList (name: v: leaves (prefix ++ [ name ]) v) value)
    else if builtins.isList value then
      lib.concatLists (lib.imap0 (i: v: leaves (prefix ++ [ (toString i) ]) v) value)
    else
      [ { inherit prefix value; } ];
  allLeaves = leaves [ ] rendered;
  nameOf = leaf: lib.last leaf.prefix;
  showPath = path: "services.packrat.settings.${lib.concatStringsSep "." path}";

  # Keys whose value is a secret; each has an `_file` form.
  notifyUrls = prefix: map (target: prefix ++ [ target "url" ]) [ "webhook" "ntfy" "healthchecks" ];
  secretKeys = [
    [ "backup" "s3" "access_key_id" ]
    [ "backup" "s3" "secret_access_key" ]
    [ "backup" "synology" "key_passphrase" ]
  ]
  ++ notifyUrls [ "notify" ]
  ++ lib.concatMap (name: notifyUrls [
    "services"
    name
    "notify"
  ]) (lib.attrNames rendered.services);

  # Files Packrat reads at run time: secrets, keys (metrics_file is written, and not secret).
  fileLeaves = builtins.filter (
    leaf: lib.hasSuffix "_file" (nameOf leaf) && nameOf leaf != "metrics_file"
  ) allLeaves;
  inStore =
    v: builtins.isString v && (builtins.hasContext v || lib.hasPrefix "${builtins.storeDir}/" v);

  # Hook variables that look like passwords but are given inline.
  inlineHookSecrets = builtins.filter (
    leaf:
    lib.length leaf.prefix == 5
    && lib.elemAt leaf.prefix 0 == "services"
    && lib.elemAt leaf.prefix 3 == "environment"
    && !(lib.hasSuffix "_file" (nameOf leaf))
    && builtins.match ".*(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY).*" (lib.toUpper (nameOf leaf))
      != null
  ) allLeaves;

  pathKeys = [
    "path"
    "key_file"
    "known_hosts"
    "state_dir"
    "staging_dir"
    "metrics_file"
    "working_dir"
  ];
  tildeLeaves = builtins.filter (
    leaf:
    (lib.elem (nameOf leaf) pathKeys || lib.hasSuffix "_file" (nameOf leaf))
    && builtins.isString leaf.value
    && lib.hasPrefix "~" leaf.value
    # Remote paths: a `~` there is not ours.
    && leaf.prefix != [ "backup" "synology" "path" ]
    && leaf.prefix != [ "backup" "s3" "path" ]
  ) allLeaves;

  # ---------------------------------------------------------------------------------------------
  # What the unit needs to know about the paths.

  # `~` in the config means the home of the user running packrat: for the daemon, this one.
  home =
    if cfg.user == "root" then "/root" else config.users.users.${cfg.user}.home or cfg.configDir;
  normalize =
    path:
    let
      expanded =
        if path == "~" then
          home
        else if lib.hasPrefix "~/" path then
          home + lib.removePrefix "~" path
        else
          path;
      parts = builtins.filter (part: part != "") (lib.splitString "/" expanded);
    in
    "/" + lib.concatStringsSep "/" parts;
  parentOf =
    path:
    let
      parts = lib.splitString "/" (normalize path);
    in
    normalize (lib.concatStringsSep "/" (lib.init parts));
  isUnder = dir: path: path == dir || lib.hasPrefix "${dir}/" path;

  services = lib.attrValues rendered.services;
  backup = rendered.backup;
  hooks =
    service: lib.concatMap (name: lib.optional (service ? ${name}) service.${name}) [
      "pre_backup"
      "post_backup"
    ];

  # Where the daemon writes besides its StateDirectory: every service path (restores, dumps of
  # pre_backup), hook working directories, the local destination, a staging directory outside
  # its private /tmp, the metrics file's directory and a state directory of its own.
  writablePaths = lib.unique (
    map normalize (
      lib.concatMap (
        service:
        [ service.path ]
        ++ lib.concatMap (hook: lib.optional (hook ? working_dir) hook.working_dir) (hooks service)
      ) services
      ++ lib.optional (backup ? local) backup.local.path
      ++ lib.optional (
        backup ? staging_dir && !(isUnder "/tmp" (normalize backup.staging_dir))
      ) backup.staging_dir
      ++ lib.optional (backup ? metrics_file) (parentOf backup.metrics_file)
      ++ lib.optional (normalize backup.state_dir != stateDirectory) backup.state_dir
    )
  );

  # Everything else the daemon reads: the key, the SSH key and known_hosts, secret files.
  readPaths = map normalize (
    [ rendered.encryption.key_file ]
    ++ lib.optionals (backup ? synology) (
      [ backup.synology.key_file ]
      ++ lib.optional (backup.synology ? known_hosts) backup.synology.known_hosts
    )
    ++ map (leaf: leaf.value) (builtins.filter (leaf: builtins.isString leaf.value) fileLeaves)
  );

  # ProtectHome=true empties /home, /root and /run/user for the daemon, and ReadWritePaths cannot
  # bring them back: a service, key or secret living there would be invisible. Keep the
  # protection unless something the daemon uses is there. (ProtectHome=read-only would add
  # nothing: ProtectSystem=strict already makes /home read-only outside ReadWritePaths.)
  needsHome = lib.any (
    path: isUnder "/home" path || isUnder "/root" path || isUnder "/run/user" path
  ) (writablePaths ++ readPaths);

  usesDocker = lib.any (service: service ? docker) services;
  dockerUnits = lib.optional usesDocker "docker.service";

  # hardening.json's service settings. Lists become one space-separated value, as in the unit
  # `packrat systemd-unit` prints (NixOS would otherwise write one line per element); booleans
  # and strings stay as they are.
  fixedHardening = lib.mapAttrs (
    _: value: if builtins.isList value then lib.concatStringsSep " " value else value
  ) hardening.service;
in
{
  options.services.packrat = {
    enable = mkEnableOption "Packrat, encrypted scheduled backups of homelab services";

    package = mkOption {
      type = types.package;
      default = pkgs.packrat or (pkgs.callPackage ./package.nix { });
      defaultText = literalExpression "pkgs.packrat or (pkgs.callPackage ./package.nix { })";
      description = "The Packrat package. The flake's module sets it to the flake's package.";
    };

    user = mkOption {
      type = types.str;
      default = "packrat";
      description = ''
        User the daemon runs as. The default `packrat` is created as a system user whose home
        is `configDir`. It can read only what it is allowed to: for data owned by other users
        (Docker volumes, /var/lib/gitea) give it access, or use `root`, which keeps only
        CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, CAP_CHOWN and CAP_FOWNER.
      '';
    };

    group = mkOption {
      type = types.str;
      default = "packrat";
      description = ''
        Group of the daemon, of /etc/packrat/config.yaml (mode 0640) and of the state
        directory (mode 0770). Members can read the configuration and run `packrat status`
        and `packrat list`; created when left at `packrat`.
      '';
    };

    configDir = mkOption {
      type = types.strMatching "/.*";
      default = stateDirectory;
      defaultText = literalExpression ''"${stateDirectory}"'';
      description = ''
        Packrat's own directory: the home of the `packrat` user (so `~/` in `settings` means
        this directory for the daemon), and the default place of the key file
        (`<configDir>/key`) and of the state (`backup.state_dir`: locks, run records,
        history). The default is the unit's `StateDirectory=`, which systemd creates with mode
        0770 for user and group. A different directory is created as the `packrat` user's
        home (when that user is used) and, since it then holds the state, added to
        `ReadWritePaths`.
      '';
    };

    settings = mkOption {
      type = settingsModule;
      default = { };
      description = ''
        Packrat's configuration, rendered to /etc/packrat/config.yaml (see the README's
        "Configuration reference"; every key is accepted, the main ones are typed here). The
        rendered file lives in the world-readable Nix store, so secrets go in only as `*_file`
        paths that Packrat reads at run time: `access_key_id`, `secret_access_key`,
        `key_passphrase` and notification `url`s given inline are refused.
      '';
      example = literalExpression ''
        {
          services.gitea = {
            path = "/var/lib/gitea";
            schedule = "0 2 * * *";
            docker.container = "gitea";
            exclude = [ "**/tmp/**" ];
            retain_backups = 14;
          };
          backup.s3 = {
            endpoint = "https://s3.us-west-001.backblazeb2.com";
            region = "us-west-001";
            bucket = "homelab-backups";
            access_key_id_file = config.sops.secrets."packrat/s3_access_key".path;
            secret_access_key_file = config.sops.secrets."packrat/s3_secret_key".path;
            path = "backups/packrat/";
          };
        }
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions =
      map (path: {
        assertion = lib.attrByPath path null rendered == null;
        message = ''
          ${showPath path}: a secret written in the configuration ends up in the world-readable
          Nix store. Put it in a file (sops-nix, agenix, …) and set
          ${showPath path}_file = "/run/secrets/…" instead.
        '';
      }) secretKeys
      ++ map (leaf: {
        assertion = !inStore leaf.value;
        message = ''
          ${showPath leaf.prefix} points into the Nix store, which every user can read. Give the
          path of a file outside it, e.g. one from sops-nix or agenix, as a string.
        '';
      }) fileLeaves
      ++ [
        {
          assertion = rendered.services != { };
          message = "services.packrat.settings.services: define at least one service to back up.";
        }
        {
          assertion = lib.any (destination: backup ? ${destination}) [ "local" "s3" "synology" ];
          message = ''
            services.packrat.settings.backup needs at least one destination: local, s3 or
            synology.
          '';
        }
      ];

    warnings =
      map (
        leaf:
        "${showPath leaf.prefix} is stored in the Nix store, readable by every user; "
        + "use ${nameOf leaf}_file = \"/run/secrets/…\" instead."
      ) inlineHookSecrets
      ++ map (
        leaf:
        "${showPath leaf.prefix} starts with `~`: that is ${home} for the daemon but the home of "
        + "whoever runs a packrat command by hand; write the absolute path."
      ) tildeLeaves;

    users.users = mkIf (cfg.user == "packrat") {
      packrat = {
        isSystemUser = true;
        group = cfg.group;
        description = "Packrat backup daemon";
        home = cfg.configDir;
        createHome = true;
        # The same mode systemd gives the StateDirectory, so neither changes what the other set.
        homeMode = lib.removePrefix "0" hardening.service.StateDirectoryMode;
        # The unit adds the docker group itself; this is for commands run by hand as the user
        # (`sudo -u packrat packrat backup gitea` stops and starts the container too).
        extraGroups = lib.optional usesDocker "docker";
      };
    };
    users.groups = mkIf (cfg.group == "packrat") { packrat = { }; };

    # Group members get the CLI; it finds /etc/packrat/config.yaml by itself.
    environment.systemPackages = [ cfg.package ];

    environment.etc."packrat/config.yaml" = {
      source = configFile;
      mode = "0640";
      group = cfg.group;
    };

    systemd.services.packrat = {
      description = hardening.unit.Description;
      wantedBy = [ "multi-user.target" ];
      after = hardening.unit.After ++ dockerUnits;
      wants = hardening.unit.Wants ++ dockerUnits;
      # Hooks run with `sh -c`, and a NixOS service's PATH has no sh.
      path = [ pkgs.bash ];
      # ExecStart names /etc/packrat/config.yaml, which does not change when the settings do:
      # reload (SIGHUP) instead, so a change never interrupts a backup in progress.
      reloadTriggers = [ configFile ];
      serviceConfig = fixedHardening // {
        ExecStart = "${cfg.package}/bin/packrat --config ${configPath} daemon";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        User = cfg.user;
        Group = cfg.group;
        ReadWritePaths = map (path: "-${path}") writablePaths;
        ProtectHome = !needsHome;
        # An empty string, not [ ]: NixOS writes nothing for an empty list, which would leave
        # the full bounding set; "CapabilityBoundingSet=" empties it.
        CapabilityBoundingSet =
          if cfg.user == "root" then lib.concatStringsSep " " hardening.rootCapabilities else "";
        AmbientCapabilities = "";
      }
      # The Docker socket is root:docker; root needs no group for it.
      // lib.optionalAttrs (usesDocker && cfg.user != "root") {
        SupplementaryGroups = [ "docker" ];
      };
    };
  };
}
