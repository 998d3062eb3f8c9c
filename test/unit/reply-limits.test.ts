/**
 * ReplyReader within limits (tables): bytes buffered before a reply completes, elements, nesting,
 * and bytes the parser throws on all end the reader once, with a reason; replies within the limits
 * pass untouched, however they are split into chunks.
 */
import { describe, expect, test } from "bun:test";
import { ReplyReader, type Reply } from "../../src/net/resp.ts";
import { ReplyLimitError, type ReplyLimits } from "../../src/net/reply-limits.ts";

const LIMITS: ReplyLimits = { maxBytes: 1024, maxElements: 16, maxDepth: 3 };

function read(chunks: string[], limits: ReplyLimits = LIMITS): { replies: Reply[]; errors: Error[] } {
  const replies: Reply[] = [];
  const errors: Error[] = [];
  const reader = new ReplyReader(
    { onReply: (r) => replies.push(r), onProtocolError: (e) => errors.push(e) },
    { limits },
  );
  for (const chunk of chunks) reader.feed(Buffer.from(chunk));
  return { replies, errors };
}

describe("reply limits", () => {
  test("within the limits: replies pass, byte by byte too, and the byte count starts over after each reply", () => {
    const text = "*2\r\n$3\r\nfoo\r\n:7\r\n+OK\r\n";
    expect(read([text]).replies).toEqual([["foo", 7], "OK"]);
    expect(read([...text]).replies).toEqual([["foo", 7], "OK"]);
    const many = Array.from({ length: 10 }, () => `$1000\r\n${"x".repeat(1000)}\r\n`);
    expect(read(many).replies).toHaveLength(10); // 10 KB in all, each reply under 1 KiB
  });

  test("over a limit, or garbage the parser throws on: one error, then nothing (table)", () => {
    const cases: [string[], RegExp, ReplyLimitError["kind"] | "parser"][] = [
      [["$2000000000\r\n", "x".repeat(600), "x".repeat(600)], /a reply over 1024 bytes/, "too-large"],
      [["+" + "x".repeat(2000)], /a reply over 1024 bytes/, "too-large"],
      [[`*17\r\n${":1\r\n".repeat(17)}`], /more than 16 elements/, "too-large"],
      [["*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"], /nested deeper than 3 levels/, "too-large"],
      [["*1\r\n".repeat(200_000) + ":1\r\n"], /a reply the parser cannot take/, "malformed"],
      [["!what\r\n"], /Protocol error/, "parser"],
    ];
    for (const [chunks, message, kind] of cases) {
      const limits = kind === "malformed" ? { ...LIMITS, maxBytes: 4 << 20 } : LIMITS;
      const { replies, errors } = read([...chunks, "+after\r\n"], limits);
      expect([chunks[0]!.slice(0, 20), replies.length, errors.length]).toEqual([chunks[0]!.slice(0, 20), 0, 1]);
      expect(errors[0]!.message).toMatch(message);
      if (kind !== "parser") expect((errors[0] as ReplyLimitError).kind).toBe(kind);
    }
  });
});
