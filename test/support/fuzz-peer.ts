/**
 * Fuzzing peers: a seeded PRNG, a generator of random, truncated, oversized and wrongly typed RESP,
 * and a RESP server that answers each command with what a strategy picks (bytes, then keep the
 * connection, close it, or fall silent). For the fuzz test; real servers are used for the rest.
 */
import type { Socket, TCPSocketListener } from "bun";
import { ReplyReader } from "../../src/net/resp.ts";

/** mulberry32: small, fast, seeded, good enough to fuzz. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
export const int = (rng: Rng, n: number) => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)]!;

/** A short random word (letters and digits; never the word "master", so a fuzzing server never claims the role). */
export function word(rng: Rng): string {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789_-:.,";
  let out = "";
  for (let i = int(rng, 12); i > 0; i--) out += chars[int(rng, chars.length)];
  return out === "master" ? "mastery" : out;
}

export const bulk = (v: string) => `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
export const array = (items: string[]) => `*${items.length}\r\n${items.join("")}`;
export const fields = (pairs: string[]) => array(pairs.map(bulk));

/** Any RESP value, well formed, of a random type (nesting up to `depth`). */
export function value(rng: Rng, depth = 3): string {
  switch (int(rng, depth > 0 ? 7 : 6)) {
    case 0:
      return `+${word(rng)}\r\n`;
    case 1:
      return `-ERR ${word(rng)}\r\n`;
    case 2:
      return `:${int(rng, 2) ? -int(rng, 1e6) : int(rng, 1e12)}\r\n`;
    case 3:
      return bulk(word(rng));
    case 4:
      return "$-1\r\n";
    case 5:
      return pick(rng, ["*-1\r\n", "*0\r\n"]);
    default:
      return array(Array.from({ length: int(rng, 6) }, () => value(rng, depth - 1)));
  }
}

/** Bytes that are not RESP at all, or headers that lie. */
export function garbage(rng: Rng): string {
  return pick(rng, [
    "!what\r\n",
    "$abc\r\nxx\r\n",
    "*-5\r\n",
    ":12x\r\n",
    "%2\r\n",
    "\x00\x01\x02\r\n",
    `$-7\r\n`,
    "*1\r\n".repeat(50_000) + ":1\r\n",
    `${word(rng)}\r\n`,
  ]);
}

/** Over the tunnel's bounds: a bulk string past 1 MiB, or more than 100,000 elements. */
export function oversized(rng: Rng): string {
  return int(rng, 2)
    ? `$${(1 << 20) + 4096}\r\n${"x".repeat((1 << 20) + 4096)}\r\n`
    : `*150000\r\n${":1\r\n".repeat(150_000)}`;
}

/** What to send for a command, and what to do after. */
export interface Move {
  bytes: string;
  then?: "keep" | "close" | "silence";
}

export interface FuzzPeer extends AsyncDisposable {
  port: number;
  address: string;
  /** Commands answered so far. */
  exchanges: number;
}

/** A RESP server answering every command with `strategy(args)`; silence means it ignores the rest of that connection. */
export function startFuzzPeer(strategy: (args: string[]) => Move): FuzzPeer {
  const peer = { exchanges: 0 };
  const listener: TCPSocketListener<{ reader: ReplyReader; silent: boolean }> = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket: Socket<{ reader: ReplyReader; silent: boolean }>) {
        socket.data = {
          silent: false,
          reader: new ReplyReader({
            onReply(command) {
              if (socket.data.silent) return;
              peer.exchanges++;
              const move = strategy(Array.isArray(command) ? command.map(String) : [String(command)]);
              socket.write(move.bytes);
              if (move.then === "close") socket.end();
              if (move.then === "silence") socket.data.silent = true;
            },
            onProtocolError: () => socket.end(),
          }),
        };
      },
      data: (socket, chunk) => socket.data.reader.feed(chunk),
    },
  });
  return Object.assign(peer, {
    port: listener.port,
    address: `127.0.0.1:${listener.port}`,
    [Symbol.asyncDispose]: async () => listener.stop(true),
  });
}
