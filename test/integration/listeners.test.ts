/**
 * Where the tunnel listens: a database's own `bind` over the global one, IPv6 (`::1`), a
 * `host:port` Local_port, and unix sockets with a file mode; the default stays 127.0.0.1; the
 * accept queue is longer than Bun's fixed 512.
 */
import { afterAll, beforeAll, expect, spyOn, test } from "bun:test";
import type { Socket } from "bun";
import { chmodSync, existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  makeTempDir,
  removeTempDir,
  spawnTracked,
  startDeployment,
  startTunnelProcess,
  TestClient,
  waitFor,
  waitForPort,
  type Deployment,
} from "../fixtures/index.ts";
import { startTestTunnel } from "../fixtures/tunnel.ts";

let dep: Deployment;
let dir: string;

beforeAll(async () => {
  dep = await startDeployment({ sentinels: 1, quorum: 1, replicas: 0 });
  dir = makeTempDir("st-unix-");
}, 60_000);
afterAll(async () => {
  await dep?.[Symbol.asyncDispose]();
  removeTempDir(dir);
}, 30_000);

/** PING over a unix socket; resolves with the raw reply. */
async function pingUnix(path: string): Promise<string> {
  let reply = "";
  const done = Promise.withResolvers<string>();
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data: (_s, chunk) => {
        reply += chunk.toString();
        if (reply.endsWith("\r\n")) done.resolve(reply);
      },
      close: () => done.resolve(reply),
    },
  });
  socket.write("PING\r\n");
  try {
    return await done.promise;
  } finally {
    socket.end();
  }
}

test("per-database bind: ::1 for one database, the global 127.0.0.1 for another, [::1]:port as Local_port", async () => {
  const [v6, v4, v6b] = [await freePort(), await freePort(), await freePort()];
  await using tt = await startTestTunnel({
    json: {
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [
        { Name: "mymaster", Local_port: v6, bind: "::1" },
        { Name: "mymaster", Local_port: v4, Role: "replica", replicaFallback: true },
      ],
    },
  });
  expect(tt.log()).toContain(`mymaster: listening on [::1]:${v6}`);
  expect(tt.log()).toContain(`mymaster/replicas: listening on 127.0.0.1:${v4}`);
  await using c6 = await TestClient.connect(v6, "::1", { replyTimeoutMs: 5000 });
  expect(await c6.command("PING")).toBe("PONG");
  await expect(TestClient.connect(v6, "127.0.0.1")).rejects.toThrow();
  await using c4 = await TestClient.connect(v4, "127.0.0.1", { replyTimeoutMs: 5000 });
  expect(await c4.command("PING")).toBe("PONG");
  await expect(TestClient.connect(v4, "::1")).rejects.toThrow();

  await using tt2 = await startTestTunnel({
    json: {
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [{ Name: "mymaster", Local_port: `[::1]:${v6b}` }],
    },
  });
  await using c = await TestClient.connect(v6b, "::1", { replyTimeoutMs: 5000 });
  expect(await c.command("PING")).toBe("PONG");
  expect(tt2.tunnel.config.databases[0]!.bind).toBe("::1");
}, 20_000);

test("unix socket listener: Local_port unix:/path with its mode; the file is removed on close and a stale one replaced", async () => {
  const path = join(dir, "db.sock");
  {
    await using tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: dep.sentinelAddresses,
        Databases: [{ Name: "mymaster", Local_port: `unix:${path}`, unixSocketMode: "660" }],
      },
    });
    expect(tt.log()).toContain(`mymaster: listening on unix:${path}`);
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o660);
    expect(await pingUnix(path)).toBe("+PONG\r\n");
    expect(tt.tunnel.port("mymaster")).toBeUndefined();
  }
  expect(existsSync(path)).toBe(false);
  // A socket file left by a killed process: the next tunnel takes the path over (default mode 600).
  const squatter = spawnTracked(
    [
      process.execPath,
      "-e",
      `Bun.listen({ unix: ${JSON.stringify(path)}, socket: { data() {} } }); setInterval(() => {}, 1000);`,
    ],
    {},
  );
  await waitFor(() => existsSync(path), { timeoutMs: 5000, message: "squatter's socket file" });
  squatter.kill("SIGKILL");
  await squatter.exited;
  expect(existsSync(path)).toBe(true);
  await using next = await startTestTunnel({
    json: {
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [{ Name: "mymaster", Local_port: `unix:${path}` }],
    },
  });
  expect(next.log()).toContain(`listening on unix:${path}`);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  await waitFor(async () => (await pingUnix(path)) === "+PONG\r\n", {
    timeoutMs: 5000,
    message: "PING over the unix socket",
  });
  // ... but a path a live tunnel serves is not stale: a second tunnel is refused, the first keeps it.
  const second = await startTestTunnel({
    json: {
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [{ Name: "mymaster", Local_port: `unix:${path}` }],
    },
  }).then(
    async (t) => (await t[Symbol.asyncDispose](), null),
    (error: Error) => error,
  );
  expect(String(second)).toContain(
    `database 'mymaster': cannot listen on unix:${path}: a running process (another tunnel?) is listening on this socket`,
  );
  expect(await pingUnix(path)).toBe("+PONG\r\n");
}, 20_000);

test("a unix socket is created with its final mode (no moment others may connect), and a symlink at its path is refused", async () => {
  const path = join(dir, "modes.sock");
  // What the file's mode is the moment Bun.listen returns, before anything else could chmod it.
  const original = Bun.listen;
  const modes: number[] = [];
  const spy = spyOn(Bun, "listen").mockImplementation(((options: { unix?: string }) => {
    const listener = original(options as never);
    if (options.unix) modes.push(lstatSync(options.unix).mode & 0o777);
    return listener;
  }) as unknown as typeof Bun.listen);
  try {
    await using _tt = await startTestTunnel({
      json: {
        Sentinels_addresses_list: dep.sentinelAddresses,
        Databases: [{ Name: "mymaster", Local_port: `unix:${path}`, unixSocketMode: "600" }],
      },
    });
    expect(modes).toEqual([0o600]);
    expect(await pingUnix(path)).toBe("+PONG\r\n");
  } finally {
    spy.mockRestore();
  }
  // A symlink at the path (to a file someone wants chmod-ed, or to another socket) is refused, and left alone.
  const target = join(dir, "precious.txt");
  writeFileSync(target, "mine");
  chmodSync(target, 0o644);
  const link = join(dir, "link.sock");
  symlinkSync(target, link);
  const error = await startTestTunnel({
    json: {
      Sentinels_addresses_list: dep.sentinelAddresses,
      Databases: [{ Name: "mymaster", Local_port: `unix:${link}`, unixSocketMode: "666" }],
    },
  }).then(
    async (t) => (await t[Symbol.asyncDispose](), null),
    (e: Error) => e,
  );
  expect(String(error)).toContain(
    `database 'mymaster': cannot listen on unix:${link}: the path is a symbolic link; refusing to listen through it`,
  );
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(statSync(target).mode & 0o777).toBe(0o644);
}, 20_000);

test("a burst of clients beyond Bun's 512 accept backlog waits in the kernel's queue instead of having its SYNs dropped", async () => {
  // While the tunnel process is stopped, nothing accepts: a client's connect completes only if the
  // listening socket's queue has room. Bun listens with 512; the tunnel widens it to somaxconn.
  const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
  const clients = Math.min(1000, somaxconn);
  const port = await freePort();
  await using tunnel = await startTunnelProcess(await dep.configFile([{ name: "mymaster", port }]), {
    logFile: "/dev/null",
  });
  await waitForPort(port, { timeoutMs: 10_000 });
  let connected = 0;
  let pongs = 0;
  const sockets: Socket[] = [];
  try {
    tunnel.kill("SIGSTOP");
    for (let i = 0; i < clients; i++) {
      void Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (s) => {
            connected++;
            sockets.push(s);
            s.write("PING\r\n");
          },
          data: (_s, chunk) => void (pongs += chunk.toString().split("+PONG").length - 1),
        },
      }).catch(() => {});
    }
    await waitFor(() => connected === clients, {
      timeoutMs: 10_000,
      message: "every client connected while the tunnel was stopped",
    }).catch(() => {
      throw new Error(
        `only ${connected} of ${clients} clients got connected while the tunnel was stopped: the accept queue is too short`,
      );
    });
  } finally {
    tunnel.kill("SIGCONT");
  }
  try {
    await waitFor(() => pongs === clients, { timeoutMs: 20_000, message: "every client got PONG" }).catch(() => {
      throw new Error(`${pongs} of ${clients} clients got PONG`);
    });
  } finally {
    for (const s of sockets) s.end();
  }
}, 60_000);
