/** Moved to src/procs.ts (the demo starts Redis processes too); re-exported for the fixtures. */
export * from "../../src/procs.ts";
