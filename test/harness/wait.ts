/** Moved to src/ops/wait.ts (the demo waits on conditions too); re-exported for the fixtures. */
export * from "../../src/core/wait.ts";
