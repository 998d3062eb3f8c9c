/**
 * "Give me a verified connection to the master of X": ask Sentinel, connect, send `ROLE` on
 * that very socket, and hand it over only when the server says `master`. Retries (asking
 * Sentinel again) until the deadline.
 *
 * Fast path: while the sentinel query is in flight, it already connects and sends ROLE to the
 * last master it saw; the socket is used only if Sentinel then names the same address.
 */
import type { Socket } from "bun";
import { ReplyError } from "redis-errors";
import { formatAddress, sameAddress, type Address } from "./address.ts";
import { MasterNotVerifiedError, NoMasterError } from "./errors.ts";
import { encodeCommand, ReplyReader, type Reply } from "./resp.ts";
import type { MasterAnswer, Sentinels } from "./sentinel.ts";
import { connectWithTimeout, ownerHandlers, type OwnedSocket, type SocketOwner } from "./sockets.ts";

export interface VerifiedUpstream {
  socket: OwnedSocket;
  address: Address;
}

export interface ResolverOptions {
  /** Per attempt: connecting to the master and its ROLE reply. */
  connectTimeoutMs: number;
  /** Pause between attempts while no verified master is found. */
  retryDelayMs?: number;
}

const ROLE = encodeCommand(["ROLE"]);

export type ExpectedRole = "master" | "slave";

/** The owner of an upstream socket while it answers ROLE. */
class RoleCheck implements SocketOwner {
  readonly reader: ReplyReader;
  settle: ((error: Error | null) => void) | null = null;
  constructor(
    readonly label: string,
    readonly expected: ExpectedRole,
  ) {
    this.reader = new ReplyReader({
      onReply: (reply) => this.#verdict(reply),
      onProtocolError: () => this.settle?.(new MasterNotVerifiedError(this.label, "reply to ROLE is not RESP")),
    });
  }
  #verdict(reply: Reply): void {
    if (reply instanceof ReplyError) return this.settle?.(new MasterNotVerifiedError(this.label, `ROLE failed: ${reply.message}`));
    const role = Array.isArray(reply) ? String(reply[0]) : JSON.stringify(reply);
    this.settle?.(role === this.expected ? null : new MasterNotVerifiedError(this.label, `ROLE says ${role}`, this.expected));
  }
  onData(_s: OwnedSocket, chunk: Buffer): void {
    this.reader.feed(chunk);
  }
  onDrain(): void {}
  onClose(_s: OwnedSocket, error?: Error): void {
    this.settle?.(new MasterNotVerifiedError(this.label, `connection closed${error ? `: ${error.message}` : ""}`));
  }
}

/** Connect to `address` and confirm with ROLE that it is a master (or the `expected` role), within `timeoutMs`. */
export async function connectVerified(address: Address, timeoutMs: number, expected: ExpectedRole = "master"): Promise<OwnedSocket> {
  const label = formatAddress(address);
  const check = new RoleCheck(label, expected);
  const started = performance.now();
  let socket: Socket<SocketOwner>;
  try {
    socket = await connectWithTimeout<SocketOwner>(address, timeoutMs, ownerHandlers, check);
  } catch (error) {
    throw new MasterNotVerifiedError(label, (error as Error).message, expected);
  }
  const left = Math.max(1, timeoutMs - (performance.now() - started));
  const verdict = await new Promise<Error | null>((resolve) => {
    const timer = setTimeout(() => resolve(new MasterNotVerifiedError(label, `no reply to ROLE within ${timeoutMs} ms`, expected)), left);
    check.settle = (error) => {
      check.settle = null;
      clearTimeout(timer);
      resolve(error);
    };
    if (socket.write(ROLE) !== ROLE.length) check.settle(new MasterNotVerifiedError(label, "could not send ROLE", expected));
  });
  if (verdict) {
    socket.terminate();
    throw verdict;
  }
  return socket;
}

export class Resolver {
  readonly #lastKnown = new Map<string, Address>();
  readonly #nextReplica = new Map<string, number>();

  constructor(
    readonly sentinels: Sentinels,
    readonly options: ResolverOptions,
  ) {}

  /** Remember where the master of `name` is (from a poll or a successful resolve). */
  remember(name: string, address: Address): void {
    this.#lastKnown.set(name, address);
  }

  /**
   * A verified master connection for `name`, or NoMasterError once `deadline` (a Date.now() value)
   * passes. `objection(address)` may veto what a sentinel names (returns why), to be asked again.
   */
  async resolve(name: string, deadline: number, objection?: (address: Address) => string | null): Promise<VerifiedUpstream> {
    let reason = "no attempt finished before the deadline";
    for (;;) {
      try {
        return await this.#attempt(name, deadline, objection);
      } catch (error) {
        reason = (error as Error).message;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new NoMasterError(name, reason);
      await Bun.sleep(Math.min(this.options.retryDelayMs ?? 50, left));
    }
  }

  /**
   * A verified replica connection for `name`: round-robin over the replicas Sentinel reports
   * healthy, each confirmed by ROLE. NoMasterError (no replica) once `deadline` passes.
   */
  async resolveReplica(name: string, deadline: number): Promise<VerifiedUpstream> {
    let reason = "no attempt finished before the deadline";
    for (;;) {
      try {
        const replicas = await this.sentinels.healthyReplicas(name);
        if (replicas.length === 0) throw new Error("Sentinel reports no healthy replica");
        const start = this.#nextReplica.get(name) ?? 0;
        this.#nextReplica.set(name, start + 1);
        for (let i = 0; i < replicas.length; i++) {
          const address = replicas[(start + i) % replicas.length]!;
          try {
            const timeout = Math.max(1, Math.min(this.options.connectTimeoutMs, deadline - Date.now()));
            return { socket: await connectVerified(address, timeout, "slave"), address };
          } catch (error) {
            reason = (error as Error).message;
          }
        }
      } catch (error) {
        reason = (error as Error).message;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new NoMasterError(name, reason, "replica");
      await Bun.sleep(Math.min(this.options.retryDelayMs ?? 50, left));
    }
  }

  async #attempt(name: string, deadline: number, objection?: (address: Address) => string | null): Promise<VerifiedUpstream> {
    const timeout = () => Math.max(1, Math.min(this.options.connectTimeoutMs, deadline - Date.now()));
    const known = this.#lastKnown.get(name);
    const early = known ? settled(connectVerified(known, timeout())) : null;
    let answer: MasterAnswer;
    try {
      answer = await this.sentinels.getMasterAddr(name);
    } catch (error) {
      early?.then((r) => r.socket?.terminate());
      throw error;
    }
    const objected = objection?.(answer.address);
    if (objected) {
      early?.then((r) => r.socket?.terminate());
      throw new MasterNotVerifiedError(formatAddress(answer.address), objected);
    }
    if (early && sameAddress(known, answer.address)) {
      const { socket, error } = await early;
      if (socket) return { socket, address: answer.address };
      throw error;
    }
    early?.then((r) => r.socket?.terminate());
    const socket = await connectVerified(answer.address, timeout());
    this.remember(name, answer.address);
    return { socket, address: answer.address };
  }
}

function settled(p: Promise<OwnedSocket>): Promise<{ socket?: OwnedSocket; error?: Error }> {
  return p.then(
    (socket) => ({ socket }),
    (error: Error) => ({ error }),
  );
}
