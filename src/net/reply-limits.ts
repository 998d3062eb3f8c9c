/**
 * How much a peer may make the tunnel hold while it reads a reply, and what happens past that.
 * Sentinel and control connections (`SENTINEL master`, `ROLE` probes) take up to 1 MiB per reply;
 * the handshake on an upstream socket (`AUTH`, `ROLE`, `RESET` replies) a few KiB. A peer over a
 * bound is cut (its connection closed), logged once per peer and counted (`onPeerCut`), so one
 * sentinel or server streaming a 2 GB bulk string costs at most one bound of memory.
 */
import type { Logger } from "../core/logger.ts";

export interface ReplyLimits {
  /** Bytes buffered before a reply completes. */
  maxBytes: number;
  /** Elements of a reply, over every nesting level. */
  maxElements: number;
  /** Nesting of arrays (a flat array is 1). */
  maxDepth: number;
}

/** Sentinel replies (a `SENTINEL replicas` of ~1000 replicas fits) and the poller's `ROLE` probes. */
export const CONTROL_REPLY_LIMITS: ReplyLimits = { maxBytes: 1 << 20, maxElements: 100_000, maxDepth: 8 };

/** `+OK`, a `ROLE` reply (a master lists its replicas: ~30 bytes each), `+RESET`. */
export const HANDSHAKE_REPLY_LIMITS: ReplyLimits = { maxBytes: 16 << 10, maxElements: 2048, maxDepth: 4 };

/** A reply over the limits (`too-large`), or bytes the parser could not take (`malformed`). */
export class ReplyLimitError extends Error {
  override name = "ReplyLimitError";
  constructor(
    message: string,
    readonly kind: "too-large" | "malformed",
  ) {
    super(message);
  }
}

/** Told when a peer is cut for its replies: the hop, `host:port`, and why. */
export type PeerCut = (hop: "sentinel" | "redis", peer: string, problem: string) => void;

/** Peers remembered as "already logged"; past this the memory starts over (it never grows without bound). */
const MAX_REMEMBERED = 1024;

/** A PeerCut that logs each peer once (a warning) and passes every cut to `count` (metrics). */
export function peerCutReporter(log: Logger, count: PeerCut): PeerCut {
  const logged = new Set<string>();
  return (hop, peer, problem) => {
    const key = `${hop} ${peer}`;
    if (!logged.has(key)) {
      if (logged.size >= MAX_REMEMBERED) logged.clear();
      logged.add(key);
      log.warn(`${hop} ${peer} sent ${problem}: connection cut (logged once per peer; counted in peer_cuts_total)`);
    }
    count(hop, peer, problem);
  };
}
