/**
 * A write load through the tunnel that remembers exactly which writes were acknowledged.
 * Each writer RPUSHes increasing sequence numbers to its own list, one command in flight, and
 * reconnects whenever its connection drops. `lost(server)` lists acknowledged writes missing
 * from a server afterwards.
 */
import { ReplyError } from "redis-errors";
import { TestClient } from "../harness/index.ts";

interface Writer {
  id: number;
  seq: number;
  acked: number[];
  /** performance.now() of every acknowledgement, parallel to `acked`. */
  ackedAt: number[];
}

export class WriteLoad {
  readonly writers: Writer[];
  errors = 0;
  drops = 0;
  /** Longest time one command waited for its answer (reply, error or drop), ms. */
  longestWaitMs = 0;
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(
    readonly port: number,
    count = 4,
    readonly prefix = `load:${Date.now()}`,
  ) {
    this.writers = Array.from({ length: count }, (_, id) => ({ id, seq: 0, acked: [], ackedAt: [] }));
  }

  get ackedCount(): number {
    return this.writers.reduce((n, w) => n + w.acked.length, 0);
  }

  /** Acknowledgements at or after `t` (performance.now()), earliest first. */
  firstAckAfter(t: number): number | null {
    let first: number | null = null;
    for (const w of this.writers) for (const at of w.ackedAt) if (at >= t && (first === null || at < first)) first = at;
    return first;
  }

  /** Writes acknowledged at or after `t` (performance.now()), as `writer:seq` keys (the form `lost()` returns). */
  ackedSince(t: number): Set<string> {
    return new Set(
      this.writers.flatMap((w) => w.acked.filter((_, i) => w.ackedAt[i]! >= t).map((seq) => `${w.id}:${seq}`)),
    );
  }

  start(): void {
    this.#running = true;
    this.#loops = this.writers.map((w) => this.#run(w));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Acknowledged writes not found on `server` (a `command()`-able redis). */
  async lost(server: { command(...args: (string | number)[]): Promise<any> }): Promise<string[]> {
    const missing: string[] = [];
    for (const w of this.writers) {
      const stored = new Set(
        ((await server.command("LRANGE", `${this.prefix}:${w.id}`, 0, -1)) as unknown[]).map(String),
      );
      for (const seq of w.acked) if (!stored.has(String(seq))) missing.push(`${w.id}:${seq}`);
    }
    return missing;
  }

  async #run(w: Writer): Promise<void> {
    while (this.#running) {
      let client: TestClient;
      try {
        client = await TestClient.connect(this.port, "127.0.0.1", { timeoutMs: 2000 });
      } catch {
        this.errors++;
        await Bun.sleep(5); // client-side reconnect backoff, as a real client library has
        continue;
      }
      try {
        while (this.#running) {
          const seq = ++w.seq;
          const sent = performance.now();
          try {
            await client.command("RPUSH", `${this.prefix}:${w.id}`, seq);
            w.acked.push(seq);
            w.ackedAt.push(performance.now());
          } catch (error) {
            if (error instanceof ReplyError) this.errors++;
            else this.drops++;
            if (!(error instanceof ReplyError)) break; // connection gone: reconnect
          } finally {
            this.longestWaitMs = Math.max(this.longestWaitMs, performance.now() - sent);
          }
        }
      } finally {
        client.close();
      }
    }
  }
}
