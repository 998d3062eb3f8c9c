/**
 * Every `intervalMs`, ask Sentinel where each database's master is and report it. Knows nothing
 * about client sockets: the tunnel decides what an observation means for its sessions.
 * A poll still in flight for a database is not started again (a slow sentinel cannot pile up queries).
 */
import type { Address } from "./address.ts";
import type { Sentinels } from "./sentinel.ts";

export type Observation = { name: string; address: Address; sentinel: string } | { name: string; error: Error };

export class Poller {
  #timer: Timer | null = null;
  readonly #busy = new Set<string>();

  constructor(
    readonly sentinels: Sentinels,
    readonly names: () => Iterable<string>,
    readonly intervalMs: number,
    readonly onObservation: (observation: Observation) => void,
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.pollAll(), this.intervalMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  pollAll(): void {
    for (const name of this.names()) void this.poll(name);
  }

  async poll(name: string): Promise<void> {
    if (this.#busy.has(name)) return;
    this.#busy.add(name);
    try {
      const { address, sentinel } = await this.sentinels.getMasterAddr(name);
      this.onObservation({ name, address, sentinel });
    } catch (error) {
      this.onObservation({ name, error: error as Error });
    } finally {
      this.#busy.delete(name);
    }
  }
}
