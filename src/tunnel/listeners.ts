/**
 * Where and how a database's listener listens: TCP on its `bind` (the database's own, else the
 * global one; IPv6 too) or a unix socket path with a file mode, plain or TLS (`listenerTls`).
 * A stale unix socket file left by a previous run is replaced (one a running process still serves
 * is refused at start); the file is removed on stop. A unix socket is created with its final mode
 * (the process umask is set around the bind: no moment where others may connect, no chmod after
 * the fact that could follow a symlink swapped in), and a symlink at its path is refused.
 *
 * Accept backlog: Bun listens with a fixed backlog of 512, so a burst of more clients than that
 * (a deploy restarting every worker at once) overflows the queue, the kernel drops their SYNs and
 * they retry a second later. We widen it to what the kernel allows (net.core.somaxconn, 4096 on
 * current Linux), as HAProxy and Redis (`tcp-backlog`) do.
 */
import { lstatSync, unlinkSync } from "node:fs";
import type { SocketHandler, TCPSocketListener, UnixSocketListener } from "bun";
import { formatAddress } from "../core/address.ts";
import type { Config, DatabaseConfig } from "../config/config.ts";
import { ListenError } from "../core/errors.ts";
import { libc } from "../system/libc.ts";

/** The backlog asked for; Linux caps it at net.core.somaxconn. */
export const LISTEN_BACKLOG = 65535;

export type Listener<T> = TCPSocketListener<T> | UnixSocketListener<T>;

/** `127.0.0.1:6380`, `[::1]:6380` or `unix:/run/x.sock` (with `tls ` in front for a TLS listener). */
export function listenWhere(config: Config, db: DatabaseConfig, port = db.port): string {
  const where = db.unix ? `unix:${db.unix.path}` : formatAddress({ host: db.bind ?? config.bind, port });
  return config.listenerTls ? `tls ${where}` : where;
}

/** Listen for `db`; throws ListenError naming the database and the address. */
export function listen<T>(config: Config, db: DatabaseConfig, socket: SocketHandler<T>): Listener<T> {
  const tls = config.listenerTls ? { tls: config.listenerTls } : {};
  try {
    if (db.unix) {
      const { path, mode } = db.unix;
      const inTheWay = entryType(path);
      if (inTheWay === "symlink")
        throw new ListenError(
          `database '${db.name}'`,
          listenWhere(config, db),
          "the path is a symbolic link; refusing to listen through it (remove it)",
        );
      if (inTheWay === "other")
        throw new ListenError(
          `database '${db.name}'`,
          listenWhere(config, db),
          "a file that is not a socket is in the way (remove it or pick another path)",
        );
      removeStaleSocket(path);
      const previous = process.umask(~mode & 0o777);
      let listener: Listener<T>;
      try {
        listener = Bun.listen<T>({ unix: path, socket, ...tls });
      } finally {
        process.umask(previous);
      }
      return widenBacklog(listener);
    }
    return widenBacklog(Bun.listen<T>({ hostname: db.bind ?? config.bind, port: db.port, socket, ...tls }));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const reason =
      e.code === "EADDRINUSE"
        ? "the port is already in use (is another tunnel or redis running?)"
        : e.code === "EADDRNOTAVAIL"
          ? "no local interface has this address (check bind)"
          : e.message;
    throw new ListenError(`database '${db.name}'`, listenWhere(config, db), reason);
  }
}

/** Best effort: where libc cannot be called the listener keeps Bun's backlog (512). */
export function widenBacklog<T>(listener: Listener<T>): Listener<T> {
  const lib = libc();
  const fd = (listener as { fd?: number }).fd;
  if (typeof lib !== "string" && typeof fd === "number" && fd >= 0) lib.listen(fd, LISTEN_BACKLOG);
  return listener;
}

/**
 * A unix socket path where a process still accepts connections is not stale: refuse it (ListenError)
 * rather than unlink it under that process, as listen() does with a file a dead process left.
 */
export async function refuseLiveUnixSockets(config: Config): Promise<void> {
  for (const db of config.databases) {
    if (!db.unix || !isSocketFile(db.unix.path)) continue;
    const live = await Bun.connect({ unix: db.unix.path, socket: { data() {} } }).then(
      (socket) => (socket.terminate(), true),
      () => false,
    );
    if (live)
      throw new ListenError(
        `database '${db.name}'`,
        listenWhere(config, db),
        "a running process (another tunnel?) is listening on this socket",
      );
  }
}

/** Stop listening (closing open connections if `force`); a unix socket's file is removed. */
export function stopListener<T>(listener: Listener<T>, db: DatabaseConfig, force: boolean): void {
  listener.stop(force);
  if (db.unix) removeStaleSocket(db.unix.path);
}

/** The port a TCP listener got (useful when configured as 0); undefined for a unix socket. */
export function listenerPort<T>(listener: Listener<T> | null): number | undefined {
  return listener && "port" in listener ? listener.port : undefined;
}

/** What is at `path` now (not following a symlink): nothing, a socket, a symlink or something else. */
function entryType(path: string): "none" | "socket" | "symlink" | "other" {
  try {
    const stat = lstatSync(path);
    return stat.isSocket() ? "socket" : stat.isSymbolicLink() ? "symlink" : "other";
  } catch {
    return "none";
  }
}

function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

function removeStaleSocket(path: string): void {
  try {
    if (isSocketFile(path)) unlinkSync(path);
  } catch {}
}
