/** What the tunnel's upstream pool looks like from the Redis side. */
import type { RedisProc } from "../harness/index.ts";

/** Connections on `server` that never sent a command (CLIENT LIST cmd=NULL): the tunnel's pooled sockets. */
export async function idleConnections(server: RedisProc): Promise<number> {
  const list = String(await server.command("CLIENT", "LIST"));
  return list.split("\n").filter((line) => / cmd=NULL( |$)/.test(line)).length;
}
