/**
 * A shipped form of the CLI (the compiled binary, the bin of a package installed from the packed
 * tarball) through a real Sentinel failover, as an application sees it: a session through the
 * tunnel, SENTINEL FAILOVER, the stale session closed, a reconnect landing on the new master with
 * the data, /readyz 200 from the metrics listener, and SIGTERM → exit 0.
 */
import { expect } from "bun:test";
import {
  freePort,
  startDeployment,
  startTunnelProcess,
  TestClient,
  waitFor,
  waitForPort,
  withTimeout,
} from "../harness/index.ts";

export interface ShippedCommand {
  /** The program and any leading arguments (e.g. [binary] or [bun, node_modules/.bin/sentinel-tunnel]). */
  command: string[];
  /** Working directory, outside the source tree. */
  cwd: string;
  env?: Record<string, string>;
}

/** Runs the drill; every step asserts. `how` names the form in failure messages. */
export async function shippedFailoverDrill(how: string, shipped: ShippedCommand): Promise<void> {
  await using dep = await startDeployment();
  const port = await freePort();
  const metricsPort = await freePort();
  const config = await dep.configFile([{ name: "mymaster", port }], { pollIntervalMs: 100 });
  await using tunnel = await startTunnelProcess(config, {
    ...shipped,
    logFile: "/dev/null",
    args: ["--metrics", String(metricsPort)],
  });
  await waitForPort(port, { timeoutMs: 10_000 }).catch((error) => {
    throw new Error(`${how}: the tunnel did not listen (${error.message}); output: ${tunnel.output()}`);
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200, {
    timeoutMs: 5000,
    message: `${how}: /readyz 200`,
  });

  const client = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
  expect(await client.command("SET", "shipped", how)).toBe("OK");
  const from = await dep.masterOf();
  const { to } = await dep.failover("mymaster", { demote: "none" }); // the old master still says master
  // Closed by the tunnel: nothing else ends a session on a master that still answers.
  await withTimeout(
    client.closed,
    10_000,
    `${how}: the tunnel closes the session on the old master after the failover`,
  );
  expect(await from.role()).toBe("master");

  {
    await using again = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 5000 });
    expect((await again.command("INFO", "server")).match(/tcp_port:(\d+)/)[1]).toBe(String(to.port));
    expect(String(await again.command("GET", "shipped"))).toBe(how);
    expect(await again.command("SET", "after", "1")).toBe("OK");
    expect(String(await to.command("GET", "after"))).toBe("1");
  } // closed before SIGTERM, so the drain has nothing to wait for

  tunnel.kill("SIGTERM");
  expect(await tunnel.exited).toBe(0);
}
