/**
 * `bun bench/bare-pipe.ts <listen port> <upstream port>`: the floor a Bun proxy cannot go under —
 * the "bare 40-line Bun pipe": accept, connect, bytes both ways; no discovery, no ROLE,
 * no backpressure (its accept backlog is widened as the tunnel's is, or storms measure Bun's 512).
 * Used by bench/floor.ts only; never a product path.
 */
import { widenBacklog } from "../src/tunnel/listeners.ts";
import { pipe } from "./probes/pipe.ts";

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
widenBacklog(pipe(listenPort!, upstreamPort!));
