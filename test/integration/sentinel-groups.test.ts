/**
 * One config listing the sentinels of two Sentinel groups, each monitoring its own master (the
 * original's one `Sentinels_addresses_list` for every database). A sentinel that answers it does not
 * monitor a master is not one of that master's sentinels: it counts neither for nor against it, in
 * routing, in the lease, and in `check`.
 */
import { describe, expect, test } from "bun:test";
import { freePort, startDeployment, TestClient, waitFor } from "../fixtures/index.ts";
import { runCli } from "../fixtures/cli.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

describe("sentinels of two groups in one config", () => {
  test("each master is followed, keeps its lease, and check passes", async () => {
    await using a = await startDeployment({ names: ["alpha"] });
    await using b = await startDeployment({ names: ["beta"] });
    const sentinels = [...a.sentinelAddresses, ...b.sentinelAddresses];
    await using tt = await startTestTunnel(sentinels, ["alpha", "beta"]);
    const masters = { alpha: await a.masterOf("alpha"), beta: await b.masterOf("beta") };
    for (const name of ["alpha", "beta"] as const) {
      const db = tt.tunnel.registry.databases.get(name)!;
      await waitFor(() => db.master === `127.0.0.1:${masters[name].port}` && !db.engine.fenced, {
        timeoutMs: 10_000,
        message: `${name} followed`,
      });
    }
    // Past the sentinels' down-after (2 s in the fixtures): a lease that needed the other group's
    // sentinels would have ended and fenced both masters by now.
    const renewals = (name: string) => tt.tunnel.registry.databases.get(name)!.engine.lease?.renewals ?? 0;
    const before = renewals("alpha");
    await waitFor(() => renewals("alpha") >= before + 3, { timeoutMs: 15_000, message: "the lease renewed" });
    for (const name of ["alpha", "beta"] as const) {
      const db = tt.tunnel.registry.databases.get(name)!;
      expect([name, db.engine.fenced, db.engine.lease?.ended]).toEqual([name, false, false]);
      await using c = await TestClient.connect(db.config.port, "127.0.0.1", { replyTimeoutMs: 3000 });
      expect(await c.command("CONFIG", "GET", "port")).toEqual(["port", String(masters[name].port)]);
    }
    const config = await a.configFile([{ name: "alpha", port: await freePort() }], {
      Sentinels_addresses_list: sentinels,
    });
    const check = await runCli(["check", config]);
    expect([check.code, check.stdout]).toEqual([0, expect.stringContaining("OK")]);
  }, 60_000);
});
