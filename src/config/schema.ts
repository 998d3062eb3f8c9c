/**
 * The validation library for the config: zod's small build (`zod/mini`: functions
 * instead of methods; a fraction of full zod's memory in a running tunnel, measured in
 * bench/footprint.ts) with zod's English messages, and `convert`, a transform that can fail.
 */
import en from "zod/v4/locales/en.js";
import * as z from "zod/mini";

// zod/mini loads no locale by itself (its messages would all be "Invalid input"); `z.locales.en()` would
// bundle every language: English alone. Every file imports `* as z from "zod/mini"` itself and only
// reads its members, so the bundle keeps just the functions used (re-exported, the namespace would
// keep all of zod/mini, locales and JSON Schema included).
z.config(en());

/** Say a problem from inside `convert`; `path` is relative to the value converted. */
export type Fail = (message: string, path?: PropertyKey[]) => void;

/**
 * A transform that may reject its input: `fn` returns the converted value, or calls `fail` (as often
 * as there are problems) and returns anything (`z.NEVER`). zod/mini's transform has no `addIssue`.
 */
export function convert<I, O>(fn: (value: I, fail: Fail) => O) {
  return z.transform<I, O>((value, payload) =>
    fn(value, (message, path = []) => void payload.issues.push({ code: "custom", message, path, input: value })),
  );
}
