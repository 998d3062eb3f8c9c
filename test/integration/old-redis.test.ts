/**
 * A Redis older than 6.2 has no RESET, so the tunnel cannot hand a client the connection it
 * authenticated on. A RESP mock stands in for such a server (real 7.x cannot be made to lack
 * RESET): the tunnel must verify with AUTH + ROLE there, then give the client a fresh connection
 * that never saw the tunnel's AUTH.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { Secret } from "../../src/index.ts";
import { ReplyReader } from "../../src/net/resp.ts";
import { TestClient } from "../fixtures/index.ts";
import { startMockSentinel, type MockSentinel } from "../fixtures/mock-sentinel.ts";
import { namesMaster, ROLE_MASTER } from "../fixtures/replies.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

interface Conn {
  authed: boolean;
  commands: string[];
  reader: ReplyReader;
}

const connections: Conn[] = [];
let oldRedis: TCPSocketListener<Conn>;
let sentinel: MockSentinel;

/** Redis 6.0 with requirepass: AUTH, ROLE, GET; RESET is an unknown command. */
function answer(conn: Conn, args: string[]): string {
  const [name, ...rest] = args;
  switch (name!.toUpperCase()) {
    case "AUTH":
      conn.authed = rest.at(-1) === "old-pw";
      return conn.authed ? "+OK\r\n" : "-WRONGPASS invalid username-password pair\r\n";
    case "ROLE":
      return ROLE_MASTER;
    case "RESET":
      return `-ERR unknown command 'RESET', with args beginning with: \r\n`;
    case "GET":
      return conn.authed ? "$2\r\nok\r\n" : "-NOAUTH Authentication required.\r\n";
    default:
      return "-ERR unknown command\r\n";
  }
}

beforeAll(() => {
  oldRedis = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        const conn: Conn = {
          authed: false,
          commands: [],
          reader: new ReplyReader({
            onReply(command) {
              const args = (command as unknown[]).map(String);
              conn.commands.push(args[0]!.toUpperCase());
              socket.write(answer(conn, args));
            },
            onProtocolError: () => socket.end(),
          }),
        };
        socket.data = conn;
        connections.push(conn);
      },
      data: (socket, chunk) => socket.data.reader.feed(chunk),
    },
  });
  sentinel = startMockSentinel(namesMaster("127.0.0.1", () => oldRedis.port));
});
afterAll(async () => {
  oldRedis?.stop(true);
  await sentinel?.[Symbol.asyncDispose]();
});

test("Redis < 6.2 (no RESET): verified with AUTH + ROLE on one connection, the client gets a fresh unauthenticated one", async () => {
  await using tt = await startTestTunnel([sentinel.address], ["mymaster"], {
    redisAuth: { password: new Secret("old-pw") },
    pollIntervalMs: 60_000,
  });
  await using anonymous = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
  await expect(anonymous.command("GET", "k")).rejects.toThrow(/NOAUTH/);
  await using app = await TestClient.connect(tt.port, "127.0.0.1", { replyTimeoutMs: 5000 });
  expect(await app.command("AUTH", "old-pw")).toBe("OK");
  expect(await app.command("GET", "k")).toBe("ok");
  const verifications = connections.filter((c) => c.commands.includes("RESET"));
  const clients = connections.filter((c) => c.commands.includes("GET"));
  expect(verifications.length).toBeGreaterThanOrEqual(2);
  for (const v of verifications) expect(v.commands.slice(0, 3)).toEqual(["AUTH", "ROLE", "RESET"]);
  expect(clients.map((c) => c.commands)).toEqual([["GET"], ["AUTH", "GET"]]);
}, 15_000);
