/**
 * The poller's control connections: a long-lived connection on which it asks `ROLE` of one
 * server, instead of a new connection per check; it moves when asked about another address.
 * Answers are sorted the way the failover engine reads them: a role; busy (`-BUSY`, or no reply
 * in time: a slow command or a frozen process, no way to tell yet); loading (`-LOADING`); gone
 * (refused, reset, closed, garbage); or nothing to conclude (this process is out of descriptors).
 */
import { ReplyError } from "redis-errors";
import { AuthError } from "../core/errors.ts";
import { ConnectError } from "../net/sockets.ts";
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import { outOfFiles } from "../system/fd-watch.ts";
import { isAuthReply, PLAIN_REDIS, target, type HopOptions } from "../net/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import type { RoleAnswer } from "../engine/state.ts";

export class RoleProbe {
  #client: Promise<RespClient> | null = null;
  #address: Address | null = null;
  /** Where #address is reached (addressMap); a reload that remaps it moves the connection. */
  #reached: Address | null = null;
  /** The current connection was established (a failure on it is not a failure to connect). */
  #connected = false;

  constructor(
    /** Deadline per reply; changed in place on reload. */
    public timeoutMs: number,
    /** TLS and credentials, as for every Redis connection (hops.ts). */
    readonly connectOptions?: HopOptions,
  ) {}

  /**
   * What `address` answers to ROLE; null when the failure is ours (out of file descriptors). A
   * connection that was open before and breaks (a `CLIENT KILL` of it, an idle timeout) says
   * nothing about the server: the question is asked once more on a new connection, and only a
   * failure there is "gone".
   */
  async role(address: Address): Promise<RoleAnswer | null> {
    const reused = this.#client !== null && this.#connected;
    const answer = await this.#ask(address);
    if (reused && answer !== null && "error" in answer && answer.error === "gone" && !answer.replied) {
      return this.#ask(address);
    }
    return answer;
  }

  async #ask(address: Address): Promise<(RoleAnswer & { replied?: boolean }) | null> {
    const to = target(this.connectOptions ?? PLAIN_REDIS, address);
    const moved = !sameAddress(this.#address, address) || !sameAddress(this.#reached, to.address);
    if (!this.#client || moved) this.#open(address, to.address, to.options);
    const label = formatAddress(address);
    try {
      const client = await this.#client!;
      this.#connected = true;
      const reply = await client.command(["ROLE"], this.timeoutMs);
      if (Array.isArray(reply)) return { role: String(reply[0]) };
      this.close();
      return {
        error: "gone",
        detail: `${label} answers ROLE with ${JSON.stringify(reply)?.slice(0, 80)}`,
        replied: true,
      };
    } catch (error) {
      const message = (error as Error).message;
      if (isAuthReply(error)) return { error: "refused", cause: "auth", detail: message };
      if (error instanceof ReplyError) {
        // The connection is fine: the server answered, with an error.
        if (/^BUSY/.test(message)) return { error: "busy", detail: message.split("\n")[0]!.slice(0, 120) };
        if (/^LOADING/.test(message)) return { error: "loading", detail: message.slice(0, 120) };
        return { error: "gone", detail: `${label} answers ROLE with -${message.slice(0, 120)}`, replied: true };
      }
      this.close();
      if (error instanceof AuthError) return { error: "refused", cause: "auth", detail: error.reply };
      if (error instanceof ConnectError && error.certificateRejected)
        return { error: "refused", cause: "tls", detail: message };
      if ((error as { timedOut?: boolean }).timedOut === true)
        return { error: "busy", detail: `no reply to ROLE within ${this.timeoutMs} ms` };
      if (outOfFiles()) return null;
      return { error: "gone", detail: `${label} did not answer ROLE: ${message}` };
    }
  }

  close(): void {
    this.#client?.then(
      (c) => c.destroy("control connection closed"),
      () => {},
    );
    this.#client = null;
    this.#address = null;
    this.#reached = null;
    this.#connected = false;
  }

  #open(address: Address, reached: Address, options: HopOptions): void {
    this.close();
    this.#address = address;
    this.#reached = reached;
    const connecting = RespClient.connect(reached, this.timeoutMs, options);
    connecting.catch(() => {
      if (this.#client === connecting) this.close();
    });
    this.#client = connecting;
  }
}
