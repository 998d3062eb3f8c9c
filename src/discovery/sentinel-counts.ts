/**
 * Counting what the tunnel sends to each sentinel (the fleet cost the bench and the metrics
 * report): queries, and what the event connections send. A sentinel no longer listed is folded
 * into `other`, so the map stays bounded however many peers come and go.
 */

/** The label of commands sent to sentinels no longer listed. */
export const OTHER = "other";

export class CommandCounts {
  /** Queries sent to sentinels so far (all kinds). */
  queries = 0;
  /** Commands sent per sentinel (`host:port`), and `other`. */
  readonly commands = new Map<string, number>();

  /** Count `n` commands sent to `label`. */
  sent(label: string, n = 1): void {
    this.commands.set(label, (this.commands.get(label) ?? 0) + n);
  }

  /** Counts of sentinels not in `listed` go to `other`. */
  fold(listed: ReadonlySet<string>): void {
    for (const [label, n] of [...this.commands]) {
      if (label === OTHER || listed.has(label)) continue;
      this.commands.delete(label);
      this.commands.set(OTHER, (this.commands.get(OTHER) ?? 0) + n);
    }
  }
}
