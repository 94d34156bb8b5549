/**
 * Passwords: read from a file for scripts, or typed on a terminal — a new one twice, with a
 * strength hint and a few tries to make the two entries agree; an existing one once.
 *
 * @module
 */
import * as clack from "@clack/prompts";
import { InterruptedError, KeyError, UsageError } from "../errors.ts";
import { requireTerminal } from "./prompts.ts";

/** How many times `readNewPassword` asks before two differing entries become an error. */
const NEW_PASSWORD_TRIES = 3;

/** Below this many characters a new password gets a strength hint. */
const SHORT_PASSWORD = 12;

/** Reads a password file, stripping one trailing newline. */
export async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new KeyError(`cannot read password file ${path}: ${(error as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, "");
  if (password === "") throw new KeyError(`password file ${path} is empty`);
  return password;
}

/**
 * A new password: from `file`, or typed twice on a terminal. When the two entries differ the
 * user is told so and asked for both again, up to NEW_PASSWORD_TRIES times.
 */
export async function readNewPassword(file?: string): Promise<string> {
  if (file) return readPasswordFile(file);
  requireTerminal("--password-file FILE");
  for (let attempt = 1;; attempt++) {
    const first = await ask("New password for your backups");
    const weakness = passwordWeakness(first);
    if (weakness) clack.log.warn(weakness);
    const second = await ask("Repeat the password");
    if (first === second) return first;
    if (attempt === NEW_PASSWORD_TRIES) {
      throw new UsageError(
        `the two passwords differed ${NEW_PASSWORD_TRIES} times; nothing was written`,
      );
    }
    clack.log.error(
      `the two passwords differ; type the new password again (try ${
        attempt + 1
      } of ${NEW_PASSWORD_TRIES})`,
    );
  }
}

/** An existing password: from `file`, or typed once on a terminal. */
export async function readExistingPassword(file?: string): Promise<string> {
  if (file) return readPasswordFile(file);
  requireTerminal("--password-file FILE");
  return await ask("Password of your backups");
}

/**
 * Why a new password is easy to guess — short, or only letters or only digits — as a hint
 * suggesting a passphrase; undefined when it is none of these.
 */
function passwordWeakness(password: string): string | undefined {
  const reasons: string[] = [];
  const length = [...password].length;
  if (length < SHORT_PASSWORD) reasons.push(`only ${length} characters`);
  if (/^\p{L}+$/u.test(password)) reasons.push("only letters");
  if (/^\p{Nd}+$/u.test(password)) reasons.push("only digits");
  if (reasons.length === 0) return undefined;
  return `weak password: ${reasons.join(", ")}.\n` +
    `A passphrase of ${SHORT_PASSWORD} or more characters, such as four random words, is much harder to guess.`;
}

/**
 * One masked question; an empty answer is refused and asked again. Ctrl-C (or Esc) there is the
 * same as SIGINT: nothing was written, exit 130.
 */
async function ask(message: string): Promise<string> {
  const answer = await clack.password({
    message,
    validate: (value) => value ? undefined : "the password cannot be empty",
  });
  if (clack.isCancel(answer)) throw new InterruptedError("SIGINT", "nothing was written");
  return answer;
}
