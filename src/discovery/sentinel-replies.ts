/**
 * Sentinel's replies, checked field by field before anything uses them: addresses (IPv4, IPv6,
 * host names) and ports through net/address.ts, numbers as digits (no `NaN` from `config-epoch:
 * abc`), flags as Sentinel spells them. One bad field makes the whole answer invalid
 * (InvalidReplyError, saying which field): a sentinel that sends it is treated as one that did
 * not answer. Pure: no I/O.
 */
import { addressOf, type Address } from "../core/address.ts";
import type { Reply } from "../net/resp.ts";
import { InvalidReplyError } from "../core/errors.ts";
import type { ListedReplica } from "../engine/consensus.ts";

/** What one sentinel says of a master (`SENTINEL master <name>`), validated. */
export interface MasterInfo {
  address: Address;
  flags: Set<string>;
  epoch: number;
  /** Sentinels that must agree the master is down (`sentinel monitor ... <quorum>`). */
  quorum: number;
  /** The other sentinels this one knows for the master (null: the field is absent). */
  otherSentinels: number | null;
  /** ms since this sentinel last had a valid PING reply from the master (null: the field is absent). */
  lastOkPingMs: number | null;
  /** How long without a valid reply before this sentinel marks the master s_down (null: absent). */
  downAfterMs: number | null;
}

/** Field/value pairs Sentinel answers with, as a record; at most this many fields. */
const MAX_FIELDS = 256;
const FLAGS = /^[a-z0-9_]+(,[a-z0-9_]+)*$/;
/** Sentinel's epochs and counters are 64-bit; past 2^53 a JS number would be wrong, so refuse. */
const COUNT = /^\d{1,15}$/;

/** `["ip", "::1", "port", "6379", ...]` into a record of strings; throws InvalidReplyError. */
export function fieldRecord(reply: Reply, what: string): Record<string, string> {
  if (!Array.isArray(reply)) throw new InvalidReplyError(what, `not a list of fields (${describe(reply)})`);
  if (reply.length % 2 !== 0 || reply.length > 2 * MAX_FIELDS) {
    throw new InvalidReplyError(what, `${reply.length} elements, not field/value pairs`);
  }
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i < reply.length; i += 2) {
    const [key, value] = [reply[i], reply[i + 1]];
    if (typeof key !== "string" || typeof value !== "string") {
      throw new InvalidReplyError(
        what,
        `field ${i / 2} is ${describe(typeof key !== "string" ? key : value)}, not text`,
      );
    }
    out[key] = value;
  }
  return out;
}

function address(fields: Record<string, string>, what: string): Address {
  const address = addressOf(fields.ip, fields.port);
  if (!address)
    throw new InvalidReplyError(what, `ip ${clip(fields.ip)} / port ${clip(fields.port)} is not an address`);
  return address;
}

function count<F extends number | null>(
  fields: Record<string, string>,
  key: string,
  what: string,
  fallback?: F,
): number | F {
  const value = fields[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined || !COUNT.test(value)) {
    throw new InvalidReplyError(what, `${key} ${clip(value)} is not a number`);
  }
  return Number(value);
}

function flags(fields: Record<string, string>, what: string): Set<string> {
  const value = fields.flags;
  if (value === undefined || !FLAGS.test(value)) {
    throw new InvalidReplyError(what, `flags ${clip(value)} are not Sentinel flags`);
  }
  return new Set(value.split(","));
}

/** `SENTINEL master <name>`. */
export function masterInfo(reply: Reply): MasterInfo {
  const what = "SENTINEL master";
  const fields = fieldRecord(reply, what);
  return {
    address: address(fields, what),
    flags: flags(fields, what),
    epoch: count(fields, "config-epoch", what, 0),
    quorum: count(fields, "quorum", what, 1),
    otherSentinels: count(fields, "num-other-sentinels", what, null),
    lastOkPingMs: count(fields, "last-ok-ping-reply", what, null),
    downAfterMs: count(fields, "down-after-milliseconds", what, null),
  };
}

/** `SENTINEL replicas <name>` (engine/consensus.ts `ListedReplica`): every entry valid, or the whole answer is refused. */
export function listedReplicas(reply: Reply): ListedReplica[] {
  const what = "SENTINEL replicas";
  if (!Array.isArray(reply)) throw new InvalidReplyError(what, `not a list (${describe(reply)})`);
  return reply.map((entry) => {
    const fields = fieldRecord(entry, what);
    return {
      address: address(fields, what),
      flags: flags(fields, what),
      linkUp: fields["master-link-status"] === "ok",
    };
  });
}

/** `SENTINEL sentinels <name>`: the other sentinels' addresses. */
export function sentinelAddresses(reply: Reply): Address[] {
  const what = "SENTINEL sentinels";
  if (!Array.isArray(reply)) throw new InvalidReplyError(what, `not a list (${describe(reply)})`);
  return reply.map((entry) => address(fieldRecord(entry, what), what));
}

/** `SENTINEL get-master-addr-by-name <name>` (a null reply, "unknown master", is the caller's to handle). */
export function masterAddress(reply: Reply): Address {
  const what = "SENTINEL get-master-addr-by-name";
  if (!Array.isArray(reply) || reply.length !== 2)
    throw new InvalidReplyError(what, `not [ip, port] (${describe(reply)})`);
  const address = addressOf(reply[0], reply[1]);
  if (!address) throw new InvalidReplyError(what, `${describe(reply)} is not an address`);
  return address;
}

/** The address in a reply to `SENTINEL get-master-addr-by-name` (null reply: handled by callers), or null if malformed. */
export function masterAddrReply(reply: Reply): Address | null {
  try {
    return masterAddress(reply);
  } catch {
    return null;
  }
}

/** A short printable form of a reply for messages (never a whole 1 MiB string). */
export function describe(reply: unknown): string {
  if (reply instanceof Error) return `error ${clip(reply.message)}`;
  if (Buffer.isBuffer(reply)) return `${reply.length} bytes`;
  if (Array.isArray(reply) && reply.length > 16) return `an array of ${reply.length} elements`;
  return clip(JSON.stringify(reply) ?? String(reply));
}

function clip(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
