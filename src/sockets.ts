/**
 * Socket plumbing shared by every connection: handlers that delegate to the socket's owner
 * (`socket.data`), and a connect with a deadline.
 *
 * One static handler object serves every socket (no closures per connection); a socket
 * changes hands — ROLE verification, then the bridge — by assigning a new owner to `socket.data`.
 */
import type { Socket, SocketHandler } from "bun";
import type { Address } from "./address.ts";

export interface SocketOwner {
  onData(socket: Socket<SocketOwner>, chunk: Buffer): void;
  onDrain(socket: Socket<SocketOwner>): void;
  /** The socket is gone (peer closed, reset, or we closed it). Called at most once per socket by Bun. */
  onClose(socket: Socket<SocketOwner>, error?: Error): void;
}

export type OwnedSocket = Socket<SocketOwner>;

export const ownerHandlers = {
  data: (s: OwnedSocket, chunk: Buffer) => s.data.onData(s, chunk),
  drain: (s: OwnedSocket) => s.data.onDrain(s),
  close: (s: OwnedSocket, error?: Error) => s.data.onClose(s, error),
  // A FIN from the peer: we do not keep half-open Redis sessions; close our side as well.
  end: (s: OwnedSocket) => void s.end(),
  error: (s: OwnedSocket, error: Error) => s.data.onClose(s, error),
} satisfies SocketHandler<SocketOwner>;

export class ConnectError extends Error {
  override name = "ConnectError";
}

/** Bun.connect with a deadline; the socket starts with `owner` as its data. */
export async function connectWithTimeout<T>(
  address: Address,
  timeoutMs: number,
  handlers: SocketHandler<T>,
  owner: T,
): Promise<Socket<T>> {
  let timer: Timer | undefined;
  const connecting = Bun.connect<T>({ hostname: address.host, port: address.port, data: owner, socket: handlers });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectError(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const socket = await Promise.race([connecting, timeout]);
    socket.setNoDelay(true);
    return socket;
  } catch (error) {
    connecting.then((s) => s.terminate(), () => {});
    if (error instanceof ConnectError) throw error;
    throw new ConnectError(`connect failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}
