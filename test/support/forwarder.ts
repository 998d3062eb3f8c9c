/**
 * A small TCP forwarder standing in for an address only the Redis network can use (a container's
 * address, a NAT): it listens on a 127.0.0.1 port and pipes every connection to a target port.
 * Servers and sentinels announce it and use it among themselves; a connection whose first command
 * is one of `refuse` (the tunnel's first commands: ROLE, SENTINEL) is recorded and closed, as an
 * address the tunnel's host cannot reach would be. `firstCommands` lists what every connection began with.
 * `raw`: no looking at the bytes (TLS passes through), every connection is forwarded.
 */
import type { Socket, TCPSocketListener } from "bun";

interface Pipe {
  /** The other side, once connected (for the accepted socket: the target; for the target: the accepted socket). */
  peer: Socket<Pipe> | null;
  /** Bytes for this socket that it did not take yet. */
  outbox: Buffer[];
  /** Bytes from this socket while its peer is not connected yet. */
  pending: Buffer[];
  /** The accepted side: nothing forwarded yet (still reading the first command). */
  sniffing: boolean;
  closed: boolean;
}

export interface Forwarder extends AsyncDisposable {
  port: number;
  /** The first command of every connection so far (upper case; "" for one closed before a command). */
  readonly firstCommands: string[];
  /** Connections closed because their first command was in `refuse`. */
  readonly refused: string[];
  /** Accepted connections open now (idle ones included: a pooled socket sends nothing until taken). */
  readonly open: number;
}

/** The name of the first command in `bytes` (RESP array or inline), or null while incomplete. */
function firstCommand(bytes: Buffer): string | null {
  const text = bytes.toString("latin1");
  const resp = /^\*\d+\r\n\$\d+\r\n([^\r]*)\r\n/.exec(text);
  if (resp) return resp[1]!.toUpperCase();
  if (text.startsWith("*")) return null;
  const inline = /^([^\s]+)[ \r\n]/.exec(text);
  return inline ? inline[1]!.toUpperCase() : null;
}

function send(socket: Socket<Pipe>, chunk: Buffer): void {
  const pipe = socket.data;
  if (pipe.outbox.length > 0) return void pipe.outbox.push(chunk);
  const n = socket.write(chunk);
  if (n < chunk.length) pipe.outbox.push(chunk.subarray(Math.max(0, n)));
}

function flush(socket: Socket<Pipe>): void {
  const pipe = socket.data;
  while (pipe.outbox.length > 0) {
    const chunk = pipe.outbox[0]!;
    const n = socket.write(chunk);
    if (n < chunk.length) {
      pipe.outbox[0] = chunk.subarray(Math.max(0, n));
      return;
    }
    pipe.outbox.shift();
  }
}

function close(socket: Socket<Pipe>): void {
  if (socket.data.closed) return;
  socket.data.closed = true;
  const peer = socket.data.peer;
  if (peer && !peer.data.closed) peer.end();
}

export interface ForwarderOptions {
  /** First commands that get the connection closed (default: the tunnel's, ROLE and SENTINEL). */
  refuse?: string[];
  /** Forward every connection at once, without reading its first command (for TLS). */
  raw?: boolean;
}

export function startForwarder(port: number, targetPort: number, options: ForwarderOptions = {}): Forwarder {
  const refuse = options.raw ? [] : (options.refuse ?? ["ROLE", "SENTINEL"]);
  const firstCommands: string[] = [];
  const refused: string[] = [];
  const targets = new Set<Socket<Pipe>>();
  let open = 0;
  /** Connect `socket` through to the target; what it sent meanwhile follows. */
  const connect = (socket: Socket<Pipe>) => {
    const pipe = socket.data;
    const data: Pipe = { peer: socket, outbox: [], pending: [], sniffing: false, closed: false };
    Bun.connect<Pipe>({ hostname: "127.0.0.1", port: targetPort, data, socket: toTarget }).then(
      (target) => {
        if (pipe.closed) return void target.end();
        pipe.peer = target;
        for (const early of pipe.pending.splice(0)) send(target, early);
      },
      () => socket.end(),
    );
  };
  const toTarget = {
    open: (s: Socket<Pipe>) => void targets.add(s),
    data: (s: Socket<Pipe>, chunk: Buffer) => {
      if (s.data.peer) send(s.data.peer, chunk);
    },
    drain: (s: Socket<Pipe>) => flush(s),
    close: (s: Socket<Pipe>) => {
      targets.delete(s);
      close(s);
    },
    error: (s: Socket<Pipe>) => close(s),
  };
  const listener: TCPSocketListener<Pipe> = Bun.listen<Pipe>({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(socket) {
        socket.data = { peer: null, outbox: [], pending: [], sniffing: !options.raw, closed: false };
        open++;
        if (options.raw) connect(socket);
      },
      data(socket, chunk) {
        const pipe = socket.data;
        if (!pipe.sniffing) return pipe.peer ? send(pipe.peer, chunk) : void pipe.pending.push(chunk);
        pipe.pending.push(chunk);
        const name = firstCommand(Buffer.concat(pipe.pending));
        if (name === null) return;
        pipe.sniffing = false;
        firstCommands.push(name);
        if (refuse.includes(name)) {
          refused.push(name);
          return void socket.terminate();
        }
        connect(socket);
      },
      drain: (socket) => flush(socket),
      close(socket) {
        open--;
        if (socket.data.sniffing) firstCommands.push("");
        close(socket);
      },
      error: (socket) => close(socket),
    },
  });
  return {
    port: listener.port,
    firstCommands,
    refused,
    get open() {
      return open;
    },
    async [Symbol.asyncDispose]() {
      listener.stop(true);
      for (const s of targets) s.terminate();
    },
  };
}
