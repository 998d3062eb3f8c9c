/**
 * The data path: two sockets, bytes both ways, nothing else. Knows nothing about Sentinel.
 *
 * - Backpressure: a partial write queues the rest and pauses the other side's reading; `drain`
 *   flushes the queue (idempotent: drain may fire spuriously) and resumes it. So each direction
 *   holds at most about `highWaterMark` bytes plus one read, whatever the value sizes.
 * - Close: when one side goes, the other is ended once what is queued for it has been written. A
 *   failed write does not close at once: the side's last bytes (a server's final error reply) are
 *   still read and delivered before its close event ends the bridge.
 * - Hold: the owner can stop client → upstream traffic (pause and keep what still arrives), then
 *   release it or close the bridge without ever forwarding what was held.
 */
import type { OwnedSocket, SocketOwner } from "../net/sockets.ts";

export type CloseReason = "client closed" | "upstream closed" | (string & {});

/** Shared by every bridge of an owner (one object, not one per session). */
export interface BridgeOptions {
  /** Bytes queued towards one side before the other side is paused. */
  highWaterMark: number;
  /** Called once, when the bridge stops carrying traffic. */
  onClose(bridge: Bridge, reason: CloseReason): void;
}

/** How one bridge starts. */
export interface BridgeStart {
  /** Start held (see hold()): the pending client bytes are kept, not forwarded. */
  held?: boolean;
  /** Whether the client socket arrives paused (default: reading). */
  clientPaused?: boolean;
  /** Client data read before the upstream was ready. */
  pending?: Buffer[];
}

/** After a failed write, how long to wait for the socket's close event before closing the bridge anyway. */
const CLOSE_AFTER_WRITE_ERROR_MS = 1000;

class Side implements SocketOwner {
  /** What could not be written yet (null while nothing waits: an idle session holds no array). */
  queue: Buffer[] | null = null;
  queued = 0;
  closed = false;
  endWhenFlushed = false;
  /** A write to this side failed (reset, broken pipe): nothing more goes to it; its close event ends the bridge. */
  unwritable: Timer | null = null;
  peer!: Side;
  constructor(
    readonly bridge: Bridge,
    readonly socket: OwnedSocket,
    readonly closeReason: CloseReason,
  ) {}

  /** Write to this side; false when it cannot take more right now. */
  send(chunk: Buffer): boolean {
    if (this.closed || this.unwritable) return true;
    if (this.queued === 0) {
      const n = this.socket.write(chunk);
      if (n === chunk.length) return true;
      if (n < 0) {
        this.writeFailed();
        return true;
      }
      chunk = n > 0 ? chunk.subarray(n) : chunk;
    }
    (this.queue ??= []).push(chunk);
    this.queued += chunk.length;
    return this.queued < this.bridge.options.highWaterMark;
  }

  /** Close this side once its queue is written. */
  finish(): void {
    if (this.closed) return;
    if (this.queued === 0) this.socket.end();
    else this.endWhenFlushed = true;
  }

  onData(_s: OwnedSocket, chunk: Buffer): void {
    this.bridge.forward(this, chunk);
  }

  /**
   * A write failed. What this side still has to say may not have been read yet (Redis answers
   * `-ERR Protocol error` and then resets the connection: the reset can fail our next write before
   * the reply is read): stop writing, and let the socket's own close event — after its last bytes —
   * end the bridge, or a timer if it never comes.
   */
  writeFailed(): void {
    if (this.unwritable || this.closed) return;
    this.queue = null;
    this.queued = 0;
    this.unwritable = setTimeout(() => this.bridge.sideClosed(this), CLOSE_AFTER_WRITE_ERROR_MS);
    this.bridge.flowChanged();
  }

  onDrain(): void {
    const queue = this.queue;
    while (queue && queue.length > 0 && !this.closed && !this.unwritable) {
      const chunk = queue[0]!;
      const n = this.socket.write(chunk);
      if (n < 0) return this.writeFailed();
      this.queued -= Math.max(n, 0);
      if (n < chunk.length) {
        queue[0] = chunk.subarray(n);
        return;
      }
      queue.shift();
    }
    if (queue?.length === 0 && this.queue === queue) this.queue = null;
    if (this.endWhenFlushed) this.socket.end();
    else this.bridge.flowChanged();
  }

  onClose(): void {
    this.bridge.sideClosed(this);
  }
}

export class Bridge {
  readonly client: Side;
  readonly upstream: Side;
  /** Bytes read from the client / from the upstream. */
  bytesFromClient = 0;
  bytesFromUpstream = 0;
  #held: Buffer[] | null = null;
  // The client may arrive paused (it sent much while waiting for a verified upstream): the
  // constructor resumes it, or pauses it if the bridge starts held.
  #clientPaused: boolean;
  #upstreamPaused = false;
  #closedReason: CloseReason | null = null;

  /** Takes ownership of both sockets. */
  constructor(
    clientSocket: OwnedSocket,
    upstreamSocket: OwnedSocket,
    readonly options: BridgeOptions,
    start: BridgeStart = {},
  ) {
    this.client = new Side(this, clientSocket, "client closed");
    this.upstream = new Side(this, upstreamSocket, "upstream closed");
    this.client.peer = this.upstream;
    this.upstream.peer = this.client;
    clientSocket.data = this.client;
    upstreamSocket.data = this.upstream;
    this.#clientPaused = start.clientPaused ?? false;
    if (start.held) this.#held = [];
    for (const chunk of start.pending ?? []) this.forward(this.client, chunk);
    this.flowChanged();
  }

  get closed(): boolean {
    return this.#closedReason !== null;
  }

  get held(): boolean {
    return this.#held !== null;
  }

  /** @internal bytes read on `from`, to go to its peer. */
  forward(from: Side, chunk: Buffer): void {
    if (from === this.client) {
      this.bytesFromClient += chunk.length;
      if (this.#held) {
        this.#held.push(chunk);
        return;
      }
    } else {
      this.bytesFromUpstream += chunk.length;
    }
    if (!from.peer.send(chunk)) this.flowChanged();
  }

  /** Stop forwarding client bytes upstream; what arrives meanwhile is kept, not sent. */
  hold(): void {
    if (this.#held || this.closed) return;
    this.#held = [];
    this.flowChanged();
  }

  /** Forward what was held and carry on. */
  release(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = null;
    for (const chunk of held) this.upstream.send(chunk);
    this.flowChanged();
  }

  /**
   * Stop now: the upstream is cut at once (nothing more reaches it, held bytes are dropped),
   * the client gets what is already queued for it and is then closed.
   */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.#finish(reason);
    this.#held = null;
    this.upstream.closed = true;
    if (this.upstream.unwritable) clearTimeout(this.upstream.unwritable);
    this.upstream.socket.terminate();
    this.client.finish();
  }

  /** @internal a side's socket is gone. */
  sideClosed(side: Side): void {
    if (side.closed) return;
    side.closed = true;
    if (side.unwritable) clearTimeout(side.unwritable);
    side.queue = null;
    side.queued = 0;
    this.#finish(side.closeReason);
    side.peer.finish();
  }

  /** @internal pause or resume reading so queues stay under the high-water mark and holds hold. */
  flowChanged(): void {
    const hw = this.options.highWaterMark;
    const pauseClient = this.#held !== null || this.upstream.queued >= hw;
    if (pauseClient !== this.#clientPaused && !this.client.closed) {
      this.#clientPaused = pauseClient;
      if (pauseClient) this.client.socket.pause();
      else this.client.socket.resume();
    }
    const pauseUpstream = this.client.queued >= hw;
    if (pauseUpstream !== this.#upstreamPaused && !this.upstream.closed) {
      this.#upstreamPaused = pauseUpstream;
      if (pauseUpstream) this.upstream.socket.pause();
      else this.upstream.socket.resume();
    }
  }

  #finish(reason: CloseReason): void {
    if (this.#closedReason !== null) return;
    this.#closedReason = reason;
    this.options.onClose(this, reason);
  }
}
