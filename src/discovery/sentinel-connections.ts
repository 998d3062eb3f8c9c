/**
 * One long-lived, pipelined connection per sentinel (opened on first use, forgotten when it
 * closes), and one command on it: counted, with a deadline, any failure turned into a
 * SentinelUnreachableError that says what to fix (credentials, certificate). Configured sentinels
 * are reached as written, learned ones through the address map.
 */
import { ReplyError } from "redis-errors";
import { formatAddress, type Address } from "../core/address.ts";
import { AuthError, SentinelUnreachableError } from "../core/errors.ts";
import { isAuthReply, PLAIN_SENTINEL, target, type HopOptions } from "../net/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import type { Reply } from "../net/resp.ts";
import { ConnectError } from "../net/sockets.ts";
import type { CommandCounts } from "./sentinel-counts.ts";
import type { SentinelList } from "./sentinel-list.ts";
import type { SentinelOptions } from "./sentinel.ts";

export class SentinelConnections {
  readonly #connections = new Map<string, Promise<RespClient>>();

  constructor(
    readonly options: SentinelOptions,
    readonly sentinels: SentinelList,
    readonly counts: CommandCounts,
  ) {}

  /** Run one command on one sentinel's long-lived connection. Rejects with SentinelUnreachableError. */
  async query(sentinel: Address, args: ReadonlyArray<string | number>): Promise<Reply> {
    const label = formatAddress(sentinel);
    this.counts.queries++;
    this.counts.sent(label);
    try {
      const client = await this.#connection(sentinel, label);
      return await client.command(args, this.options.timeoutMs);
    } catch (error) {
      const auth =
        error instanceof AuthError
          ? error.detail
          : isAuthReply(error)
            ? new AuthError("sentinel", label, error.message).detail
            : null;
      const tls = error instanceof ConnectError && error.certificateRejected;
      const message =
        auth ?? `${error instanceof Error ? error.message : String(error)}${tls ? "; check sentinelTls" : ""}`;
      this.options.onError?.(label, message);
      throw new SentinelUnreachableError(
        label,
        message,
        auth !== null ? "auth" : tls ? "tls" : null,
        error instanceof ReplyError,
      );
    }
  }

  /** Where a connection to `sentinel` goes: configured ones as written, learned ones through the address map. */
  connectTarget(sentinel: Address): { address: Address; options: HopOptions } {
    const hop = this.options.connect ?? PLAIN_SENTINEL;
    return this.sentinels.isConfigured(formatAddress(sentinel))
      ? { address: sentinel, options: hop }
      : target(hop, sentinel);
  }

  /** Close the connection to `label` (a bad reply, a sentinel dropped or forgotten); the next query opens another. */
  drop(label: string): void {
    this.#connections.get(label)?.then(
      (c) => c.destroy("dropped after a bad reply"),
      () => {},
    );
    this.#connections.delete(label);
  }

  /** Close the connections to sentinels no longer configured (reload). */
  dropUnconfigured(): void {
    for (const label of [...this.#connections.keys()]) if (!this.sentinels.isConfigured(label)) this.drop(label);
  }

  close(): void {
    for (const connection of this.#connections.values())
      connection.then(
        (c) => c.destroy("shutdown"),
        () => {},
      );
    this.#connections.clear();
  }

  #connection(sentinel: Address, label: string): Promise<RespClient> {
    let connection = this.#connections.get(label);
    if (!connection) {
      const to = this.connectTarget(sentinel);
      if (to.options.auth) this.counts.sent(label); // AUTH
      connection = RespClient.connect(to.address, this.options.timeoutMs, to.options).then((client) => {
        client.onClose = () => {
          if (this.#connections.get(label) === connection) this.#connections.delete(label);
        };
        return client;
      });
      connection.catch(() => this.#connections.delete(label));
      this.#connections.set(label, connection);
    }
    return connection;
  }
}
