/**
 * The poller's control connections: a long-lived connection on which it asks `ROLE` of one
 * server, instead of a new connection per check; it moves when asked about another address.
 * What comes back is sorted by the engine's one ROLE classifier (engine/role-reply.ts): a role,
 * busy, loading, gone or refused; or nothing to conclude (this process is out of descriptors).
 */
import { ReplyError } from "redis-errors";
import { AuthError } from "../core/errors.ts";
import { ConnectError } from "../net/sockets.ts";
import { formatAddress, sameAddress, type Address } from "../core/address.ts";
import { outOfFiles } from "../system/fd-watch.ts";
import { PLAIN_REDIS, target, type HopOptions } from "../net/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import { classifyRole, type RoleAnswer, type RoleOutcome } from "../engine/role-reply.ts";

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
    let outcome: RoleOutcome;
    try {
      const client = await this.#client!;
      this.#connected = true;
      outcome = { kind: "reply", reply: await client.command(["ROLE"], this.timeoutMs) };
    } catch (error) {
      // An error reply: the connection is fine, the server answered.
      if (error instanceof ReplyError) outcome = { kind: "reply", reply: error };
      else {
        this.close();
        outcome = failure(error as Error, this.timeoutMs);
        // Out of descriptors says nothing about the server: nothing to conclude (fd-watch logs it).
        if (outcome.kind === "failed" && outOfFiles()) return null;
      }
    }
    if (outcome.kind === "reply" && !Array.isArray(outcome.reply) && !(outcome.reply instanceof ReplyError))
      this.close(); // not RESP's ROLE: a new connection next time
    const answer = classifyRole(outcome, formatAddress(address));
    const replied = outcome.kind === "reply";
    return "error" in answer && answer.error === "gone" && replied ? { ...answer, replied } : answer;
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

function isTimeout(error: unknown): boolean {
  return (error as { timedOut?: boolean }).timedOut === true;
}

/** A failure to get any reply, as the classifier takes it. */
function failure(error: Error, timeoutMs: number): RoleOutcome {
  if (error instanceof AuthError) return { kind: "refused", cause: "auth", detail: error.reply };
  if (error instanceof ConnectError && error.certificateRejected)
    return { kind: "refused", cause: "tls", detail: error.message };
  if (isTimeout(error)) return { kind: "timeout", ms: timeoutMs };
  return { kind: "failed", detail: error.message };
}
