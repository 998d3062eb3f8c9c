/**
 * Finding Redis for the demo, and installing it where that is safe to do unasked: apt-get as
 * root or with password-less sudo, brew on macOS. Says what it runs; otherwise prints the exact
 * command for the user to run.
 */
import { APT_PACKAGES, redisBinary } from "./procs.ts";


function haveRedis(): boolean {
  try {
    redisBinary("redis-server");
    redisBinary("redis-sentinel");
    return true;
  } catch {
    return false;
  }
}

async function runs(cmd: string[], say: (line: string) => void): Promise<boolean> {
  say(`  $ ${cmd.join(" ")}`);
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "inherit", stderr: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return (await proc.exited) === 0;
}

async function sudoWorks(): Promise<boolean> {
  if (!Bun.which("sudo")) return false;
  const proc = Bun.spawn(["sudo", "-n", "true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  return (await proc.exited) === 0;
}

/** The commands that would install Redis here, and whether we may run them ourselves. */
async function plan(): Promise<{ commands: string[][]; canRun: boolean }> {
  if (process.platform === "darwin") {
    return { commands: [["brew", "install", "redis"]], canRun: !!Bun.which("brew") };
  }
  const root = process.getuid?.() === 0;
  const prefix = root ? [] : ["sudo", "-n"];
  const commands = [
    [...prefix, "apt-get", "update", "-q"],
    [...prefix, "apt-get", "install", "-y", "-q", ...APT_PACKAGES],
  ];
  return { commands, canRun: !!Bun.which("apt-get") && (root || (await sudoWorks())) };
}

/** True when redis-server and redis-sentinel are (now) available; false after telling the user what to run. */
export async function installRedis(say: (line: string) => void, purpose = "the demo", again = "run the demo again"): Promise<boolean> {
  if (haveRedis()) return true;
  const { commands, canRun } = await plan();
  const shown = commands.map((c) => c.filter((a) => a !== "-n").join(" ")).join(" && ");
  if (canRun) {
    say("redis-server / redis-sentinel not found (PATH, REDIS_BIN_DIR): installing them with the system package manager");
    for (const cmd of commands) if (!(await runs(cmd, say))) break;
    if (haveRedis()) return true;
  }
  say(
    `${purpose} needs redis-server and redis-sentinel (looked in REDIS_BIN_DIR and PATH). Install them with:\n\n  ${shown}\n` +
      (process.platform === "darwin" ? "" : "\n(macOS: brew install redis)\n") +
      `\nthen ${again}.`,
  );
  return false;
}
