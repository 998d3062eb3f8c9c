/**
 * `bun bench/bare-pipe.ts <listen port> <upstream port>`: the floor a Bun proxy cannot go under —
 * the "bare 40-line Bun pipe": accept, connect, bytes both ways; no discovery, no ROLE,
 * no backpressure (its accept backlog is widened as the tunnel's is, or storms measure Bun's 512).
 * Used by bench/floor.ts only; never a product path.
 */
import { widenBacklog } from "../src/tunnel/listeners.ts";
type Side = { peer: import("bun").Socket<Side> | null; early: Buffer[] };
const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);

const listener = Bun.listen<Side>({
  hostname: "127.0.0.1",
  port: listenPort!,
  socket: {
    open(client) {
      client.data = { peer: null, early: [] };
      Bun.connect<Side>({
        hostname: "127.0.0.1",
        port: upstreamPort!,
        data: { peer: client, early: [] },
        socket: {
          open(upstream) {
            client.data.peer = upstream;
            for (const chunk of client.data.early) upstream.write(chunk);
          },
          data: (upstream, chunk) => void upstream.data.peer?.write(chunk),
          close: (upstream) => void upstream.data.peer?.end(),
          error() {},
        },
      }).catch(() => client.end());
    },
    data(client, chunk) {
      if (client.data.peer) client.data.peer.write(chunk);
      else client.data.early.push(Buffer.from(chunk));
    },
    close: (client) => void client.data.peer?.end(),
    error() {},
  },
});
widenBacklog(listener);
