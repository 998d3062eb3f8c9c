/**
 * RESP on the wire: encode commands, read replies.
 *
 * Writing a command is a few lines of framing; reading replies is delegated to
 * redis-parser (the NodeRedis parser), so nothing in this project parses RESP by hand.
 */
import Parser from "redis-parser";
import type { ParserError, ReplyError } from "redis-errors";

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
  /** The byte stream is not RESP: the connection cannot be trusted any more. */
  onProtocolError(error: ParserError): void;
}

/** Feed bytes in, get whole replies out, in order. */
export class ReplyReader {
  readonly #parser: Parser;
  constructor(handlers: ReplyHandlers, options: { returnBuffers?: boolean } = {}) {
    this.#parser = new Parser({
      returnReply: (reply) => handlers.onReply(reply as Reply),
      returnError: (error) => handlers.onReply(error),
      returnFatalError: (error) => handlers.onProtocolError(error),
      returnBuffers: options.returnBuffers ?? false,
    });
  }
  feed(chunk: Buffer | Uint8Array): void {
    this.#parser.execute(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
}

/** `["role", "master", ...]`-style flat arrays of field/value pairs into an object. */
export function pairsToRecord(reply: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}
