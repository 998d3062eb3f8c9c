/**
 * How the status names and measures things, shared by the `status` command (command.ts) and the
 * status page (page.js): journal and failover step names, durations, byte rates.
 *
 * page.ts sends these functions' own source to the browser in place of page.js's import, so each
 * one is self-contained: it reads only its parameters and JavaScript's built-ins (no other
 * function or constant of this module). test/unit/page-script.test.ts runs them as the page does.
 */

/** A journal or failover step as people read it (`first-client` → first client through). */
export function stepName(kind: string): string {
  const names: Readonly<Record<string, string>> = {
    fence: "fence",
    promotion: "promotion seen",
    switch: "switch",
    closed: "sessions closed",
    "first-client": "first client through",
    lift: "fence lifted",
    lost: "master lost",
    "fence-timeout": "fence timeout",
    busy: "master busy",
    answering: "master answers",
    start: "first master",
    refused: "clients refused",
    note: "note",
  };
  return names[kind] ?? kind;
}

/** `850 ms`, `12.5 s`, `3 min 20 s`, `2 h 5 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}

/** Bytes per second as `512 B/s`, `12.3 kB/s`, `4.5 MB/s`; `none` when there is no figure yet. */
export function rate(perSecond: number | null | undefined, none = "-"): string {
  if (perSecond === null || perSecond === undefined) return none;
  if (perSecond < 1000) return `${Math.round(perSecond)} B/s`;
  if (perSecond < 1e6) return `${(perSecond / 1e3).toFixed(1)} kB/s`;
  return `${(perSecond / 1e6).toFixed(1)} MB/s`;
}
