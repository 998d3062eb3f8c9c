// Minimal typings for the two small CommonJS packages we use from the NodeRedis project.
declare module "redis-errors" {
  export class RedisError extends Error {}
  export class ParserError extends RedisError {
    buffer: string;
    offset: number;
  }
  export class ReplyError extends RedisError {}
  export class AbortError extends RedisError {}
  export class InterruptError extends AbortError {}
}

declare module "redis-parser" {
  import type { ReplyError, ParserError } from "redis-errors";
  interface ParserOptions {
    returnReply(reply: unknown): void;
    returnError(error: ReplyError): void;
    returnFatalError?(error: ParserError): void;
    returnBuffers?: boolean;
    stringNumbers?: boolean;
  }
  export default class Parser {
    constructor(options: ParserOptions);
    execute(buffer: Buffer): void;
    reset(): void;
    setReturnBuffers(returnBuffers: boolean): void;
  }
}
