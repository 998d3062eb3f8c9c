/**
 * RESP on the wire: encode commands, read replies.
 *
 * Writing a command is a few lines of framing; reading replies is delegated to
 * redis-parser (the NodeRedis parser), so nothing in this project parses RESP by hand.
 * What a peer may make us hold is bounded (`ReplyLimits`): the bytes buffered before a reply
 * completes (redis-parser keeps a bulk string until its last byte), and a reply's elements and
 * nesting; past a bound, or on bytes the parser chokes on, the reader stops for good.
 */
import Parser from "redis-parser";
import type { ReplyError } from "redis-errors";
import { ReplyLimitError, type ReplyLimits } from "./reply-limits.ts";

export type Reply = string | number | null | ReplyError | Reply[] | Buffer;

/** Encode one command as a RESP array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | number | Uint8Array>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const body = typeof arg === "string" || typeof arg === "number" ? Buffer.from(String(arg)) : Buffer.from(arg);
    parts.push(Buffer.from(`$${body.length}\r\n`), body, CRLF);
  }
  return Buffer.concat(parts);
}
const CRLF = Buffer.from("\r\n");

/** A RESP error reply line for a client (`-ERR ...`), with CR/LF stripped from the message. */
export function errorReply(message: string): Buffer {
  return Buffer.from(`-${message.replace(/[\r\n]+/g, " ")}\r\n`);
}

export interface ReplyHandlers {
  /** A reply (error replies arrive here too, as ReplyError values, in order). */
  onReply(reply: Reply): void;
  /**
   * The byte stream is not RESP, or a reply is over the reader's limits (a ReplyLimitError): the
   * connection cannot be trusted any more. Called once; the reader ignores what follows.
   */
  onProtocolError(error: Error): void;
}

/** Feed bytes in, get whole replies out, in order; within `limits` when given. */
export class ReplyReader {
  readonly #parser: Parser;
  readonly #handlers: ReplyHandlers;
  readonly #limits: ReplyLimits | null;
  /** Bytes fed since a reply last completed (what the parser may be holding). */
  #pending = 0;
  #completed = false;
  #failed = false;
  constructor(handlers: ReplyHandlers, options: { returnBuffers?: boolean; limits?: ReplyLimits } = {}) {
    this.#handlers = handlers;
    this.#limits = options.limits ?? null;
    this.#parser = new Parser({
      returnReply: (reply) => this.#reply(reply as Reply),
      returnError: (error) => this.#reply(error),
      returnFatalError: (error) => this.#fail(error),
      returnBuffers: options.returnBuffers ?? false,
    });
  }
  feed(chunk: Buffer | Uint8Array): void {
    if (this.#failed) return;
    const limits = this.#limits;
    if (limits && this.#pending + chunk.length > limits.maxBytes) {
      return this.#fail(new ReplyLimitError(`a reply over ${limits.maxBytes} bytes`, "too-large"));
    }
    this.#completed = false;
    try {
      this.#parser.execute(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
    } catch (error) {
      // redis-parser recurses per nesting level and sizes arrays from their header: garbage can throw.
      return this.#fail(
        new ReplyLimitError(`a reply the parser cannot take (${(error as Error).message})`, "malformed"),
      );
    }
    this.#pending = this.#completed ? 0 : this.#pending + chunk.length;
  }

  #reply(reply: Reply): void {
    if (this.#failed) return;
    this.#completed = true;
    const limits = this.#limits;
    const over = limits && Array.isArray(reply) ? overLimits(reply, limits) : null;
    if (over) return this.#fail(new ReplyLimitError(over, "too-large"));
    this.#handlers.onReply(reply);
  }

  #fail(error: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#handlers.onProtocolError(error);
  }
}

/** Why `reply` is over `limits` (elements in all, or nesting), or null; stops counting at the first excess. */
function overLimits(reply: Reply[], limits: ReplyLimits): string | null {
  let elements = 0;
  const stack: [Reply[], number][] = [[reply, 1]];
  while (stack.length > 0) {
    const [array, depth] = stack.pop()!;
    if (depth > limits.maxDepth) return `a reply nested deeper than ${limits.maxDepth} levels`;
    elements += array.length;
    if (elements > limits.maxElements) return `a reply of more than ${limits.maxElements} elements`;
    for (const item of array) if (Array.isArray(item)) stack.push([item, depth + 1]);
  }
  return null;
}

/** `["role", "master", ...]`-style flat arrays of field/value pairs into an object. */
export function pairsToRecord(reply: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}
