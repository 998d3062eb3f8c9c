/**
 * What a server's answer to `ROLE` means, one rule for every place that asks: the poller's control
 * connections (discovery/control.ts) and the upstream handshake (upstream/handshake.ts,
 * verified-connect.ts). Pure: the callers say what came back (a reply, an error reply, nothing in
 * time, a refused or broken connection) and obey the answer.
 *
 * - an array: the role it names (`master`, `slave`, `sentinel`);
 * - `-BUSY` (a script past busy-reply-threshold) or no reply in time: busy — the server is there,
 *   but slow (a slow command or a frozen process: no way to tell yet);
 * - `-LOADING`: loading its dataset;
 * - a credentials reply (`NOAUTH`, `WRONGPASS`, ...) or a refused TLS certificate: refused (a
 *   config problem, not an outage);
 * - anything else (another error reply, a reply that is not an array, a refused, reset or closed
 *   connection): gone.
 *
 * Busy and loading are `waitable`: a patient handshake (the master followed, no failover flagged)
 * accepts them, or waits for the reply, as a direct client would.
 */
import { ReplyError } from "redis-errors";
import { isAuthReply } from "../net/hops.ts";
import type { RoleAnswer } from "./state.ts";

export type { RoleAnswer };

/** What came back when ROLE was asked. */
export type RoleOutcome =
  /** A reply: ROLE's array, an error reply (a redis-errors `ReplyError`), or anything else. */
  | { kind: "reply"; reply: unknown }
  /** No reply within `ms`. */
  | { kind: "timeout"; ms: number }
  /** The connection refused the tunnel before ROLE: its certificate failed verification, or our credentials. */
  | { kind: "refused"; cause: "tls" | "auth"; detail: string }
  /** The connection failed: refused, reset, closed before a reply. */
  | { kind: "failed"; detail: string };

const BUSY = /^BUSY\b/;
const LOADING = /^LOADING\b/;

/** The answer `outcome` amounts to; `label` names the server in the details of a gone one. */
export function classifyRole(outcome: RoleOutcome, label: string): RoleAnswer {
  switch (outcome.kind) {
    case "timeout":
      return { error: "busy", detail: `no reply to ROLE within ${outcome.ms} ms` };
    case "refused":
      return { error: "refused", cause: outcome.cause, detail: outcome.detail };
    case "failed":
      return { error: "gone", detail: `${label} did not answer ROLE: ${outcome.detail}` };
    case "reply": {
      const { reply } = outcome;
      if (Array.isArray(reply)) return { role: String(reply[0]) };
      if (isAuthReply(reply)) return { error: "refused", cause: "auth", detail: reply.message };
      if (reply instanceof ReplyError) {
        const line = reply.message.split("\n")[0]!.slice(0, 120);
        if (BUSY.test(line)) return { error: "busy", detail: line };
        if (LOADING.test(line)) return { error: "loading", detail: line };
        return { error: "gone", detail: `${label} answers ROLE with -${reply.message.slice(0, 120)}` };
      }
      return { error: "gone", detail: `${label} answers ROLE with ${JSON.stringify(reply)?.slice(0, 80)}` };
    }
  }
}

/** There, but busy or loading: the master followed is waited for (or accepted busy), not given up on. */
export function waitable(answer: RoleAnswer): boolean {
  return "error" in answer && (answer.error === "busy" || answer.error === "loading");
}

/** The answer in words, for an error message. */
export function answerDetail(answer: RoleAnswer): string {
  return "role" in answer ? `ROLE says ${answer.role}` : answer.detail;
}
