/**
 * config/validate.ts: zod's rules, each as zod 4 applies them (the config's messages depend on them;
 * compared with zod itself on 180,000 generated configs when it replaced it).
 */
import { describe, expect, test } from "bun:test";
import * as z from "../../src/config/validate.ts";

const problems = (schema: z.Schema<unknown>, input: unknown) =>
  schema.run(input).issues.map((i) => `${i.path.join(".")}: ${i.message}`);

describe("validate (zod's rules)", () => {
  test("every problem is said, in the schema's order, at its path", () => {
    const schema = z.object({ a: z.string({ error: "A" }), b: z.array(z.number({ error: "N" }), { error: "B" }) });
    expect(problems(schema, { a: 1, b: [1, "x", 2, null] })).toEqual(["a: A", "b.1: N", "b.3: N"]);
    expect(problems(schema, { b: [] })).toEqual(["a: A"]);
  }, 1000);

  test("a wrong type stops its checks, except length checks; a failed check does not stop the next", () => {
    const millis = z.number({ error: "T" }).check(z.int("W"), z.minimum(10, "MIN"), z.maximum(20, "MAX"));
    expect(problems(millis, "5")).toEqual([": T"]);
    expect(problems(millis, 1.5)).toEqual([": W"]); // not whole: nothing after it
    expect(problems(millis, 1e20)).toEqual([": W", ": MAX"]); // whole but past the safe range: the next checks run
    const path = z.nullable(z.string({ error: "P" }).check(z.minLength(1)));
    expect(problems(path, [])).toEqual([": P", ": P"]); // [] has a length: too short as well, worded by the schema
    expect(problems(path, 5)).toEqual([": P"]);
    expect(problems(z.string().check(z.minLength(1)), "")).toEqual([
      ": Too small: expected string to have >=1 characters",
    ]);
    expect(problems(z.string({ error: "S" }).check(z.regex(/^a$/, "R")), 5)).toEqual([": S"]);
  }, 1000);

  test("absent keys: a default is used as is, an optional key stays absent, a required one is said", () => {
    const schema = z.object({ d: z._default(z.number(), 7), o: z.optional(z.string()), r: z.string({ error: "R" }) });
    const { value, issues } = schema.run({ r: "x", extra: 1 });
    expect(issues).toEqual([]);
    expect(value as object).toEqual({ d: 7, r: "x" });
    expect("o" in value).toBe(false);
    expect(problems(schema, {})).toEqual(["r: R"]);
  }, 1000);

  test("a strict object says its unknown keys (in its own words when it has them) and a pipe goes on past them", () => {
    expect(problems(z.strictObject({ a: z.optional(z.string()) }), { x: 1, y: 2 })).toEqual([
      ': Unrecognized keys: "x", "y"',
    ]);
    expect(problems(z.strictObject({}, { error: "O" }), { x: 1 })).toEqual([": O"]);
    const piped = z.pipe(
      z.strictObject({ a: z.optional(z.string()) }),
      z.transform((_v, fail) => fail("after")),
    );
    expect(problems(piped, { x: 1 })).toEqual([': Unrecognized key: "x"', ": after"]);
    const stopped = z.pipe(
      z.string({ error: "S" }),
      z.transform((_v, fail) => fail("never")),
    );
    expect(problems(stopped, 1)).toEqual([": S"]);
  }, 1000);

  test("a union: the first option that succeeds, else the only one without a fatal problem, else its own message", () => {
    const tls = z.union([z.boolean(), z.strictObject({ f: z.optional(z.string().check(z.minLength(1, "EMPTY"))) })], {
      error: "U",
    });
    expect(tls.run(true).value).toBe(true);
    expect(problems(tls, { f: "" })).toEqual(["f: EMPTY"]); // the object failed a check only: its problems
    expect(problems(tls, { f: 5 })).toEqual([": U"]); // a wrong type inside: the union's message
    expect(problems(tls, "x")).toEqual([": U"]);
  }, 1000);

  test("an object's refinement runs only when no field had a fatal problem", () => {
    const refined = z
      .object({ a: z.number({ error: "N" }).check(z.minimum(5, "SMALL")) })
      .check(z.superRefine((v, ctx) => ctx.addIssue({ code: "custom", path: ["a"], message: `seen ${v.a}` })));
    expect(problems(refined, { a: 1 })).toEqual(["a: SMALL", "a: seen 1"]);
    expect(problems(refined, { a: "1" })).toEqual(["a: N"]);
  }, 1000);
});
