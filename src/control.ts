/**
 * The poller's control connection for one database: a single long-lived connection on which it
 * asks `ROLE` of the server it believes is master, instead of a new connection per check.
 * It moves to another server when asked about another address.
 */
import { formatAddress, sameAddress, type Address } from "./address.ts";
import type { HopOptions } from "./hops.ts";
import { RespClient } from "./resp-client.ts";

export class RoleProbe {
  #client: Promise<RespClient> | null = null;
  #address: Address | null = null;

  constructor(
    readonly timeoutMs: number,
    /** TLS and credentials, as for every Redis connection (hops.ts). */
    readonly connectOptions?: HopOptions,
  ) {}

  /** The role `address` reports (`master`, `slave`, ...); rejects when it does not answer in time. */
  async role(address: Address): Promise<string> {
    if (!this.#client || !sameAddress(this.#address, address)) this.#open(address);
    const client = await this.#client!;
    try {
      const reply = await client.command(["ROLE"], this.timeoutMs);
      return Array.isArray(reply) ? String(reply[0]) : `unexpected reply ${JSON.stringify(reply)}`;
    } catch (error) {
      this.close();
      throw new Error(`${formatAddress(address)} did not answer ROLE: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.#client?.then((c) => c.destroy("control connection closed"), () => {});
    this.#client = null;
    this.#address = null;
  }

  #open(address: Address): void {
    this.close();
    this.#address = address;
    const connecting = RespClient.connect(address, this.timeoutMs, this.connectOptions);
    connecting.catch(() => {
      if (this.#client === connecting) this.close();
    });
    this.#client = connecting;
  }
}
