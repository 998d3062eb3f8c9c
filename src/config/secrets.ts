/**
 * Secrets: passwords for the sentinel and Redis hops, from the config file, a file
 * (`redisPasswordFile`, `sentinelPasswordFile`) or the environment (settings.ts maps
 * `SENTINEL_TUNNEL_REDIS_PASSWORD` etc. onto the same keys: flags > env > file).
 *
 * A password lives in a `Secret`: `reveal()` is the only way to read it; `String()`, `JSON.stringify`,
 * `console.log`/`util.inspect` (so logs, errors and `--print-config`) all show `********`.
 */
import { readFileSync, statSync } from "node:fs";

/** `util.inspect.custom`, the registered symbol itself: node:util is not loaded for it (its memory, bench/footprint.ts). */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

const MASK = "********";

export class Secret {
  readonly #value: string;
  constructor(
    value: string,
    /** The file it was read from (`*PasswordFile`), if any. */
    readonly file?: string,
  ) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [INSPECT](): string {
    return MASK;
  }
}

/** What AUTH sends: `AUTH <password>` or, with an ACL user, `AUTH <username> <password>`. */
export interface Credentials {
  username?: string;
  password: Secret;
}

export function authCommand(credentials: Credentials): string[] {
  const password = credentials.password.reveal();
  return credentials.username ? ["AUTH", credentials.username, password] : ["AUTH", password];
}

/** The config keys of one hop, as written (already validated as strings). */
interface CredentialKeys {
  password?: string;
  username?: string;
  passwordFile?: string;
}

export type Hop = "sentinel" | "redis";

/** A problem with one field; the caller turns it into a ConfigError naming the file. */
export class SecretProblem extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(problem);
  }
}

/** The credentials of one hop from its (validated) config keys; null when none are set. */
export function resolveCredentials(hop: Hop, keys: CredentialKeys): Credentials | null {
  if (keys.password !== undefined && keys.passwordFile !== undefined)
    throw new SecretProblem(`${hop}Password`, `set either ${hop}Password or ${hop}PasswordFile, not both`);
  let password: Secret | null = null;
  if (keys.password !== undefined) {
    if (keys.password === "")
      throw new SecretProblem(`${hop}Password`, "must not be empty (leave it out for no password)");
    password = new Secret(keys.password);
  } else if (keys.passwordFile !== undefined) password = readPasswordFile(`${hop}PasswordFile`, keys.passwordFile);
  if (!password) {
    if (keys.username)
      throw new SecretProblem(`${hop}Username`, `needs a password too: set ${hop}Password or ${hop}PasswordFile`);
    return null;
  }
  return keys.username ? { username: keys.username, password } : { password };
}

/** Read a password file: its content minus one trailing newline. */
function readPasswordFile(field: string, path: string): Secret {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SecretProblem(
      field,
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "") throw new SecretProblem(field, `${path} is empty`);
  return new Secret(value, path);
}

/** A warning when `path` is readable by users other than its owner and group, else null. */
export function readableByOthers(path: string, what: string): string | null {
  try {
    const mode = statSync(path).mode;
    if (mode & 0o004)
      return `${path} ${what} and is readable by every user (mode ${(mode & 0o777).toString(8)}); run chmod o-rwx ${path}`;
  } catch {}
  return null;
}
