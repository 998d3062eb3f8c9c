/**
 * The first bytes on an upstream Redis socket and how to judge the replies: `[AUTH] ROLE [RESET]`,
 * pipelined in one write. RESET (Redis >= 6.2) drops the tunnel's AUTH so the client
 * authenticates as it would against Redis directly; with `keepAuth` (authenticateClients) the
 * session stays authenticated. An unknown RESET means an older server (see connectVerified).
 */
import { ReplyError } from "redis-errors";
import { AuthError, MasterNotVerifiedError, ServerBusyError } from "../core/errors.ts";
import { classifyRole, waitable } from "../engine/role-reply.ts";
import { authFailure, isAuthReply, type RedisHopOptions } from "../net/hops.ts";
import { encodeCommand, type Reply } from "../net/resp.ts";
import { authCommand, type Credentials } from "../config/secrets.ts";

export type ExpectedRole = "master" | "slave";

/** The verdict on one reply: null = fine, "old" = RESET unknown (Redis < 6.2), else the error. */
export type HandshakeStep = (reply: Reply, label: string) => Error | null | "old";

const ROLE = encodeCommand(["ROLE"]);
const RESET = encodeCommand(["RESET"]);

/** Only a credentials reply is final; another error to AUTH (max clients reached, ...) is retried. */
const authStep: HandshakeStep = (reply, label) =>
  isAuthReply(reply)
    ? authFailure("redis", label, reply)
    : reply instanceof ReplyError
      ? new MasterNotVerifiedError(label, `AUTH failed: ${reply.message}`)
      : null;

/** The engine's classification of the reply (engine/role-reply.ts), as the handshake's verdict. */
const roleStep =
  (expected: ExpectedRole): HandshakeStep =>
  (reply, label) => {
    const answer = classifyRole({ kind: "reply", reply }, label);
    if ("role" in answer)
      return answer.role === expected ? null : new MasterNotVerifiedError(label, `ROLE says ${answer.role}`, expected);
    if (answer.error === "refused") return new AuthError("redis", label, answer.detail);
    // Busy or loading: there, and accepted by a patient check (verified-connect.ts).
    if (waitable(answer)) return new ServerBusyError(label, `ROLE answered -${answer.detail.slice(0, 100)}`, expected);
    const said = reply instanceof ReplyError ? `ROLE failed: ${reply.message}` : `ROLE says ${JSON.stringify(reply)}`;
    return new MasterNotVerifiedError(label, said, expected);
  };

const resetStep: HandshakeStep = (reply, label) =>
  !(reply instanceof ReplyError)
    ? null
    : /unknown command/i.test(reply.message)
      ? "old"
      : new MasterNotVerifiedError(label, `RESET failed: ${reply.message}`);

export interface Handshake {
  bytes: Buffer;
  steps: HandshakeStep[];
}

const ROLE_STEP: Record<ExpectedRole, HandshakeStep> = { master: roleStep("master"), slave: roleStep("slave") };
const PLAIN: Record<ExpectedRole, Handshake> = {
  master: { bytes: ROLE, steps: [ROLE_STEP.master] },
  slave: { bytes: ROLE, steps: [ROLE_STEP.slave] },
};
/** Handshakes with credentials, built once per credential set (a reload brings a new one). */
const WITH_AUTH = new WeakMap<Credentials, Map<string, Handshake>>();

/** The handshake for a new upstream socket: built once, not per connection. */
export function upstreamHandshake(options: RedisHopOptions, expected: ExpectedRole): Handshake {
  if (!options.auth) return PLAIN[expected];
  let built = WITH_AUTH.get(options.auth);
  if (!built) WITH_AUTH.set(options.auth, (built = new Map()));
  const key = `${expected}${options.keepAuth ? "+keep" : ""}`;
  let handshake = built.get(key);
  if (!handshake) built.set(key, (handshake = withAuth(options.auth, options.keepAuth, expected)));
  return handshake;
}

function withAuth(credentials: Credentials, keepAuth: boolean, expected: ExpectedRole): Handshake {
  const auth = encodeCommand(authCommand(credentials));
  const role = ROLE_STEP[expected];
  if (keepAuth) return { bytes: Buffer.concat([auth, ROLE]), steps: [authStep, role] };
  return { bytes: Buffer.concat([auth, ROLE, RESET]), steps: [authStep, role, resetStep] };
}
