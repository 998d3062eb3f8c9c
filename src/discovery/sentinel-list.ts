/**
 * The sentinels in the order they are tried: the configured ones (they always stay, and are reached
 * as written) and the learned ones after them; the one that answered last moves to the front, one
 * overruled by the majority to the back. Plain data: no I/O.
 */
import { formatAddress, type Address } from "../core/address.ts";

export class SentinelList {
  #order: Address[];
  /** The configured sentinels, by `host:port`. */
  #configured: Set<string>;

  constructor(addresses: Address[]) {
    this.#order = [...addresses];
    this.#configured = new Set(addresses.map(formatAddress));
  }

  /** The sentinels in the order they will be tried, as `host:port`. */
  get addresses(): string[] {
    return this.#order.map(formatAddress);
  }

  /** The sentinels themselves (a copy of the order), for asking all of them. */
  get list(): Address[] {
    return [...this.#order];
  }

  /** How many sentinels are configured. */
  get configuredCount(): number {
    return this.#configured.size;
  }

  /** The configured sentinels, in the order they will be tried. */
  get configured(): Address[] {
    return this.#order.filter((a) => this.#configured.has(formatAddress(a)));
  }

  isConfigured(label: string): boolean {
    return this.#configured.has(label);
  }

  has(label: string): boolean {
    return this.#order.some((a) => formatAddress(a) === label);
  }

  /** A learned sentinel, tried after the others. */
  add(address: Address): void {
    this.#order.push(address);
  }

  remove(label: string): void {
    this.#order = this.#order.filter((a) => formatAddress(a) !== label);
  }

  /** `sentinel` (one of the list's own objects) answered: tried first from now on. */
  promote(sentinel: Address): void {
    const i = this.#order.indexOf(sentinel);
    if (i > 0) this.#order = [sentinel, ...this.#order.slice(0, i), ...this.#order.slice(i + 1)];
  }

  /** `label` goes to the back of the order. */
  demote(label: string): void {
    const i = this.#order.findIndex((a) => formatAddress(a) === label);
    if (i < 0 || i === this.#order.length - 1) return;
    this.#order = [...this.#order.slice(0, i), ...this.#order.slice(i + 1), this.#order[i]!];
  }

  /** These sentinels from now on (reload), configured; the learned ones are gone. */
  replace(addresses: Address[]): void {
    this.#order = [...addresses];
    this.#configured = new Set(addresses.map(formatAddress));
  }
}
