/**
 * Shell completion scripts for bash, zsh and fish, written from a description of the command
 * line. The commands, options and arguments are baked into the script; what changes with the
 * configuration (service names, destinations, backup ids) the script asks the program for each
 * time, through a hidden callback command that prints one value a line.
 *
 * @example
 * ```ts
 * const script = completionScript("fish", {
 *   name: "packrat",
 *   callback: "__complete", // `packrat __complete services` prints the service names
 *   options: [{ short: "-c", long: "--config", description: "config file", values: "files" }],
 *   commands: [{
 *     name: "list",
 *     description: "list backups",
 *     options: [],
 *     arguments: [{ name: "service", description: "", variadic: false, values: "services" }],
 *   }],
 * });
 * ```
 *
 * @module
 */

/** Values the program itself knows: printed by `<name> <callback> KIND [SERVICE]`. */
export type DynamicValues = "services" | "destinations" | "backups";

/** What a value on the command line is completed with. */
export type Values =
  | DynamicValues
  | "files"
  | "directories"
  /** The program's commands. */
  | "commands"
  /** Anything: nothing is offered. */
  | "nothing"
  | { readonly choices: readonly string[] };

export interface OptionSpec {
  /** `-c`, if it has a short form. */
  readonly short?: string;
  /** `--config`, if it has a long form. */
  readonly long?: string;
  readonly description: string;
  /** What its value is; absent for flags that take none. */
  readonly values?: Values;
  /** It may be given more than once. */
  readonly repeats?: boolean;
}

export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
  /** The last argument may take any number of words. */
  readonly variadic: boolean;
  readonly values: Values;
}

export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  /** Its own options, not the global ones. */
  readonly options: readonly OptionSpec[];
  readonly arguments: readonly ArgumentSpec[];
}

export interface ProgramSpec {
  /** The command the script completes, found on PATH. */
  readonly name: string;
  /** The hidden command that prints dynamic values. */
  readonly callback: string;
  /** Global options: accepted before and after the command. */
  readonly options: readonly OptionSpec[];
  readonly commands: readonly CommandSpec[];
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = typeof SHELLS[number];

/** The completion script for `shell`. */
export function completionScript(shell: Shell, program: ProgramSpec): string {
  checkNames(program);
  switch (shell) {
    case "bash":
      return bashScript(program);
    case "zsh":
      return zshScript(program);
    case "fish":
      return fishScript(program);
  }
}

// Names, flags and choices go into the scripts unquoted in places (function names, case labels,
// word lists split at spaces); descriptions may hold anything.
const SAFE_WORD = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkNames(program: ProgramSpec): void {
  const words = [program.name, program.callback.replace(/^_+/, "")];
  const choices = (values?: Values) => typeof values === "object" ? values.choices : [];
  const ofOptions = (options: readonly OptionSpec[]) =>
    options.flatMap((o) => [...flagsOf(o).map(bare), ...choices(o.values)]);
  for (const command of program.commands) {
    words.push(command.name, ...ofOptions(command.options));
    words.push(...command.arguments.flatMap((a) => choices(a.values)));
  }
  words.push(...ofOptions(program.options));
  const bad = words.find((word) => !SAFE_WORD.test(word));
  if (bad !== undefined) throw new Error(`cannot complete the name "${bad}"`);
}

function bare(flag: string): string {
  return flag.replace(/^--?/, "");
}

function flagsOf(option: OptionSpec): string[] {
  return [option.short, option.long].filter((flag): flag is string => flag !== undefined);
}

/** The options valid after `command`: its own, then the global ones it does not shadow. */
function optionsAfter(program: ProgramSpec, command: CommandSpec): OptionSpec[] {
  const own = new Set(command.options.flatMap(flagsOf));
  return [
    ...command.options,
    ...program.options.filter((option) => !flagsOf(option).some((flag) => own.has(flag))),
  ];
}

/** Help and version flags: offered after `-`, but not next to a command's arguments. */
function isHelpOrVersion(option: OptionSpec): boolean {
  return option.long === "--help" || option.long === "--version";
}

function firstLine(text: string): string {
  return text.split("\n")[0].trim();
}

/** A POSIX-shell single-quoted word (bash and zsh). */
function shQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A fish single-quoted word. */
function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** The kind word the bash and fish scripts use for `values`. */
function kindWord(values: Values): string {
  return typeof values === "string" ? values : `words:${values.choices.join(" ")}`;
}

function bashScript(program: ProgramSpec): string {
  const { name, callback } = program;
  const fn = `_${name.replaceAll(/[.-]/g, "_")}`;
  const commandCases = [
    `    '') flags=${shQuote(program.options.flatMap(flagsOf).join(" "))} options='' ` +
    `arguments=(commands) variadic= ;;`,
    ...program.commands.map((command) => {
      const all = optionsAfter(program, command);
      const plain = command.options.filter((o) => !isHelpOrVersion(o));
      const last = command.arguments.at(-1);
      return `    ${command.name}) flags=${shQuote(all.flatMap(flagsOf).join(" "))} ` +
        `options=${shQuote(plain.flatMap(flagsOf).join(" "))} ` +
        `arguments=(${command.arguments.map((a) => shQuote(kindWord(a.values))).join(" ")}) ` +
        `variadic=${last?.variadic ? "1" : ""} ;;`;
    }),
  ];
  // A command's own option as `'restore --backup'`; a global one after any command as `*' -c'`.
  const optionCase = (command: string | undefined, option: OptionSpec) =>
    `    ${
      flagsOf(option).map((flag) =>
        command === undefined ? `*${shQuote(` ${flag}`)}` : shQuote(`${command} ${flag}`)
      ).join(" | ")
    }) kind=${shQuote(kindWord(option.values!))} ;;`;
  const optionCases = [
    ...program.commands.flatMap((command) =>
      command.options.filter((o) => o.values).map((o) => optionCase(command.name, o))
    ),
    // Global options, after any command or none.
    ...program.options.filter((o) => o.values).map((o) => optionCase(undefined, o)),
  ];
  const commands = program.commands.map((c) => c.name).join(" ");
  return `# bash completion for ${name}, generated by \`${name} completions bash\`.
# Load it with: source <(${name} completions bash)

# Sets, for command $1 ('' before the command): \`flags\` (every option valid there), \`options\`
# (its own options, offered next to its arguments), \`arguments\` (what each positional argument
# is) and \`variadic\` (set when the last argument repeats). Fails for an unknown command.
${fn}_command() {
  case $1 in
${commandCases.join("\n")}
    *) return 1 ;;
  esac
}

# Sets \`kind\` to what option $2 of command $1 takes; fails for options without a value.
${fn}_option_kind() {
  case "$1 $2" in
${optionCases.join("\n")}
    *) return 1 ;;
  esac
}

# Sets \`kind\` to what positional argument $1 (from 0) of the current command is.
${fn}_argument_kind() {
  local last=$((\${#arguments[@]} - 1))
  if (($1 <= last)); then
    kind=\${arguments[$1]}
  elif [[ -n $variadic ]] && ((last >= 0)); then
    kind=\${arguments[last]}
  else
    return 1
  fi
}

# Asks ${name} for the current configuration's values; silent and empty when that fails.
${fn}_call() {
  command ${name} "\${config[@]}" ${callback} "$@" 2>/dev/null </dev/null
}

# Appends the lines of stdin to COMPREPLY.
${fn}_reply() {
  local line
  while IFS= read -r line; do COMPREPLY+=("$line"); done
}

# A word as typed, without its quotes or backslash escapes: "/a b/c.yaml", '/a b', /a\\ b.
${fn}_dequote() {
  local w=$1
  if [[ $w == \\"*\\" || $w == \\'*\\' ]]; then w=\${w:1:\${#w}-2}; fi
  printf '%s' "\${w//\\\\ / }"
}

# Appends the completions of $cur for a value of kind $1.
${fn}_values() {
  case $1 in
    services | destinations) ${fn}_reply < <(compgen -W "$(${fn}_call "$1")" -- "$cur") ;;
    backups) ${fn}_reply < <(compgen -W "$(${fn}_call backups \${service:+"$service"})" -- "$cur") ;;
    files) compopt -o filenames 2>/dev/null; ${fn}_reply < <(compgen -f -- "$cur") ;;
    directories) compopt -o filenames 2>/dev/null; ${fn}_reply < <(compgen -d -- "$cur") ;;
    commands) ${fn}_reply < <(compgen -W ${shQuote(commands)} -- "$cur") ;;
    words:*) ${fn}_reply < <(compgen -W "\${1#words:}" -- "$cur") ;;
  esac
}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} word kind value= command= service= n=0 i
  local flags options variadic
  local -a arguments config=()
  COMPREPLY=()
  ${fn}_command ''
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ $word == -* ]]; then
      ${fn}_option_kind "$command" "$word" || continue
      # bash splits --option=value into three words.
      if [[ \${COMP_WORDS[i + 1]} == = ]]; then
        ((i++))
        if ((i == COMP_CWORD)); then
          cur= value=$kind
          break
        fi
      fi
      if ((++i == COMP_CWORD)); then
        value=$kind
        break
      fi
      case $word in
        -c | --config)
          word=$(${fn}_dequote "\${COMP_WORDS[i]}")
          [[ $word == "~/"* ]] && word=$HOME/\${word#"~/"}
          config=(--config "$word")
          ;;
      esac
    elif [[ -z $command ]]; then
      command=$word
      ${fn}_command "$command" || return 0
    else
      if ${fn}_argument_kind "$n" && [[ $kind == services && -z $service ]]; then
        service=$word
      fi
      ((n++))
    fi
  done
  if [[ -n $value ]]; then
    ${fn}_values "$value"
  elif [[ $cur == -* ]]; then
    ${fn}_reply < <(compgen -W "$flags" -- "$cur")
  else
    ${fn}_argument_kind "$n" && ${fn}_values "$kind"
    ${fn}_reply < <(compgen -W "$options" -- "$cur")
  fi
  return 0
}

complete -F ${fn} ${name}
`;
}

function zshDescription(text: string): string {
  return firstLine(text).replaceAll(/([\\\[\]])/g, "\\$1");
}

function zshAction(values: Values | undefined, fn: string, service: number): string {
  if (values === undefined) return "";
  if (typeof values !== "string") return `(${values.choices.map(shQuote).join(" ")})`;
  switch (values) {
    case "services":
    case "destinations":
      return `${fn}_values ${values}`;
    case "backups":
      return `${fn}_backups ${service}`;
    case "files":
      return "_files";
    case "directories":
      return "_files -/";
    case "commands":
      return `${fn}_commands`;
    case "nothing":
      return "";
  }
}

function zshOption(option: OptionSpec, fn: string, service: number): string[] {
  const flags = flagsOf(option);
  const exclusive = flags.length > 1 ? `(${flags.join(" ")})` : "";
  const description = `[${zshDescription(option.description)}]`;
  const value = option.values === undefined
    ? ""
    : `:${option.long ? bare(option.long) : "value"}:${zshAction(option.values, fn, service)}`;
  return flags.map((flag) => {
    // `-c+`: `-cX` or `-c X`; `--config=`: `--config=X` or `--config X`, as commander reads them.
    const takes = option.values === undefined ? "" : flag.startsWith("--") ? "=" : "+";
    return shQuote(`${option.repeats ? "*" : exclusive}${flag}${takes}${description}${value}`);
  });
}

function zshArgument(argument: ArgumentSpec, index: number, fn: string, service: number): string {
  const position = argument.variadic ? "*" : `${index + 1}`;
  const message = argument.name.replaceAll(":", " ");
  return shQuote(`${position}:${message}:${zshAction(argument.values, fn, service)}`);
}

function zshScript(program: ProgramSpec): string {
  const { name, callback } = program;
  const fn = `_${name.replaceAll(/[.-]/g, "_")}`;
  const indent = (lines: string[], spaces: number) =>
    lines.map((line) => `${" ".repeat(spaces)}${line} \\`).join("\n");
  const cases = program.commands.map((command) => {
    // The position of the service in `line`, for --backup; 0 when the command names none.
    const service = command.arguments.findIndex((a) => a.values === "services") + 1;
    const specs = [
      ...optionsAfter(program, command).flatMap((o) => zshOption(o, fn, service)),
      ...command.arguments.map((a, i) => zshArgument(a, i, fn, service)),
    ];
    return `      (${command.name})\n        _arguments -S \\\n${indent(specs, 10)}\n` +
      `          && ret=0\n        ;;`;
  });
  const commandList = program.commands.map((c) =>
    `    ${shQuote(`${c.name}:${firstLine(c.description)}`)}`
  );
  return `#compdef ${name}
# zsh completion for ${name}, generated by \`${name} completions zsh\`.
# Save it as ${fn} in a directory on $fpath, or load it after compinit with:
#   source <(${name} completions zsh)

${fn}_commands() {
  local -a commands=(
${commandList.join("\n")}
  )
  _describe -t commands '${name} command' commands
}

# Asks ${name} for the current configuration's values ($@: kind [service]), with the
# --config of the command line; silent and empty when that fails.
${fn}_call() {
  local -a config
  local i word
  for ((i = 2; i < \${#${fn}_words}; i++)); do
    case \${${fn}_words[i]} in
      (-c|--config) word=\${(Q)${fn}_words[i + 1]} ;;
      (--config=*) word=\${(Q)\${${fn}_words[i]#--config=}} ;;
      (*) continue ;;
    esac
    [[ $word == '~/'* ]] && word=$HOME/\${word#'~/'}
    config=(--config "$word")
  done
  command ${name} "\${config[@]}" ${callback} "$@" 2>/dev/null </dev/null
}

# _arguments calls these with compadd options first; the last argument is theirs.
${fn}_values() {
  local -a values=(\${(f)"$(${fn}_call \${@[-1]})"})
  compadd "\${@[1,-2]}" -a values
}

# Backup ids of the service at position \${@[-1]} of the command's arguments (0: none).
${fn}_backups() {
  local -a service values
  local at=\${@[-1]}
  ((at > 0)) && [[ -n \${line[at]} ]] && service=(\${(Q)line[at]})
  values=(\${(f)"$(${fn}_call backups "\${service[@]}")"})
  compadd "\${@[1,-2]}" -a values
}

${fn}() {
  local -a ${fn}_words=("\${words[@]}")
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args
  _arguments -C \\
${indent(program.options.flatMap((o) => zshOption(o, fn, 0)), 4)}
    '1:command:${fn}_commands' \\
    '*:: :->command' \\
    && ret=0
  if [[ $state == command ]]; then
    curcontext=\${curcontext%:*:*}:${name}-$words[1]:
    case $words[1] in
${cases.join("\n")}
    esac
  fi
  return ret
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

function fishOption(option: OptionSpec, fn: string): string[] {
  const parts: string[] = [];
  if (option.short) parts.push(`-s ${bare(option.short)}`);
  if (option.long) parts.push(`-l ${bare(option.long)}`);
  parts.push(`-d ${fishQuote(firstLine(option.description))}`);
  const values = option.values;
  if (values === undefined) return parts;
  if (values === "files") return [...parts, "-r -F"];
  if (values === "directories") return [...parts, "-x -a '(__fish_complete_directories)'"];
  if (values === "commands") return [...parts, `-x -a ${fishQuote(`(${fn}_commands)`)}`];
  if (values === "nothing") return [...parts, "-x"];
  if (typeof values === "object") return [...parts, `-x -a ${fishQuote(values.choices.join(" "))}`];
  return [...parts, `-x -a '(${fn}_values ${values})'`];
}

function fishScript(program: ProgramSpec): string {
  const { name, callback } = program;
  const fn = `__${name.replaceAll(/[.-]/g, "_")}`;
  const complete = `complete -c ${name}`;
  // Global options are completed after every command already (help, mostly).
  const global = new Set(program.options.map((o) => flagsOf(o).join(" ")));
  const optionCases = (label: string, options: readonly OptionSpec[]) =>
    options.filter((o) => o.values).map((o) =>
      `        case ${flagsOf(o).map((flag) => fishQuote(`${label} ${flag}`)).join(" ")}\n` +
      `            echo ${fishQuote(kindWord(o.values!))}`
    );
  const argumentCases = program.commands.map((command) =>
    [
      `        case ${fishQuote(command.name)}`,
      ...(command.arguments.length > 0
        ? command.arguments.map((a) =>
          `            echo ${fishQuote(kindWord(a.values) + (a.variadic ? "..." : ""))}`
        )
        : ["            true"]),
    ].join("\n")
  );
  const lines = [
    `${complete} -f`,
    ...program.commands.map((command) =>
      `${complete} -n '${fn}_wants commands' -a ${command.name} -d ${
        fishQuote(firstLine(command.description))
      }`
    ),
    ...program.options.map((o) => `${complete} ${fishOption(o, fn).join(" ")}`),
    ...program.commands.flatMap((command) =>
      command.options.filter((o) => !global.has(flagsOf(o).join(" "))).map((o) =>
        `${complete} -n '${fn}_is ${command.name}' ${fishOption(o, fn).join(" ")}`
      )
    ),
    ...(["services", "destinations", "backups"] as const).map((kind) =>
      `${complete} -n '${fn}_wants ${kind}' -a '(${fn}_values ${kind})'`
    ),
    `${complete} -n '${fn}_wants files' -F`,
    `${complete} -n '${fn}_wants directories' -a '(__fish_complete_directories)'`,
    `${complete} -n '${fn}_wants "words:*"' -a '(${fn}_choices)'`,
  ];
  return `# fish completion for ${name}, generated by \`${name} completions fish\`.
# Save it as ~/.config/fish/completions/${name}.fish, or load it with:
#   ${name} completions fish | source

# Prints what option $argv[2] of command $argv[1] takes; fails for options without a value.
function ${fn}_option_kind
    switch "$argv[1] $argv[2]"
${
    [
      ...program.commands.flatMap((c) => optionCases(c.name, c.options)),
      ...optionCases("*", program.options),
    ].join("\n")
  }
        case '*'
            return 1
    end
end

# Prints what each positional argument of command $argv[1] ('' before the command) is, one a
# line; a last one ending in "..." repeats. Fails for an unknown command.
function ${fn}_arguments
    switch "$argv[1]"
        case ''
            echo commands
${argumentCases.join("\n")}
        case '*'
            return 1
    end
end

# Prints what positional argument $argv[1] (from 1) is, given the kinds $argv[2..].
function ${fn}_nth
    set -l n $argv[1]
    set -l kinds $argv[2..-1]
    if test $n -le (count $kinds)
        string replace -r '\\.\\.\\.$' '' -- $kinds[$n]
    else if test (count $kinds) -gt 0; and string match -q -- '*...' $kinds[-1]
        string replace -r '\\.\\.\\.$' '' -- $kinds[-1]
    else
        return 1
    end
    # string replace fails when it replaced nothing.
    return 0
end

# Reads the command line before the cursor: sets ${fn}_command, ${fn}_service and
# ${fn}_config, and prints what the word being completed is: "value KIND" or "argument KIND".
function ${fn}_parse
    set -l tokens (commandline -opc)
    set -g ${fn}_command ''
    set -g ${fn}_service
    set -g ${fn}_config
    set -l arguments (${fn}_arguments '')
    set -l kind
    set -l n 1
    set -l i 2
    while test $i -le (count $tokens)
        set -l word $tokens[$i]
        if string match -q -- '--config=*' $word
            set -g ${fn}_config --config (string replace -- --config= '' $word | string replace -r '^~/' "$HOME/")
        else if string match -q -- '-*' $word
            if set kind (${fn}_option_kind "$${fn}_command" $word)
                set i (math $i + 1)
                if test $i -gt (count $tokens)
                    echo value $kind
                    return
                end
                if contains -- $word -c --config
                    set -g ${fn}_config --config (string replace -r '^~/' "$HOME/" -- $tokens[$i])
                end
            end
        else if test -z "$${fn}_command"
            set -g ${fn}_command $word
            set arguments (${fn}_arguments $word)
            or return
        else
            set kind (${fn}_nth $n $arguments)
            if test "$kind" = services; and test (count $${fn}_service) -eq 0
                set -g ${fn}_service $word
            end
            set n (math $n + 1)
        end
        set i (math $i + 1)
    end
    if test -z "$${fn}_command"
        echo argument commands
    else if set kind (${fn}_nth $n $arguments)
        echo argument $kind
    end
end

# Whether the word being completed is an argument of kind $argv[1] (a glob).
function ${fn}_wants
    set -l state (${fn}_parse)
    string match -q -- "argument $argv[1]" "$state"
end

# Whether the command is $argv[1].
function ${fn}_is
    ${fn}_parse >/dev/null
    test "$${fn}_command" = "$argv[1]"
end

# The choices of the argument being completed.
function ${fn}_choices
    set -l state (${fn}_parse)
    string split ' ' -- (string replace 'argument words:' '' -- "$state")
end

function ${fn}_commands
${program.commands.map((c) => `    echo ${c.name}`).join("\n")}
end

# Asks ${name} for the current configuration's values; silent and empty when that fails.
function ${fn}_values
    ${fn}_parse >/dev/null
    set -l service
    test "$argv[1]" = backups; and set service $${fn}_service
    command ${name} $${fn}_config ${callback} $argv[1] $service 2>/dev/null </dev/null
end

${lines.join("\n")}
`;
}
