/**
 * Footprint probe: the pipe of pipe.ts in a process that also loads (and touches, so nothing is left
 * out of the bundle) the design card's libraries — commander, `consola/core`, redis-parser,
 * redis-errors. What the tunnel's footprint is judged against (issue 23: ≤ 1.15× its idle RSS).
 */
import { Command } from "commander";
import { createConsola } from "consola/core";
import Parser from "redis-parser";
import { ReplyError } from "redis-errors";
import { pipe } from "./pipe.ts";

const opts = new Command("probe").argument("<listen>").argument("<upstream>").parse(process.argv);
const log = createConsola({ reporters: [{ log: () => {} }] });
const parser = new Parser({ returnReply: () => {}, returnError: () => {} });
parser.execute(Buffer.from("+OK\r\n"));
log.debug(new ReplyError("probe").name);
pipe(Number(opts.args[0]), Number(opts.args[1]));
