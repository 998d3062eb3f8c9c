/**
 * Socket plumbing shared by every connection: handlers that delegate to the socket's owner
 * (`socket.data`), and a connect with a deadline (plain TCP or TLS: the one place TLS is set up).
 *
 * One static handler object serves every socket (no closures per connection); a socket
 * changes hands — ROLE verification, then the bridge — by assigning a new owner to `socket.data`.
 */
import type { Socket, SocketHandler } from "bun";
import type { Address } from "../core/address.ts";
import type { TlsOptions } from "../config/tls.ts";

export interface SocketOwner {
  onData(socket: Socket<SocketOwner>, chunk: Buffer): void;
  onDrain(socket: Socket<SocketOwner>): void;
  /** The socket is gone (peer closed, reset, or we closed it). Called at most once per socket by Bun. */
  onClose(socket: Socket<SocketOwner>, error?: Error): void;
}

export type OwnedSocket = Socket<SocketOwner>;

/** Idle time before TCP keepalive probes start, so a silently vanished peer does not hold a session. */
export const KEEPALIVE_MS = 15_000;

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
  /** The peer's certificate failed verification (a config problem, not a network one). */
  certificateRejected = false;
  /** Nothing happened before the deadline (the peer may be busy or frozen), as opposed to a refusal. */
  timedOut = false;
}

/**
 * Bun.connect with a deadline; the socket starts with `owner` as its data. With `tls`, resolves
 * only after the handshake succeeded (Bun resolves at TCP open, and bytes written before the
 * handshake can be lost), and a failed verification rejects with the reason.
 */
export async function connectWithTimeout<T>(
  address: Address,
  timeoutMs: number,
  handlers: SocketHandler<T>,
  owner: T,
  tls?: TlsOptions | null,
): Promise<Socket<T>> {
  let timer: Timer | undefined;
  let handshake: Promise<void> | null = null;
  let socketHandlers = handlers;
  if (tls) {
    let settle!: (error: Error | null) => void;
    handshake = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
    handshake.catch(() => {}); // may settle after the deadline already rejected
    socketHandlers = {
      ...handlers,
      handshake: (_s, success, authorizationError) => {
        // insecureSkipVerify: Bun still reports the failed check (CA, or the name): ignore it, whole.
        if (success || (authorizationError && tls.rejectUnauthorized === false)) return settle(null);
        const error = new ConnectError(
          `TLS handshake failed: ${authorizationError?.message ?? "refused"}${tlsHint(authorizationError)}`,
        );
        error.certificateRejected = !!authorizationError;
        settle(error);
      },
      close: (s, error) => {
        settle(new ConnectError(`TLS handshake failed: connection closed${error ? ` (${error.message})` : ""}`));
        handlers.close?.(s, error);
      },
    };
  }
  const connecting = Bun.connect<T>({
    hostname: address.host,
    port: address.port,
    data: owner,
    socket: socketHandlers,
    ...(tls ? { tls } : {}),
  });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new ConnectError(`connect${tls ? " + TLS handshake" : ""} timed out after ${timeoutMs} ms`), {
            timedOut: true,
          }),
        ),
      timeoutMs,
    );
  });
  try {
    const socket = await Promise.race([connecting, timeout]);
    if (handshake) await Promise.race([handshake, timeout]);
    socket.setNoDelay(true);
    return socket;
  } catch (error) {
    connecting.then(
      (s) => s.terminate(),
      () => {},
    );
    if (error instanceof ConnectError) throw error;
    throw new ConnectError(`connect failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

function tlsHint(error: Error | null | undefined): string {
  const code = (error as NodeJS.ErrnoException | null | undefined)?.code ?? "";
  if (/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|CERT_UNTRUSTED/.test(code))
    return " (is caFile the CA that signed the server's certificate?)";
  if (/ALTNAME|HOSTNAME/.test(code)) return " (set servername to a name in the server's certificate)";
  return "";
}
