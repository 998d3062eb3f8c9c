/** Moved to src/ops/procs.ts (the demo starts Redis processes too); re-exported for the fixtures. */
export * from "../../src/lab/procs.ts";
