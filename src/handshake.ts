/**
 * The first bytes on an upstream Redis socket and how to judge the replies: `[AUTH] ROLE [RESET]`,
 * pipelined in one write. RESET (Redis >= 6.2) drops the tunnel's AUTH so the client
 * authenticates as it would against Redis directly; with `keepAuth` (authenticateClients) the
 * session stays authenticated. An unknown RESET means an older server (see connectVerified).
 */
import { ReplyError } from "redis-errors";
import { MasterNotVerifiedError } from "./errors.ts";
import { authFailure, isAuthReply, type RedisHopOptions } from "./hops.ts";
import { encodeCommand, type Reply } from "./resp.ts";
import { authCommand } from "./secrets.ts";

export type ExpectedRole = "master" | "slave";

/** The verdict on one reply: null = fine, "old" = RESET unknown (Redis < 6.2), else the error. */
export type Step = (reply: Reply, label: string) => Error | null | "old";

const ROLE = encodeCommand(["ROLE"]);
const RESET = encodeCommand(["RESET"]);

const authStep: Step = (reply, label) => (reply instanceof ReplyError ? authFailure("redis", label, reply) : null);

const roleStep =
  (expected: ExpectedRole): Step =>
  (reply, label) => {
    if (isAuthReply(reply)) return authFailure("redis", label, reply);
    if (reply instanceof ReplyError) return new MasterNotVerifiedError(label, `ROLE failed: ${reply.message}`, expected);
    const role = Array.isArray(reply) ? String(reply[0]) : JSON.stringify(reply);
    return role === expected ? null : new MasterNotVerifiedError(label, `ROLE says ${role}`, expected);
  };

const resetStep: Step = (reply, label) =>
  !(reply instanceof ReplyError) ? null : /unknown command/i.test(reply.message) ? "old" : new MasterNotVerifiedError(label, `RESET failed: ${reply.message}`);

export function upstreamHandshake(options: RedisHopOptions, expected: ExpectedRole): { bytes: Buffer; steps: Step[] } {
  const role = roleStep(expected);
  if (!options.auth) return { bytes: ROLE, steps: [role] };
  const auth = encodeCommand(authCommand(options.auth));
  if (options.keepAuth) return { bytes: Buffer.concat([auth, ROLE]), steps: [authStep, role] };
  return { bytes: Buffer.concat([auth, ROLE, RESET]), steps: [authStep, role, resetStep] };
}
