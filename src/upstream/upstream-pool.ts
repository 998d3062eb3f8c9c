/**
 * A few connected, idle upstream sockets to the last master the tunnel confirmed, so that a new
 * client does not wait for a TCP (and TLS) connect: the resolver takes one and sends the ROLE
 * handshake on it, exactly as on a fresh socket. Nothing is ever sent on a pooled socket before
 * it is taken (no AUTH, no ROLE), so what a client gets is the same fresh session either way.
 *
 * The pool follows one address per master name: filling it for another address drops the old
 * sockets. A socket the server closes (Redis `timeout`, a restart) simply leaves the pool; the
 * pool is refilled when a socket is taken and whenever the master is confirmed again.
 */
import { formatAddress, type Address } from "../core/address.ts";
import { target, type RedisHopOptions } from "../net/hops.ts";
import { connectWithTimeout, KEEPALIVE_MS, ownerHandlers, type OwnedSocket, type SocketOwner } from "../net/sockets.ts";

/** The owner of an idle pooled socket: any byte or close from the server takes it out of the pool. */
class Idle implements SocketOwner {
  constructor(readonly slot: Slot) {}
  onData(socket: OwnedSocket): void {
    this.slot.drop(socket); // a server says nothing on an idle connection unless it is closing it
  }
  onDrain(): void {}
  onClose(socket: OwnedSocket): void {
    this.slot.drop(socket);
  }
}

class Slot {
  readonly sockets: OwnedSocket[] = [];
  connecting = 0;
  readonly idle = new Idle(this);
  constructor(
    readonly address: Address,
    readonly key: string,
  ) {}
  drop(socket: OwnedSocket): void {
    const i = this.sockets.indexOf(socket);
    if (i >= 0) this.sockets.splice(i, 1);
    socket.terminate();
  }
  clear(): void {
    for (const socket of this.sockets.splice(0)) socket.terminate();
  }
}

export class UpstreamPool {
  readonly #slots = new Map<string, Slot>();
  #closed = false;

  constructor(
    /** Idle sockets kept per master (0: no pool); see resize(). */
    public size: number,
    readonly redis: RedisHopOptions,
    /** Connect deadline for pooled sockets (the resolver's, read when connecting). */
    readonly connectTimeoutMs: () => number,
  ) {}

  /** Keep `size` idle sockets per master from now on; extra ones are closed now, missing ones opened as sockets are taken. */
  resize(size: number): void {
    this.size = size;
    for (const slot of this.#slots.values()) for (const socket of slot.sockets.splice(size)) socket.terminate();
  }

  /** A connected idle socket to `address` for master `name`, or null; a taken socket is replaced. */
  take(name: string, address: Address): OwnedSocket | null {
    const slot = this.#slots.get(name);
    const socket = slot?.key === formatAddress(address) ? (slot.sockets.pop() ?? null) : null;
    queueMicrotask(() => this.fill(name, address)); // after the caller's ROLE is sent: the refill is not in its way
    return socket;
  }

  /** Keep `size` idle sockets to `address` for `name` (dropping those to any other address). */
  fill(name: string, address: Address): void {
    if (this.size <= 0 || this.#closed) return;
    const key = formatAddress(address);
    let slot = this.#slots.get(name);
    if (slot?.key !== key) {
      slot?.clear();
      slot = new Slot(address, key);
      this.#slots.set(name, slot);
    }
    while (slot.sockets.length + slot.connecting < this.size) void this.#open(name, slot);
  }

  async #open(name: string, slot: Slot): Promise<void> {
    slot.connecting++;
    try {
      const to = target(this.redis, slot.address); // addressMap: the slot keeps the announced address
      const timeoutMs = this.connectTimeoutMs();
      const socket = await connectWithTimeout<SocketOwner>(
        to.address,
        timeoutMs,
        ownerHandlers,
        slot.idle,
        to.options.tls,
      );
      if (this.#closed || this.#slots.get(name) !== slot || slot.sockets.length >= this.size)
        return void socket.terminate();
      socket.setKeepAlive(true, KEEPALIVE_MS);
      slot.sockets.push(socket);
    } catch {
      // Nothing to do: the next client connects on its own, and the next confirmation refills.
    } finally {
      slot.connecting--;
    }
  }

  /** Replace every idle socket with a new one to the same master (TLS settings or the address map changed). */
  refill(): void {
    for (const [name, slot] of [...this.#slots]) {
      slot.clear();
      this.#slots.delete(name); // sockets still connecting with the old settings see another slot and close
      this.fill(name, slot.address);
    }
  }

  /** Drop every idle socket (credentials or TLS settings changed: the next ones use the new ones). */
  clear(): void {
    for (const slot of this.#slots.values()) slot.clear();
    this.#slots.clear();
  }

  close(): void {
    this.#closed = true;
    this.clear();
  }

  /** Idle sockets held (for tests and metrics). */
  get idleCount(): number {
    let n = 0;
    for (const slot of this.#slots.values()) n += slot.sockets.length;
    return n;
  }

  /** Idle sockets per master name (metrics). */
  *idleByName(): Iterable<[string, number]> {
    for (const [name, slot] of this.#slots) yield [name, slot.sockets.length];
  }
}
