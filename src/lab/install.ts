/**
 * Finding Redis for the demo, and installing it where that is safe to do unasked: apt-get as
 * root or with password-less sudo, brew on macOS. Says what it runs; otherwise prints the exact
 * command for the user to run.
 */
import { APT_PACKAGES, redisBinary } from "./procs.ts";

/** A thing the demo or the test suite needs from the system, and the packages that bring it. */
export interface SystemNeed {
  /** What it is, for messages (`redis-server / redis-sentinel`). */
  what: string;
  present(): boolean;
  /** Debian packages; brew formulae on macOS (none: say what to install instead). */
  apt: string[];
  brew?: string[];
}

function haveRedis(): boolean {
  try {
    redisBinary("redis-server");
    redisBinary("redis-sentinel");
    return true;
  } catch {
    return false;
  }
}

/** Redis itself: what the demo needs. */
export const REDIS_NEED: SystemNeed = {
  what: "redis-server / redis-sentinel",
  present: haveRedis,
  apt: APT_PACKAGES,
  brew: ["redis"],
};

async function runs(cmd: string[], say: (line: string) => void): Promise<boolean> {
  say(`  $ ${cmd.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "inherit", stderr: "inherit", env });
  return (await proc.exited) === 0;
}

async function sudoWorks(): Promise<boolean> {
  if (!Bun.which("sudo")) return false;
  const proc = Bun.spawn(["sudo", "-n", "true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  return (await proc.exited) === 0;
}

/** The commands that would install `needs` here, and whether we may run them ourselves. */
async function plan(needs: SystemNeed[]): Promise<{ commands: string[][]; canRun: boolean }> {
  if (process.platform === "darwin") {
    const formulae = needs.flatMap((n) => n.brew ?? []);
    return { commands: formulae.length ? [["brew", "install", ...formulae]] : [], canRun: !!Bun.which("brew") };
  }
  const root = process.getuid?.() === 0;
  const prefix = root ? [] : ["sudo", "-n"];
  const commands = [
    [...prefix, "apt-get", "update", "-q"],
    [...prefix, "apt-get", "install", "-y", "-q", ...needs.flatMap((n) => n.apt)],
  ];
  return { commands, canRun: !!Bun.which("apt-get") && (root || (await sudoWorks())) };
}

/**
 * True when every one of `needs` is (now) present; missing ones are installed where that is safe
 * to do unasked (apt-get as root or with password-less sudo, brew on macOS), saying what runs;
 * otherwise false after telling the user the exact command.
 */
export async function ensureInstalled(
  needs: SystemNeed[],
  say: (line: string) => void,
  purpose: string,
  again: string,
): Promise<boolean> {
  let missing = needs.filter((n) => !n.present());
  if (missing.length === 0) return true;
  const { commands, canRun } = await plan(missing);
  const shown = commands.map((c) => c.filter((a) => a !== "-n").join(" ")).join(" && ");
  const whats = missing.map((n) => n.what).join(", ");
  if (canRun) {
    say(`${whats} not found: installing with the system package manager`);
    for (const cmd of commands) if (!(await runs(cmd, say))) break;
    missing = missing.filter((n) => !n.present());
    if (missing.length === 0) return true;
  }
  const brew = process.platform === "darwin" ? [] : missing.flatMap((n) => n.brew ?? []);
  const mac = brew.length ? `\n(macOS: brew install ${brew.join(" ")})\n` : "";
  say(
    `${purpose} needs ${missing.map((n) => n.what).join(", ")}. Install with:\n\n  ${shown || "(your package manager)"}\n${mac}\nthen ${again}.`,
  );
  return false;
}

/** True when redis-server and redis-sentinel are (now) available; false after telling the user what to run. */
export function installRedis(
  say: (line: string) => void,
  purpose = "the demo",
  again = "run the demo again",
): Promise<boolean> {
  return ensureInstalled([REDIS_NEED], say, purpose, again);
}
