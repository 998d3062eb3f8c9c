/**
 * The poller's control connection for one database: a single long-lived connection on which it
 * asks `ROLE` of the server it believes is master, instead of a new connection per check.
 * It moves to another server when asked about another address.
 */
import { formatAddress, sameAddress, type Address } from "../net/address.ts";
import { outOfFiles } from "../system/fd-watch.ts";
import { PLAIN_REDIS, target, type HopOptions } from "../config/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import { ConnectError } from "../net/sockets.ts";

/** ROLE got no answer. `timedOut`: the server may only be busy (or frozen); otherwise it is gone. */
export class RoleUnanswered extends Error {
  override name = "RoleUnanswered";
  /** The failure is ours (out of file descriptors), not the server's. */
  readonly local: boolean;
  constructor(
    message: string,
    readonly timedOut: boolean,
    /** The server's TLS certificate failed verification: a config problem, says nothing about the server's health. */
    readonly certificateRejected = false,
  ) {
    super(message);
    this.local = !timedOut && outOfFiles();
  }
}

export class RoleProbe {
  #client: Promise<RespClient> | null = null;
  #address: Address | null = null;
  /** Where #address is reached (addressMap); a reload that remaps it moves the connection. */
  #reached: Address | null = null;

  constructor(
    /** Deadline per reply; changed in place on reload. */
    public timeoutMs: number,
    /** TLS and credentials, as for every Redis connection (hops.ts). */
    readonly connectOptions?: HopOptions,
  ) {}

  /** The role `address` reports (`master`, `slave`, ...); rejects with RoleUnanswered. */
  async role(address: Address): Promise<string> {
    const to = target(this.connectOptions ?? PLAIN_REDIS, address);
    const moved = !sameAddress(this.#address, address) || !sameAddress(this.#reached, to.address);
    if (!this.#client || moved) this.#open(address, to.address, to.options);
    try {
      const client = await this.#client!;
      const reply = await client.command(["ROLE"], this.timeoutMs);
      return Array.isArray(reply) ? String(reply[0]) : `unexpected reply ${JSON.stringify(reply)}`;
    } catch (error) {
      this.close();
      const timedOut = (error as { timedOut?: boolean }).timedOut === true;
      const rejected = error instanceof ConnectError && error.certificateRejected;
      throw new RoleUnanswered(`${formatAddress(address)} did not answer ROLE: ${(error as Error).message}`, timedOut, rejected);
    }
  }

  close(): void {
    this.#client?.then((c) => c.destroy("control connection closed"), () => {});
    this.#client = null;
    this.#address = null;
    this.#reached = null;
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
