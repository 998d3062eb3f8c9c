/**
 * `sentinel-tunnel check`: for each database, ask every configured sentinel where the master is
 * (with latency), judge the answers as the tunnel does (engine/consensus.ts: a majority, at least
 * the quorum), verify the master they back with ROLE, and report a table and a verdict.
 * Opens no listener; usable as a CI step or a container readiness probe. With an `addressMap`,
 * ROLE is asked where the map sends the master, and a MAPPED column shows where that is.
 */
import { formatAddress, parseAddress, type Address } from "../core/address.ts";
import type { Config } from "../config/config.ts";
import { redisConnectOptions, sentinelConnectOptions, type HopOptions, type RedisHopOptions } from "../net/hops.ts";
import { RespClient } from "../net/resp-client.ts";
import { connectVerified } from "../upstream/resolver.ts";
import { masterAddrReply, masterInfo } from "../discovery/sentinel-replies.ts";
import { judge, type SentinelView } from "../engine/consensus.ts";
import { learnFrom } from "../engine/peers.ts";
import { lacksSentinelMaster, monitorsNot, UNKNOWN_MASTER } from "../engine/sentinel-answers.ts";
import { Sentinels } from "../discovery/sentinel.ts";
import { silentLogger } from "./log.ts";
import { ReplyError } from "redis-errors";
import { MasterNotVerifiedError } from "../core/errors.ts";
import { reach } from "../config/address-map.ts";
import { minReplicasWarning, readMinReplicas } from "./min-replicas.ts";

/** One sentinel's answer to `check` (`SENTINEL master`, else get-master-addr-by-name) and how long it took. */
export interface CheckAnswer {
  sentinel: string;
  /** `host:port`, or null with `error` set. */
  master: string | null;
  error?: string;
  ms: number;
}

export interface DatabaseCheck {
  name: string;
  answers: CheckAnswer[];
  /** The address the sentinels back as the tunnel judges them (engine/consensus.ts `judge`), or null. */
  master: string | null;
  /** Where the address map sends `master` (null: no entry matches it, or no master). */
  mapped: string | null;
  /** What ROLE said on that address ("master", "slave", or why it could not be asked). */
  role: string;
  ok: boolean;
  verdict: string;
  /** What does not fail the check but bounds what a failover can lose (min-replicas-to-write 0). */
  warnings: string[];
}

export interface CheckReport {
  ok: boolean;
  /** An address map is configured: the table has a MAPPED column. */
  mapping: boolean;
  databases: DatabaseCheck[];
}

/** One sentinel's answer, and its view as the engine judges it (null: no answer). */
interface Asked {
  answer: CheckAnswer;
  view: SentinelView | null;
}

/**
 * What one sentinel says of master `name`, as the poller asks it: `SENTINEL master` (address, flags,
 * config-epoch, quorum); a sentinel that answers that with an error reply (a discovery service
 * without the command, or a name it does not monitor) is asked `get-master-addr-by-name` instead.
 */
async function ask(label: string, sentinel: Address, name: string, timeoutMs: number, hop: HopOptions): Promise<Asked> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  const failed = (error: string): Asked => ({ answer: { sentinel: label, master: null, error, ms: ms() }, view: null });
  let client: RespClient | null = null;
  try {
    client = await RespClient.connect(sentinel, timeoutMs, hop);
    let view: SentinelView;
    try {
      const info = masterInfo(await client.command(["SENTINEL", "master", name], timeoutMs));
      view = { sentinel: label, address: info.address, flags: info.flags, epoch: info.epoch, quorum: info.quorum };
    } catch (error) {
      // The poller's rule (engine/sentinel-answers.ts): only a sentinel without the command is asked the address alone.
      if (error instanceof ReplyError && monitorsNot(error.message)) return failed(UNKNOWN_MASTER);
      if (!(error instanceof ReplyError) || !lacksSentinelMaster(error.message)) throw error;
      const reply = await client.command(["SENTINEL", "get-master-addr-by-name", name], timeoutMs);
      if (reply === null) return failed(UNKNOWN_MASTER);
      const address = masterAddrReply(reply);
      if (!address) return failed(`unexpected reply ${JSON.stringify(reply)}`);
      view = { sentinel: label, address, flags: new Set(), epoch: 0, limited: true };
    }
    return { answer: { sentinel: label, master: formatAddress(view.address), ms: ms() }, view };
  } catch (error) {
    return failed((error as Error).message);
  } finally {
    client?.destroy("check done");
  }
}

async function role(address: string, timeoutMs: number, hop: RedisHopOptions): Promise<string> {
  try {
    const socket = await connectVerified(parseAddress(address)!, timeoutMs, "master", hop);
    socket.terminate();
    return "master";
  } catch (error) {
    if (!(error instanceof MasterNotVerifiedError)) return (error as Error).message;
    return error.reason.replace(/^ROLE says /, "");
  }
}

/**
 * One master name: every configured sentinel asked (and those learned from them, as the tunnel
 * learns them), their views judged as the tunnel judges them
 * (engine/consensus.ts `judge`: a master a majority of the answering sentinels, and at least the
 * quorum, back at the top epoch, no failover flagged), then ROLE on it. A minority is not OK: the
 * verdict gives the reason the tunnel would refuse clients with.
 */
async function checkDatabase(config: Config, name: string): Promise<DatabaseCheck> {
  const timeoutMs = Math.max(config.sentinelTimeoutMs, 1000);
  const hop = sentinelConnectOptions(config);
  const asked = await Promise.all(config.sentinels.map((s) => ask(formatAddress(s), s, name, timeoutMs, hop)));
  asked.push(...(await askPeers(config, name, asked, timeoutMs)));
  const answers = asked.map((a) => a.answer);
  const views = asked.flatMap((a) => (a.view ? [a.view] : []));
  const fail = (verdict: string): DatabaseCheck => {
    return {
      name,
      answers,
      master: null,
      mapped: null,
      role: "-",
      ok: false,
      verdict: `FAIL: ${verdict}`,
      warnings: [],
    };
  };
  if (views.length === 0)
    return fail(
      answers.some((a) => a.error === UNKNOWN_MASTER) ? "no sentinel knows this master" : "no sentinel answered",
    );
  // A sentinel that does not monitor this master (another group's in the same list) is not one of its sentinels.
  const abstained = answers.flatMap((a) => (a.error === UNKNOWN_MASTER ? [a.sentinel] : []));
  const errors = answers.flatMap((a) => (a.error && a.error !== UNKNOWN_MASTER ? [`${a.sentinel}: ${a.error}`] : []));
  const verdict = judge(views, errors, answers.length - abstained.length, abstained);
  if (verdict.kind === "failover") return fail(`failover in progress: ${verdict.reason}`);
  if (verdict.kind !== "master") return fail(verdict.reason);
  const master = formatAddress(verdict.address);
  const mapped = mappedTo(config, master);
  const said = await role(master, Math.max(config.connectTimeoutMs, 1000), redisConnectOptions(config));
  if (said !== "master") {
    return {
      name,
      answers,
      master,
      mapped,
      role: said,
      ok: false,
      verdict: `FAIL: sentinels name ${master} but it is not a master`,
      warnings: [],
    };
  }
  const setting = await readMinReplicas(verdict.address, timeoutMs, redisConnectOptions(config));
  const warning = minReplicasWarning(master, setting);
  const dissent = answers.length - verdict.backers;
  const ok = dissent > 0 ? `OK (${dissent} of ${answers.length} sentinel(s) disagree or did not answer)` : "OK";
  return { name, answers, master, mapped, role: said, ok: true, verdict: ok, warnings: warning ? [warning] : [] };
}

/**
 * The other sentinels the tunnel would learn (discovery/sentinel-peers.ts, by the engine's rule
 * engine/peers.ts): from the first configured sentinel that names a master the configured majority
 * backs, the sentinels it reports (bounded); each asked like the configured ones, through the
 * address map, its row marked `(learned)`.
 */
async function askPeers(config: Config, name: string, asked: Asked[], timeoutMs: number): Promise<Asked[]> {
  const first = asked.findIndex((a) => a.view !== null);
  if (first < 0) return [];
  const options = { timeoutMs, log: silentLogger(), connect: sentinelConnectOptions(config), learnFrom };
  const sentinels = new Sentinels(config.sentinels, options);
  try {
    const from = config.sentinels[first]!;
    const learned = await sentinels.learn(name, from, asked[first]!.view!.address).catch(() => []);
    return await Promise.all(
      learned.map((label) => {
        const to = sentinels.connectTarget(parseAddress(label)!);
        return ask(`${label} (learned)`, to.address, name, timeoutMs, to.options);
      }),
    );
  } finally {
    sentinels.close();
  }
}

/** Where the address map sends `master` (null: no entry matches it). */
function mappedTo(config: Config, master: string): string | null {
  const reached = reach(config.addressMap, parseAddress(master)!);
  return reached.mapped ? formatAddress(reached.address) : null;
}

/** Ask every sentinel about every database; never throws for a dead deployment (that is a FAIL row). */
export async function runCheck(config: Config): Promise<CheckReport> {
  // One row per master name: a master port and a replica port of the same name are one check.
  const names = [...new Set(config.databases.map((db) => db.name))];
  const databases = await Promise.all(names.map((name) => checkDatabase(config, name)));
  return { ok: databases.every((d) => d.ok), mapping: (config.addressMap?.entries.length ?? 0) > 0, databases };
}

/**
 * The report as a text table: one row per database and sentinel; master, ROLE and verdict on the
 * first. With an address map, MAPPED says where the master is reached (`as announced`: no entry).
 */
export function formatCheck(report: CheckReport): string {
  const mappedCell = (db: DatabaseCheck) => (report.mapping ? [db.mapped ?? (db.master ? "as announced" : "-")] : []);
  const mappedHeader = report.mapping ? ["MAPPED"] : [];
  const rows: string[][] = [
    ["DATABASE", "SENTINEL", "ANSWER", "LATENCY", "MASTER", ...mappedHeader, "ROLE", "VERDICT"],
  ];
  for (const db of report.databases) {
    db.answers.forEach((a, i) => {
      const first = i === 0;
      const master = first ? [db.master ?? "-", ...mappedCell(db)] : ["", ...(report.mapping ? [""] : [])];
      const answer = a.master ?? `error: ${a.error}`;
      rows.push([
        first ? db.name : "",
        a.sentinel,
        answer,
        `${a.ms} ms`,
        ...master,
        first ? db.role : "",
        first ? db.verdict : "",
      ]);
    });
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
  const failed = report.databases.filter((d) => !d.ok).length;
  for (const db of report.databases) for (const warning of db.warnings) lines.push("", `WARN ${db.name}: ${warning}`);
  lines.push(
    "",
    report.ok
      ? `all ${report.databases.length} database(s) have a verified master`
      : `${failed} of ${report.databases.length} database(s) have no verified master`,
  );
  return lines.join("\n") + "\n";
}
