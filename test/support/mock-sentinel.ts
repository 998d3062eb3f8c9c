/**
 * A tiny RESP server standing in for a sentinel, for what a real one cannot be made to do:
 * name a replica as master, answer garbage, or hang. `reply(args)` returns raw bytes to send,
 * or null to never answer.
 */
import type { Socket, TCPSocketListener } from "bun";
import { ReplyReader } from "../../src/net/resp.ts";

export interface MockSentinel extends AsyncDisposable {
  port: number;
  address: string;
  /** Commands received, each as its arguments. */
  received: string[][];
}

export function startMockSentinel(reply: (args: string[]) => string | null): MockSentinel {
  const received: string[][] = [];
  const listener: TCPSocketListener<ReplyReader> = Bun.listen<ReplyReader>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket: Socket<ReplyReader>) {
        socket.data = new ReplyReader({
          onReply(command) {
            const args = (command as unknown[]).map(String);
            received.push(args);
            const answer = reply(args);
            if (answer !== null) socket.write(answer);
          },
          onProtocolError: () => socket.end(),
        });
      },
      data: (socket, chunk) => socket.data.feed(chunk),
    },
  });
  return {
    port: listener.port,
    address: `127.0.0.1:${listener.port}`,
    received,
    [Symbol.asyncDispose]: async () => listener.stop(true),
  };
}

/** RESP for `SENTINEL get-master-addr-by-name`: the address as a two-element array. */
export function addrReply(host: string, port: number): string {
  return `*2\r\n$${host.length}\r\n${host}\r\n$${String(port).length}\r\n${port}\r\n`;
}

/** RESP for `SENTINEL master`: the field map a real sentinel gives (flags, config-epoch, quorum). */
export function masterReply(
  host: string,
  port: number,
  opts: { flags?: string; epoch?: number; quorum?: number } = {},
): string {
  const fields: [string, string][] = [
    ["name", "mymaster"],
    ["ip", host],
    ["port", String(port)],
    ["flags", opts.flags ?? "master"],
    ["config-epoch", String(opts.epoch ?? 1)],
    ["quorum", String(opts.quorum ?? 1)],
    ["num-other-sentinels", "0"],
  ];
  const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  return `*${fields.length * 2}\r\n${fields.map(([k, v]) => bulk(k) + bulk(v)).join("")}`;
}

/** A sentinel (alone, quorum 1) that names `host:port` as master, whatever it is asked. */
export function namesMaster(
  host: string,
  port: () => number,
  opts: { flags?: string; epoch?: number } = {},
): (args: string[]) => string {
  return (args) => {
    const sub = args[1]?.toLowerCase();
    if (args[0]?.toUpperCase() === "PING") return "+PONG\r\n";
    if (sub === "master") return masterReply(host, port(), opts);
    if (sub === "get-master-addr-by-name") return addrReply(host, port());
    if (sub === "sentinels" || sub === "replicas" || sub === "slaves") return "*0\r\n";
    return "-ERR unknown subcommand\r\n";
  };
}
