/**
 * A small promise-based RESP client for tests (Bun.connect + the project's ReplyReader):
 * replies are matched to commands in FIFO order, replies nobody asked for (pub/sub messages)
 * are queued for `readReply()`, and writes respect backpressure so 64 MiB values go through.
 */
import type { Socket, TLSOptions } from "bun";
import { ReplyError } from "redis-errors";
import { encodeCommand, ReplyReader, type Reply } from "../../src/net/resp.ts";
import { HOST } from "./procs.ts";
import { withTimeout } from "./wait.ts";

type Arg = string | number | Uint8Array;
interface Waiter {
  resolve(reply: any): void;
  reject(error: Error): void;
}

export interface ConnectOptions {
  /** Connect timeout (default 2000 ms). */
  timeoutMs?: number;
  /** Reject a command whose reply has not arrived after this long, and close the connection (default: none). */
  replyTimeoutMs?: number;
  /** Bulk strings as Buffers instead of strings. */
  returnBuffers?: boolean;
  /** Send AUTH [username] password first (rejects with the ReplyError if refused). */
  auth?: { username?: string; password: string };
  /** Connect with TLS (resolves after the handshake; a failed verification rejects). */
  tls?: TLSOptions;
}

export class TestClient implements AsyncDisposable {
  #socket!: Socket<undefined>;
  readonly #pending: Waiter[] = []; // commands awaiting their reply, in order
  readonly #unsolicited: Reply[] = []; // replies that arrived with no command pending
  readonly #readers: Waiter[] = []; // readReply() calls waiting for an unsolicited reply
  readonly #outbox: Uint8Array[] = []; // bytes the kernel did not take yet
  readonly #replyTimeoutMs?: number;
  #error?: Error;
  readonly closed: Promise<void>;
  #markClosed!: () => void;

  private constructor(opts: ConnectOptions) {
    this.#replyTimeoutMs = opts.replyTimeoutMs;
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  /** Connect to `host:port`; rejects on refusal or after `timeoutMs`. */
  static async connect(port: number, host: string = HOST, opts: ConnectOptions = {}): Promise<TestClient> {
    const client = new TestClient(opts);
    const reader = new ReplyReader(
      { onReply: (reply) => client.#onReply(reply), onProtocolError: (error) => client.#fail(error) },
      { returnBuffers: opts.returnBuffers ?? false },
    );
    let handshakeDone!: (error: Error | null) => void;
    const handshake = new Promise<void>((resolve, reject) => (handshakeDone = (e) => (e ? reject(e) : resolve())));
    handshake.catch(() => {});
    const connecting = Bun.connect({
      hostname: host,
      port,
      ...(opts.tls ? { tls: opts.tls } : {}),
      socket: {
        open: (s) => void (client.#socket = s),
        handshake: (_s, ok, error) => handshakeDone(ok ? null : (error ?? new Error("TLS handshake failed"))),
        data: (_s, chunk) => reader.feed(chunk),
        drain: () => client.#flush(),
        close: (_s, error) => {
          handshakeDone(error ?? new Error("connection closed by peer"));
          client.#onClose(error ?? new Error("connection closed by peer"));
        },
        error: (_s, error) => client.#onClose(error),
      },
    });
    try {
      await withTimeout(
        connecting.then(() => (opts.tls ? handshake : undefined)),
        opts.timeoutMs ?? 2000,
        `connect to ${host}:${port} timed out`,
      );
      if (opts.auth)
        await client.command("AUTH", ...(opts.auth.username ? [opts.auth.username] : []), opts.auth.password);
      return client;
    } catch (error) {
      void connecting.then(
        (s) => s.terminate(),
        () => {},
      );
      throw error;
    }
  }

  /** Send one command; resolves with its reply, rejects with the ReplyError for an error reply. */
  command(...args: Arg[]): Promise<any> {
    return this.#enqueue(1, encodeCommand(args)).then(([reply]) => {
      if (reply instanceof ReplyError) throw reply;
      return reply;
    });
  }

  /** Send several commands in one write; resolves with all replies (error replies as ReplyError values). */
  pipeline(commands: Arg[][]): Promise<any[]> {
    if (commands.length === 0) return Promise.resolve([]);
    return this.#enqueue(commands.length, Buffer.concat(commands.map((c) => encodeCommand(c))));
  }

  /** The next reply that arrived while no command was pending (e.g. a pub/sub message). */
  readReply(timeoutMs?: number): Promise<any> {
    const queued = this.#unsolicited.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#error) return Promise.reject(this.#error);
    const p = new Promise<any>((resolve, reject) => this.#readers.push({ resolve, reject }));
    return timeoutMs === undefined ? p : withTimeout(p, timeoutMs, "readReply: no reply");
  }

  /** Raw bytes onto the wire (with backpressure handling). */
  write(raw: Uint8Array): void {
    if (this.#error) throw this.#error;
    this.#outbox.push(raw);
    if (this.#outbox.length === 1) this.#flush();
  }

  close(): void {
    this.#socket.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#error) this.#socket.terminate();
    await this.closed;
  }

  #enqueue(count: number, bytes: Uint8Array): Promise<Reply[]> {
    if (this.#error) return Promise.reject(this.#error);
    const replies = Array.from(
      { length: count },
      () => new Promise<Reply>((resolve, reject) => this.#pending.push({ resolve, reject })),
    );
    this.write(bytes);
    const all = Promise.all(replies);
    if (this.#replyTimeoutMs === undefined) return all;
    return withTimeout(all, this.#replyTimeoutMs, "no reply from server").catch((error) => {
      this.#fail(error); // FIFO is out of step now: the connection is useless
      throw error;
    });
  }

  #flush(): void {
    while (this.#outbox.length > 0 && !this.#error) {
      const chunk = this.#outbox[0]!;
      const written = this.#socket.write(chunk);
      if (written < 0) return this.#fail(new Error("write on a closed socket"));
      if (written < chunk.byteLength) {
        this.#outbox[0] = chunk.subarray(written);
        return; // wait for drain
      }
      this.#outbox.shift();
    }
  }

  #onReply(reply: Reply): void {
    const waiter = this.#pending.shift();
    if (waiter) return waiter.resolve(reply);
    const reader = this.#readers.shift();
    if (reader) reader.resolve(reply);
    else this.#unsolicited.push(reply);
  }

  #fail(error: Error): void {
    if (!this.#error) this.#error = error;
    this.#socket.terminate();
    this.#onClose(error);
  }

  #onClose(error: Error): void {
    this.#error ??= error;
    for (const w of this.#pending.splice(0)) w.reject(this.#error);
    for (const r of this.#readers.splice(0)) r.reject(this.#error);
    this.#outbox.length = 0;
    this.#markClosed();
  }
}

/** One-shot: connect to 127.0.0.1:port, send one command, close. Times out after 3 s. */
export async function redisCommand(port: number, ...args: Arg[]): Promise<any> {
  return commandWith(port, {}, ...args);
}

/** `redisCommand` with connect options (auth, TLS) for servers that need them. */
export async function commandWith(port: number, opts: ConnectOptions, ...args: Arg[]): Promise<any> {
  await using client = await TestClient.connect(port, HOST, { timeoutMs: 3000, replyTimeoutMs: 3000, ...opts });
  return await client.command(...args); // await before the connection is disposed
}

/** INFO <section> as a record of `field: value`. */
export async function infoRecord(
  port: number,
  section: string,
  opts: ConnectOptions = {},
): Promise<Record<string, string>> {
  const text = String(await commandWith(port, opts, "INFO", section));
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
