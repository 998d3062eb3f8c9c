/** Moved to src/wait.ts (the demo waits on conditions too); re-exported for the fixtures. */
export * from "../../src/wait.ts";
