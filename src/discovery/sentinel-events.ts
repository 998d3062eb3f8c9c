/**
 * Sentinel's event channels, as a wake-up call for the poller — never a source of decisions.
 *
 * One subscribed connection per known sentinel (configured and learned, reached like every other
 * sentinel connection: TLS, credentials, address map), on the channels where Sentinel announces
 * trouble and failovers (`+sdown`, `+odown`, `+try-failover`, `+promoted-slave`, `+switch-master`,
 * ...). A message naming a master name wakes that name's poll (`onEvent`); the poll results are
 * what the engine decides on. `PING` every `pingMs` on the subscribed connection: one not heard from
 * within `deadlineMs` counts as down (the poller then polls that sentinel fast) and is reconnected,
 * with backoff. Replies are read by RespClient's bounded ReplyReader: a peer over the bounds is cut.
 */
import { formatAddress, type Address } from "../core/address.ts";
import { clock } from "../core/clock.ts";
import { RespClient } from "../net/resp-client.ts";
import type { Reply } from "../net/resp.ts";
import type { Logger } from "../core/logger.ts";
import type { Sentinels } from "./sentinel.ts";

/** The channels subscribed to: everything Sentinel says about a master going down or failing over. */
export const EVENT_CHANNELS = [
  "+sdown",
  "-sdown",
  "+odown",
  "-odown",
  "+new-epoch",
  "+try-failover",
  "+vote-for-leader",
  "+elected-leader",
  "+failover-state-select-slave",
  "+selected-slave",
  "+failover-state-send-slaveof-noone",
  "+failover-state-wait-promotion",
  "+promoted-slave",
  "+failover-state-reconf-slaves",
  "+failover-detected",
  "+failover-end",
  "+failover-end-for-timeout",
  "+switch-master",
  "-failover-abort-not-elected",
  "-failover-abort-no-good-slave",
  "-failover-abort-slave-timeout",
  "+config-update-from",
  "+convert-to-slave",
  "+reboot",
  "+role-change",
  "-role-change",
  "+tilt",
  "-tilt",
] as const;

/**
 * The master name an event is about, or null when it names none (`+new-epoch`, `+tilt`): Sentinel
 * formats `<type> <name> <ip> <port> [@ <master> <ip> <port>]`, `+switch-master` as
 * `<master> <old ip> <old port> <new ip> <new port>`.
 */
export function eventMaster(channel: string, payload: string): string | null {
  const words = payload.trim().split(/\s+/);
  if (channel === "+switch-master") return words[0] || null;
  const at = words.indexOf("@");
  if (at >= 0) return words[at + 1] ?? null;
  return words[0] === "master" ? (words[1] ?? null) : null;
}

export interface SentinelEventsOptions {
  log: Logger;
  /** `PING` on each subscribed connection this often (default 1000 ms). */
  pingMs?: number;
  /** Silent this long (no push, no PONG), or not subscribed this long after connecting: down (default 3000 ms). */
  deadlineMs?: number;
  /** An event from `sentinel` about master `name` (null: about none in particular). */
  onEvent(sentinel: string, channel: string, name: string | null): void;
  /** `sentinel`'s event connection is subscribed (`up`), or lost. */
  onState?(sentinel: string, up: boolean): void;
}

/** Sentinels remembered as "refusal logged" before the set starts over. */
const MAX_COMPLAINTS = 1024;

/** Reconnect backoff: from the first to the last, doubling. */
const BACKOFF_MS = [100, 5000] as const;

/** One sentinel's event connection. */
class Link {
  client: RespClient | null = null;
  /** Connecting or connected (a connect under way has no client yet). */
  open = false;
  /** Bumped whenever the connection is dropped: callbacks of an older one are ignored. */
  generation = 0;
  subscribed = false;
  /** Subscribe confirmations still expected. */
  confirming = 0;
  openedAt = 0;
  heardAt = 0;
  pingedAt = 0;
  retryAt = 0;
  backoffMs: number = BACKOFF_MS[0];
  constructor(
    readonly address: Address,
    readonly label: string,
  ) {}
}

export class SentinelEvents {
  readonly #links = new Map<string, Link>();
  /** Sentinels whose refusal to SUBSCRIBE was logged. */
  readonly #complained = new Set<string>();
  readonly #pingMs: number;
  readonly #deadlineMs: number;

  constructor(
    readonly sentinels: Sentinels,
    readonly options: SentinelEventsOptions,
  ) {
    this.#pingMs = options.pingMs ?? 1000;
    this.#deadlineMs = options.deadlineMs ?? 3000;
  }

  /** Subscribed and heard from within the deadline. */
  fresh(label: string, now = clock()): boolean {
    const link = this.#links.get(label);
    return !!link && link.subscribed && now - link.heardAt < this.#deadlineMs;
  }

  /** Event connections subscribed and fresh, and the sentinels known. */
  counts(now = clock()): { up: number; known: number } {
    let up = 0;
    for (const label of this.#links.keys()) if (this.fresh(label, now)) up++;
    return { up, known: this.#links.size };
  }

  /**
   * Called on the poller's tick: a connection for every listed sentinel (closed for the ones no
   * longer listed), reconnects whose backoff is over, PINGs due, silent ones cut.
   */
  tick(now = clock()): void {
    const listed = new Map(this.sentinels.list.map((a) => [formatAddress(a), a]));
    for (const [label, link] of this.#links) {
      if (listed.has(label)) continue;
      this.#drop(link, "no longer a known sentinel");
      this.#links.delete(label);
    }
    for (const [label, address] of listed) {
      let link = this.#links.get(label);
      if (!link) this.#links.set(label, (link = new Link(address, label)));
      if (!link.open) {
        if (now >= link.retryAt) this.#open(link, now);
      } else if (!link.subscribed) {
        if (now - link.openedAt >= this.#deadlineMs) this.#lost(link, `not subscribed within ${this.#deadlineMs} ms`);
      } else if (now - link.heardAt >= this.#deadlineMs) {
        this.#lost(link, `silent for ${now - link.heardAt} ms`);
      } else if (now - link.pingedAt >= this.#pingMs - 25) this.#ping(link, now);
    }
  }

  /** Close every connection; they reopen on the next tick (a reload: new credentials, TLS, sentinels). */
  restart(): void {
    for (const link of this.#links.values()) this.#drop(link, "reload");
    this.#links.clear();
  }

  close(): void {
    this.restart();
  }

  #open(link: Link, now: number): void {
    const to = this.sentinels.connectTarget(link.address);
    const generation = link.generation;
    link.open = true;
    link.openedAt = now;
    if (to.options.auth) this.sentinels.sent(link.label);
    RespClient.connect(to.address, this.#deadlineMs, to.options).then(
      (client) => {
        if (link.generation !== generation) return client.destroy("event connection no longer wanted");
        link.client = client;
        client.onPush = (push) => this.#push(link, generation, push);
        client.onClose = (reason) => {
          if (link.generation === generation) this.#lost(link, reason);
        };
        link.confirming = EVENT_CHANNELS.length;
        client.send(["SUBSCRIBE", ...EVENT_CHANNELS]);
        this.sentinels.sent(link.label);
      },
      (error: Error) => {
        if (link.generation === generation) this.#lost(link, `cannot connect: ${error.message}`);
      },
    );
  }

  #push(link: Link, generation: number, push: Reply): void {
    if (link.generation !== generation) return;
    if (!Array.isArray(push)) return this.#refused(link, push);
    link.heardAt = clock();
    const [kind, channel, payload] = push.map((part) => (Buffer.isBuffer(part) ? part.toString() : part));
    if (kind === "subscribe") {
      if (--link.confirming > 0 || link.subscribed) return;
      link.subscribed = true;
      link.backoffMs = BACKOFF_MS[0];
      this.options.log.debug(`sentinel ${link.label}: event connection subscribed`);
      this.options.onState?.(link.label, true);
      return;
    }
    if (kind !== "message" || typeof channel !== "string" || typeof payload !== "string") return;
    this.options.onEvent(link.label, channel, eventMaster(channel, payload));
  }

  /** SUBSCRIBE answered with an error (an ACL without `+subscribe`, no pub/sub): said once per sentinel. */
  #refused(link: Link, reply: Reply): void {
    const message = reply instanceof Error ? reply.message : JSON.stringify(reply)?.slice(0, 120);
    if (!this.#complained.has(link.label)) {
      if (this.#complained.size >= MAX_COMPLAINTS) this.#complained.clear();
      this.#complained.add(link.label);
      const grant = /NOPERM/.test(message) ? " (its ACL user needs +subscribe &+* &-*)" : "";
      const why = `${message}${grant}`;
      this.options.log.warn(`sentinel ${link.label} refuses SUBSCRIBE to its events: ${why}; polled at the fast rate`);
    }
    this.#lost(link, `SUBSCRIBE refused: ${message}`);
  }

  #ping(link: Link, now: number): void {
    const client = link.client;
    if (!client || client.closed) return;
    const generation = link.generation;
    link.pingedAt = now;
    this.sentinels.sent(link.label);
    client.command(["PING"], this.#deadlineMs).then(
      () => {
        if (link.generation === generation) link.heardAt = clock();
      },
      () => {}, // a missed PONG: the connection closes itself (onClose), or stays silent past the deadline
    );
  }

  /** The connection is gone or silent: down until a reconnect subscribes again. */
  #lost(link: Link, why: string): void {
    const wasUp = link.subscribed;
    this.#drop(link, why);
    link.retryAt = clock() + link.backoffMs;
    link.backoffMs = Math.min(BACKOFF_MS[1], link.backoffMs * 2);
    if (wasUp) {
      this.options.log.debug(`sentinel ${link.label}: event connection lost (${why}); polled fast until it is back`);
      this.options.onState?.(link.label, false);
    }
  }

  #drop(link: Link, why: string): void {
    const client = link.client;
    link.generation++;
    link.client = null;
    link.open = false;
    link.subscribed = false;
    client?.destroy(`event connection closed: ${why}`);
  }
}
