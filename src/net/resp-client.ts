/**
 * One long-lived RESP connection: pipelined commands, replies matched in order, a deadline
 * per command. Used for sentinels (and control connections), never for client traffic.
 *
 * A command that times out poisons the connection (later replies would be matched to the
 * wrong callers), so the connection is destroyed and every waiting command is rejected.
 */
import type { Socket } from "bun";
import { ReplyError } from "redis-errors";
import { formatAddress, type Address } from "../core/address.ts";
import { encodeCommand, ReplyReader, type Reply } from "./resp.ts";
import { CONTROL_REPLY_LIMITS } from "./reply-limits.ts";
import { authFailure, isAuthReply, type HopOptions } from "./hops.ts";
import { authCommand } from "../config/secrets.ts";
import { connectWithTimeout } from "./sockets.ts";

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: Timer;
}

/** The connection failed or was lost; the message says how. `timedOut`: no reply in time. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

export class RespClient {
  readonly label: string;
  #socket: Socket<RespClient> | null = null;
  readonly #pending: Pending[] = [];
  readonly #reader: ReplyReader;
  #outbox: Buffer[] = [];
  #closedReason: string | null = null;
  onClose: ((reason: string) => void) | null = null;
  /**
   * On a subscribed connection: pub/sub pushes (`message`, `subscribe` confirmations) go here, not
   * to the commands waiting for replies (a `PING` there is answered `["pong", ""]`, in order); so
   * does any reply while no command waits (an error refusing a `send()`, such as `-NOPERM`).
   */
  onPush: ((push: Reply) => void) | null = null;

  private constructor(
    readonly address: Address,
    options?: HopOptions,
  ) {
    this.label = formatAddress(address);
    // Every reply is bounded (reply-limits.ts): a peer past the bounds, or speaking garbage, is cut.
    this.#reader = new ReplyReader(
      {
        onReply: (reply) => this.#settle(reply),
        onProtocolError: (error) => {
          if (options) options.cut?.(options.hop, this.label, error.message);
          this.destroy(`protocol error: ${error.message}`);
        },
      },
      { limits: CONTROL_REPLY_LIMITS },
    );
  }

  /**
   * Connect (TLS per `options`) and AUTH within `timeoutMs`; rejects with a ConnectError saying
   * why, an AuthError naming the hop when the credentials are refused, or a ConnectionError when
   * AUTH fails for another reason (a full server).
   */
  static async connect(address: Address, timeoutMs: number, options?: HopOptions): Promise<RespClient> {
    const client = new RespClient(address, options);
    client.#socket = await connectWithTimeout(address, timeoutMs, clientHandlers, client, options?.tls);
    if (options?.auth) {
      try {
        await client.command(authCommand(options.auth), timeoutMs);
      } catch (error) {
        client.destroy("authentication failed");
        if (isAuthReply(error)) throw authFailure(options.hop, client.label, error);
        // Not about the credentials (max clients reached, loading, ...): a failed attempt, retried.
        throw error instanceof ReplyError ? new ConnectionError(`AUTH failed: ${error.message}`) : error;
      }
    }
    return client;
  }

  get closed(): boolean {
    return this.#closedReason !== null;
  }

  /** Send one command; resolves with the reply, rejects on an error reply, timeout or close. */
  command(args: ReadonlyArray<string | number | Uint8Array>, timeoutMs: number): Promise<Reply> {
    if (this.#closedReason !== null) return Promise.reject(new ConnectionError(this.#closedReason));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.destroy(`no reply within ${timeoutMs} ms`, true), timeoutMs);
      this.#pending.push({ resolve, reject, timer });
      this.#write(encodeCommand(args));
    });
  }

  /** Send one command whose replies come as pushes (`SUBSCRIBE`): nothing waits for them here. */
  send(args: ReadonlyArray<string | number>): void {
    if (this.#closedReason === null) this.#write(encodeCommand(args));
  }

  /** Close now; every waiting command is rejected with `reason`. */
  destroy(reason = "closed", timedOut = false): void {
    if (this.#closedReason !== null) return;
    this.#closedReason = reason;
    this.#socket?.terminate();
    this.#socket = null;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError(reason, timedOut));
    }
    this.onClose?.(reason);
  }

  #write(buf: Buffer): void {
    const socket = this.#socket;
    if (!socket) return;
    if (this.#outbox.length > 0) {
      this.#outbox.push(buf);
      return;
    }
    const n = socket.write(buf);
    if (n < 0) this.destroy("connection closed");
    else if (n < buf.length) this.#outbox.push(buf.subarray(n));
  }

  /** @internal socket handlers */
  _data(chunk: Buffer): void {
    this.#reader.feed(chunk);
  }
  _drain(): void {
    const socket = this.#socket;
    while (socket && this.#outbox.length > 0) {
      const buf = this.#outbox[0]!;
      const n = socket.write(buf);
      if (n < 0) return this.destroy("connection closed");
      if (n < buf.length) {
        this.#outbox[0] = buf.subarray(n);
        return;
      }
      this.#outbox.shift();
    }
  }

  #settle(reply: Reply): void {
    const push = Array.isArray(reply) && PUSHES.has(String(reply[0]));
    if (this.onPush && (push || this.#pending.length === 0)) return this.onPush(reply);
    const p = this.#pending.shift();
    if (!p) return this.destroy("unexpected reply");
    clearTimeout(p.timer);
    if (reply instanceof ReplyError) p.reject(reply);
    else p.resolve(reply);
  }
}

/** The first element of a pub/sub push in RESP2. */
const PUSHES = new Set(["message", "pmessage", "subscribe", "psubscribe", "unsubscribe", "punsubscribe"]);

const clientHandlers = {
  data: (s: Socket<RespClient>, chunk: Buffer) => s.data._data(chunk),
  drain: (s: Socket<RespClient>) => s.data._drain(),
  close: (s: Socket<RespClient>, error?: Error) =>
    s.data?.destroy(error ? `connection lost: ${error.message}` : "connection closed by peer"),
  error: (s: Socket<RespClient>, error: Error) => s.data?.destroy(`socket error: ${error.message}`),
  end: (s: Socket<RespClient>) => s.data?.destroy("connection closed by peer"),
};
