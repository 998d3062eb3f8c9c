/** Limits without a deployment: maxClients and clientIdleTimeoutMs as settings, and the engine's parked waiters. */
import { describe, expect, test } from "bun:test";
import { resolveSettings } from "../../src/config/settings.ts";
import { MasterEngine } from "../../src/engine/master.ts";
import { silentLogger } from "../../src/ops/log.ts";
import { ENGINE_SETTINGS, noSessions } from "../fixtures/engine.ts";

test("maxClients and clientIdleTimeoutMs from flags, environment and file; bad values name the source", () => {
  const flags = { sentinel: ["127.0.0.1:1"], db: ["mymaster=6380"] };
  expect(resolveSettings({ flags }).config).toMatchObject({ maxClients: 10_000, clientIdleTimeoutMs: 0 });
  expect(resolveSettings({ flags: { ...flags, maxClients: "5", clientIdleTimeout: "60000" } }).config).toMatchObject({
    maxClients: 5,
    clientIdleTimeoutMs: 60_000,
  });
  expect(
    resolveSettings({
      flags,
      env: { SENTINEL_TUNNEL_MAX_CLIENTS: "7", SENTINEL_TUNNEL_CLIENT_IDLE_TIMEOUT_MS: "1000" },
    }).config,
  ).toMatchObject({ maxClients: 7, clientIdleTimeoutMs: 1000 });
  expect(() => resolveSettings({ flags: { ...flags, maxClients: "0" } })).toThrow(
    /--max-clients: maxClients: must be at least 1/,
  );
  expect(() => resolveSettings({ flags, env: { SENTINEL_TUNNEL_MAX_CLIENTS: "many" } })).toThrow(
    /SENTINEL_TUNNEL_MAX_CLIENTS: maxClients: must be a number of clients/,
  );
});

describe("parked clients", () => {
  test("a parked client's wake-up is released when its wait ends, not kept until the state changes", async () => {
    const engine = new MasterEngine("mymaster", () => ENGINE_SETTINGS, noSessions(), silentLogger(), []);
    const a = { host: "127.0.0.1", port: 6379 };
    engine.observe({
      kind: "views",
      at: 1,
      views: [{ sentinel: "s", address: a, flags: new Set(["master"]), epoch: 1, quorum: 1 }],
      errors: [],
    });
    await Promise.all(Array.from({ length: 100 }, () => engine.changed(5)));
    expect(engine.waiters).toBe(0); // the state never changed: a plain list would keep all 100
    const woken = Promise.all(Array.from({ length: 10 }, () => engine.changed(60_000)));
    expect(engine.waiters).toBe(10);
    engine.observe({ kind: "role", at: 2, address: a, answer: { role: "master" } }); // a master followed: a change
    await woken;
    expect(engine.waiters).toBe(0);
  });
});
