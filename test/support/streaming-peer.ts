/**
 * A RESP peer that, asked a chosen command, starts a reply and never ends it: it streams bytes
 * as fast as the socket takes them (a 2 GB bulk string that never ends). Other commands get a
 * fixed answer. Counts what it sent per connection, so a test can tell "cut after a bound" from
 * "buffered whatever came".
 */
import type { Socket, TCPSocketListener } from "bun";
import { ReplyReader } from "../../src/net/resp.ts";

/** What to do with a command: answer with these bytes, stream forever after `header`, or stay silent. */
export type PeerAnswer = string | { stream: string } | null;

export interface StreamingPeer extends AsyncDisposable {
  port: number;
  address: string;
  /** Bytes sent on each connection so far (closed ones included). */
  sent: number[];
  /** Connections the other side closed while this peer was streaming. */
  cut: number;
}

const FILLER = Buffer.alloc(256 << 10, "x");

interface Conn {
  reader: ReplyReader;
  index: number;
  streaming: boolean;
}

/** `answer(args, connection)`: `connection` numbers the connections in the order they were opened. */
export function startStreamingPeer(answer: (args: string[], connection: number) => PeerAnswer): StreamingPeer {
  const peer = { sent: [] as number[], cut: 0 };
  const pump = (socket: Socket<Conn>) => {
    while (socket.data.streaming) {
      const n = socket.write(FILLER);
      if (n > 0) peer.sent[socket.data.index]! += n;
      if (n < FILLER.length) return; // wait for drain
    }
  };
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        const index = peer.sent.push(0) - 1;
        socket.data = {
          index,
          streaming: false,
          reader: new ReplyReader({
            onReply(command) {
              if (socket.data.streaming) return;
              const reply = answer((command as unknown[]).map(String), index);
              if (reply === null) return;
              const bytes = typeof reply === "string" ? reply : reply.stream;
              const n = socket.write(bytes);
              if (n > 0) peer.sent[index]! += n;
              if (typeof reply !== "string") {
                socket.data.streaming = true;
                pump(socket);
              }
            },
            onProtocolError: () => socket.end(),
          }),
        };
      },
      data: (socket, chunk) => socket.data.reader.feed(chunk),
      drain: (socket) => pump(socket),
      close(socket) {
        if (socket.data.streaming) peer.cut++;
        socket.data.streaming = false;
      },
    },
  });
  return Object.assign(peer, {
    port: listener.port,
    address: `127.0.0.1:${listener.port}`,
    [Symbol.asyncDispose]: async () => listener.stop(true),
  });
}
