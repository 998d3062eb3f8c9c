/**
 * Resource faults: running out of file descriptors (EMFILE) and heavy connect/close churn.
 * The tunnel says what is wrong, keeps its sessions, recovers, and does not leak.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startDeployment, startTunnelProcess, TestClient, waitFor, waitForPort } from "../fixtures/index.ts";
import { CLI } from "../fixtures/cli.ts";

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

describe("chaos: resources", () => {
  test("out of file descriptors: logged, open sessions keep working, accepting resumes when fds free up", async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }]);
    const log = join(dep.dir, "tunnel.log");
    // Soft = hard = 64: the tunnel cannot raise it.
    await using tunnel = await startTunnelProcess(config, {
      logFile: log,
      command: ["bash", "-c", 'ulimit -n 64 && exec "$@"', "bash", process.execPath, CLI],
    });
    const clients: TestClient[] = [];
    try {
      await waitForPort(port, { timeoutMs: 10_000 });
      const refusals: string[] = [];
      while (refusals.length < 3 && clients.length < 60) {
        try {
          const c = await TestClient.connect(port, "127.0.0.1", { timeoutMs: 1000, replyTimeoutMs: 500 });
          await c.command("PING").catch((e) => (c.close(), Promise.reject(e)));
          clients.push(c);
        } catch (error) {
          refusals.push((error as Error).message);
        }
      }
      expect(refusals.length).toBe(3); // the limit was reached before 60 sessions
      // Turned away for want of descriptors, nothing else: at the limit accept() fails (EMFILE) and
      // Bun leaves the client in the kernel's accept queue, unanswered (what happens here: the
      // descriptors run out on an accept); a client accepted with the last descriptor, whose
      // upstream connect then fails, gets the tunnel's -ERR instead.
      for (const message of refusals) expect(message).toMatch(/^no reply from server|out of file descriptors/);
      await waitFor(() => readFileSync(log, "utf8").includes("(soft limit): new clients wait"), {
        timeoutMs: 5000,
        message: "EMFILE warning logged",
      });
      for (const c of clients.slice(0, 3)) expect(await c.command("PING")).toBe("PONG"); // open sessions unaffected
      // Running out of descriptors here says nothing about the master: no session cut for it.
      expect(readFileSync(log, "utf8")).not.toContain("master lost");
      for (const c of clients.splice(3)) c.close();
      await waitFor(
        async () => {
          await using c = await TestClient.connect(port, "127.0.0.1", { timeoutMs: 1000, replyTimeoutMs: 1000 });
          return (await c.command("PING")) === "PONG";
        },
        { timeoutMs: 10_000, message: "accepting again once fds are free" },
      );
      await waitFor(() => readFileSync(log, "utf8").includes("accepting normally"), {
        timeoutMs: 5000,
        message: "recovery logged",
      });
      expect(tunnel.running).toBe(true);
    } finally {
      for (const c of clients) c.close();
    }
  }, 60_000);

  test("10k connect/PING/close cycles: no descriptor leak, bounded memory", async () => {
    await using dep = await startDeployment();
    const port = await freePort();
    const config = await dep.configFile([{ name: "mymaster", port }]);
    await using tunnel = await startTunnelProcess(config, { logFile: "/dev/null" });
    await waitForPort(port, { timeoutMs: 10_000 });
    const cycle = async () => {
      await using c = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
      await c.command("PING");
    };
    for (let i = 0; i < 200; i++) await cycle(); // warm-up
    const fdsBefore = fds(tunnel.pid);
    const rssBefore = rssKiB(tunnel.pid);
    let done = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (done < 10_000) done++, await cycle();
      }),
    );
    await waitFor(() => fds(tunnel.pid) <= fdsBefore + 2, {
      timeoutMs: 5000,
      message: `descriptors back to ${fdsBefore} (now ${fds(tunnel.pid)})`,
    });
    const growthMiB = (rssKiB(tunnel.pid) - rssBefore) / 1024;
    expect(growthMiB).toBeLessThan(64);
    expect(tunnel.running).toBe(true);
  }, 90_000);
});
