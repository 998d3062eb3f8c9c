/**
 * One upstream connection confirmed as master (or replica): connect (TLS, address map), send the
 * handshake (`[AUTH] ROLE [RESET]`, handshake.ts) on that very socket, and hand the socket over only
 * when the server answers as expected; a busy master the engine follows is accepted or waited for.
 * Used by the resolver for every client, by `check`, and by nothing that decides.
 */
import type { Address } from "../core/address.ts";
import { outOfFiles } from "../system/fd-watch.ts";
import { MasterNotVerifiedError, ServerBusyError, TlsRejectedError } from "../core/errors.ts";
import { answerDetail, classifyRole, waitable } from "../engine/role-reply.ts";
import { upstreamHandshake, type ExpectedRole, type HandshakeStep } from "./handshake.ts";
import { PLAIN_REDIS, target, type RedisHopOptions } from "../net/hops.ts";
import { ReplyReader, type Reply } from "../net/resp.ts";
import { HANDSHAKE_REPLY_LIMITS } from "../net/reply-limits.ts";
import {
  ConnectError,
  connectWithTimeout,
  KEEPALIVE_MS,
  ownerHandlers,
  type OwnedSocket,
  type SocketOwner,
} from "../net/sockets.ts";

export type { ExpectedRole };

/** The owner of an upstream socket while it answers the handshake (handshake.ts). */
class RoleCheck implements SocketOwner {
  readonly reader: ReplyReader;
  settle: ((error: Error | null | "old") => void) | null = null;
  #next = 0;
  constructor(
    readonly label: string,
    readonly steps: HandshakeStep[],
    /** A busy answer to ROLE is good enough (the master followed, busy: its clients must reach it). */
    readonly patient: () => boolean,
    cut?: (problem: string) => void,
  ) {
    // A few KiB at most (reply-limits.ts): a server streaming a huge reply is cut, not buffered.
    this.reader = new ReplyReader(
      {
        onReply: (reply) => this.#verdict(reply),
        onProtocolError: (error) => {
          cut?.(error.message);
          this.settle?.(
            new MasterNotVerifiedError(this.label, `reply to ROLE is not RESP or too large: ${error.message}`),
          );
        },
      },
      { limits: HANDSHAKE_REPLY_LIMITS },
    );
  }
  #verdict(reply: Reply): void {
    const step = this.steps[this.#next++];
    if (!step) return this.settle?.(new MasterNotVerifiedError(this.label, "unexpected extra reply"));
    let outcome = step(reply, this.label);
    if (outcome instanceof ServerBusyError && this.patient()) outcome = null;
    if (outcome !== null || this.#next === this.steps.length) this.settle?.(outcome);
  }
  onData(_s: OwnedSocket, chunk: Buffer): void {
    this.reader.feed(chunk);
  }
  onDrain(): void {}
  onClose(_s: OwnedSocket, error?: Error): void {
    this.settle?.(new MasterNotVerifiedError(this.label, `connection closed${error ? `: ${error.message}` : ""}`));
  }
}

/**
 * Connect to `address` (TLS per `options`) and confirm with ROLE that it is a master (or the
 * `expected` role), within `timeoutMs`. With credentials: AUTH first, RESET after, so the client
 * gets an unauthenticated session; a server too old for RESET is verified that way on a control
 * connection and the client gets a fresh, never-authenticated socket. Wrong credentials reject
 * with AuthError. `patient()`: the server is the master followed and no failover is flagged, so a
 * `-BUSY`/`-LOADING` answer is accepted and a slow one waited for (as a direct client would wait),
 * for as long as that stays true.
 */
export async function connectVerified(
  address: Address,
  timeoutMs: number,
  expected: ExpectedRole = "master",
  options: RedisHopOptions = PLAIN_REDIS,
  pooled: OwnedSocket | null = null,
  patient: () => boolean = () => false,
): Promise<OwnedSocket> {
  const to = target(options, address); // addressMap: identity stays `address`, the socket goes to `to.address`
  const label = to.label;
  const handshake = upstreamHandshake(options, expected);
  const cut = options.cut && ((problem: string) => options.cut?.("redis", label, problem));
  const check = new RoleCheck(label, handshake.steps, patient, cut);
  const started = performance.now();
  const connect = async () => {
    try {
      const left = Math.max(1, timeoutMs - (performance.now() - started));
      const socket = await connectWithTimeout<SocketOwner>(to.address, left, ownerHandlers, check, to.options.tls);
      socket.setKeepAlive(true, KEEPALIVE_MS); // pooled sockets got theirs when they were opened
      return socket;
    } catch (error) {
      if (error instanceof ConnectError && error.certificateRejected)
        throw new TlsRejectedError(label, error.message, expected);
      const reason = outOfFiles()
        ? "this process is out of file descriptors (raise the open-file limit: ulimit -n, LimitNOFILE=)"
        : (error as Error).message;
      throw new MasterNotVerifiedError(label, reason, expected, error instanceof ConnectError && error.timedOut);
    }
  };
  // A pooled socket (upstream-pool.ts) is connected and has never carried a byte: same as a fresh one.
  let socket: OwnedSocket;
  if (pooled && pooled.readyState === 1) {
    pooled.data = check;
    socket = pooled;
  } else socket = await connect();
  const left = Math.max(1, timeoutMs - (performance.now() - started));
  const verdict = await new Promise<Error | null | "old">((resolve) => {
    const expire = () => {
      // No reply yet: busy (engine/role-reply.ts), waited for while the check is patient.
      const answer = classifyRole({ kind: "timeout", ms: timeoutMs }, label);
      if (waitable(answer) && patient()) timer = setTimeout(expire, timeoutMs);
      else resolve(new MasterNotVerifiedError(label, answerDetail(answer), expected, true));
    };
    let timer = setTimeout(expire, left);
    check.settle = (error) => {
      check.settle = null;
      clearTimeout(timer);
      resolve(error);
    };
    if (socket.write(handshake.bytes) !== handshake.bytes.length)
      check.settle(new MasterNotVerifiedError(label, "could not send ROLE", expected));
  });
  if (verdict === null) return socket;
  socket.terminate();
  if (verdict !== "old") throw verdict;
  return connect(); // verified on the control connection above; this one never saw AUTH
}
