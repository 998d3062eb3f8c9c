/**
 * Footprint probe (bench/footprint.ts compiles it like the tunnel): `<listen port> <upstream port>` —
 * accept, connect upstream, bytes both ways. Nothing of ours is imported: the runtime's floor for a
 * one-database proxy in memory and start-up time. Never a product path.
 */
type Side = { peer: import("bun").Socket<Side> | null; early: Buffer[] };

export function pipe(listenPort: number, upstreamPort: number): import("bun").TCPSocketListener<Side> {
  return Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: listenPort,
    socket: {
      open(client) {
        client.data = { peer: null, early: [] };
        Bun.connect<Side>({
          hostname: "127.0.0.1",
          port: upstreamPort,
          data: { peer: client, early: [] },
          socket: {
            open(upstream) {
              client.data.peer = upstream;
              for (const chunk of client.data.early) upstream.write(chunk);
              client.data.early = [];
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
}

if (import.meta.main) pipe(Number(process.argv[2]), Number(process.argv[3]));
