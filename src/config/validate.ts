/**
 * The config's validation: the few zod building blocks the schemas use (config-schema.ts,
 * listen-config.ts, tls.ts, security-config.ts), with zod's names, rules and English messages, in
 * our own few functions. Reading a config with zod (even zod/mini) cost an idle tunnel ~3 MiB of RSS
 * (~1 anonymous) for a job done once at start (bench/footprint.ts).
 *
 * zod's rules kept (on 180,000 generated configs, good and bad, the same config or the same problems
 * in the same order as zod 4; test/unit/config-validate.test.ts has each rule): every problem is
 * collected, not only the first; a wrong type is fatal for its value (its checks, a pipe's next step
 * and an object's refinement then do not run) except for length checks, which run on anything with a
 * length; a failed check is not fatal, but a whole-number check is; a schema's `{ error }` words its
 * checks' and its unknown keys' problems too; an absent key takes its default or stays absent when
 * optional; a union takes the first option that succeeds, else the one option that failed without a
 * fatal problem, else says its own message; a strict object names unknown keys without stopping a pipe.
 */

/** One problem: where (relative to the value validated), what to say, whether it is fatal for the value. */
export interface Issue {
  path: PropertyKey[];
  message: string;
  fatal: boolean;
  /** A strict object's unknown keys: not fatal, and a pipe goes on past it (as zod's `unrecognized_keys`). */
  unknownKeys?: boolean;
  /** Not a whole number: not even a length check runs after it (zod's `continue: false`). */
  stop?: boolean;
}

interface Result<T> {
  value: T;
  issues: Issue[];
}

type Params = string | { error: string };
const own = (params: Params | undefined) =>
  params === undefined ? undefined : typeof params === "string" ? params : params.error;
const said = (params: Params | undefined, fallback: string) => own(params) ?? fallback;

/**
 * Says a check's problem: its own message, else the schema's (`z.string({ error })` words its checks'
 * problems too, as in zod), else zod's English `fallback`.
 */
type Say = (message: string | undefined, fallback: string, fatal?: boolean, path?: PropertyKey[]) => void;

/** A check run on a value of the right type; says its problems, if any. */
export interface Check<T> {
  run(value: T, say: Say): void;
  /**
   * A length check: it runs on anything with a length, even a value of the wrong type (zod's `when`),
   * so `[]` given for a non-empty string is said twice, wrong type and too short, as zod says it.
   */
  length?: true;
}

export class Schema<T> {
  readonly checks: Check<T>[] = [];
  constructor(
    readonly parseValue: (input: unknown) => Result<T>,
    /** Accepts an absent value (optional, default): its key may be left out of an object. */
    readonly optional = false,
    /** The schema's own message (`{ error }`), also for its checks' problems. */
    readonly error?: string,
  ) {}

  /** The schema with `checks` run after it (when its value has no fatal problem), in order. */
  check(...checks: Check<T>[]): Schema<T> {
    const next = new Schema(this.parseValue, this.optional, this.error);
    next.checks.push(...this.checks, ...checks);
    return next;
  }

  run(input: unknown): Result<T> {
    const result = this.parseValue(input);
    const say: Say = (message, fallback, fatal = false, path = []) =>
      void result.issues.push({
        path,
        message: message ?? this.error ?? fallback,
        fatal,
        ...(fatal ? { stop: true } : {}),
      });
    for (const check of this.checks) {
      const value = result.value as { length?: unknown } | null | undefined;
      const runs = check.length
        ? value != null && value.length !== undefined && !result.issues.some((i) => i.stop)
        : !result.issues.some((i) => i.fatal);
      if (runs) check.run(result.value, say);
    }
    return result;
  }

  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: Issue[] } } {
    const { value, issues } = this.run(input);
    return issues.length ? { success: false, error: { issues } } : { success: true, data: value };
  }
}

export type Output<S> = S extends Schema<infer T> ? T : never;

const ok = <T>(value: T): Result<T> => ({ value, issues: [] });
const wrong = <T>(value: unknown, message: string): Result<T> => ({
  value: value as T,
  issues: [{ path: [], message, fatal: true }],
});
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const within = (key: PropertyKey, issues: Issue[]) => issues.map((i) => ({ ...i, path: [key, ...i.path] }));

/** Returned by a failing `transform` (its value is never used). */
export const NEVER = undefined as never;

export function string(params?: Params): Schema<string> {
  const message = said(params, "Invalid input: expected string");
  return new Schema((v) => (typeof v === "string" ? ok(v) : wrong(v, message)), false, own(params));
}

export function number(params?: Params): Schema<number> {
  const message = said(params, "Invalid input: expected number");
  const check = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? ok(v) : wrong<number>(v, message));
  return new Schema(check, false, own(params));
}

export function boolean(params?: Params): Schema<boolean> {
  const message = said(params, "Invalid input: expected boolean");
  return new Schema((v) => (typeof v === "boolean" ? ok(v) : wrong(v, message)));
}

function enumOf<const T extends readonly string[]>(values: T, params?: Params): Schema<T[number]> {
  const message = said(params, `Invalid option: expected one of ${values.map((v) => JSON.stringify(v)).join("|")}`);
  return new Schema((v) => (values.includes(v as string) ? ok(v as T[number]) : wrong(v, message)));
}
export { enumOf as enum };

/** A whole number within the safe range (fatal when not whole, as zod's `int`). */
export function int(params?: Params): Check<number> {
  return {
    run(value, say) {
      if (!Number.isInteger(value)) say(own(params), "Invalid input: expected int", true);
      else if (value > Number.MAX_SAFE_INTEGER)
        say(own(params), `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`);
      else if (value < Number.MIN_SAFE_INTEGER)
        say(own(params), `Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`);
    },
  };
}

export function minimum(min: number, params?: Params): Check<number> {
  return { run: (v, say) => void (v < min && say(own(params), `Too small: expected number to be >=${min}`)) };
}

export function maximum(max: number, params?: Params): Check<number> {
  return { run: (v, say) => void (v > max && say(own(params), `Too big: expected number to be <=${max}`)) };
}

/** At least `min` characters (a string) or elements (an array). */
export function minLength<T extends string | unknown[]>(min: number, params?: Params): Check<T> {
  return {
    length: true,
    run(v, say) {
      if (v.length >= min) return;
      const what = typeof v === "string" ? `string to have >=${min} characters` : `array to have >=${min} items`;
      say(own(params), `Too small: expected ${what}`);
    },
  };
}

export function regex(pattern: RegExp, params?: Params): Check<string> {
  return {
    run: (v, say) => void (!pattern.test(v) && say(own(params), `Invalid string: must match pattern ${pattern}`)),
  };
}

/** A check that may say several problems, each with its own path: `ctx.addIssue({ code, path, message })`. */
export function superRefine<T>(
  fn: (value: T, ctx: { addIssue(issue: { code: "custom"; path?: PropertyKey[]; message: string }): void }) => void,
): Check<T> {
  return { run: (v, say) => fn(v, { addIssue: ({ path = [], message }) => say(message, message, false, path) }) };
}

export function array<S extends Schema<unknown>>(element: S, params?: Params): Schema<Output<S>[]> {
  const message = said(params, "Invalid input: expected array");
  return new Schema<Output<S>[]>(
    (v) => {
      if (!Array.isArray(v)) return wrong(v, message);
      const out: Result<Output<S>[]> = ok([]);
      v.forEach((item, i) => {
        const r = element.run(item);
        out.issues.push(...within(i, r.issues));
        out.value[i] = r.value as Output<S>;
      });
      return out;
    },
    false,
    own(params),
  );
}

type Shape = Record<string, Schema<unknown>>;
type ObjectOut<S extends Shape> = { [K in keyof S]: Output<S[K]> };

function objectOf<S extends Shape>(shape: S, strict: boolean, params?: Params): Schema<ObjectOut<S>> {
  const message = said(params, "Invalid input: expected object");
  return new Schema(
    (v) => {
      if (!isObject(v)) return wrong(v, message);
      const out: Result<Record<string, unknown>> = ok({});
      for (const [key, schema] of Object.entries(shape)) {
        const present = key in v;
        const r = schema.run(v[key]);
        out.issues.push(...within(key, r.issues));
        if (r.value !== undefined || present) out.value[key] = r.value;
      }
      if (strict) {
        const unknown = Object.keys(v).filter((key) => !(key in shape));
        if (unknown.length) {
          const keys = unknown.map((k) => JSON.stringify(k)).join(", ");
          out.issues.push({
            path: [],
            message: own(params) ?? `Unrecognized key${unknown.length > 1 ? "s" : ""}: ${keys}`,
            fatal: false,
            unknownKeys: true,
          });
        }
      }
      return out as Result<ObjectOut<S>>;
    },
    false,
    own(params),
  );
}

/** Known keys validated, others dropped. */
export function object<S extends Shape>(shape: S, params?: Params): Schema<ObjectOut<S>> {
  return objectOf(shape, false, params);
}

/** Known keys validated, others a problem. */
export function strictObject<S extends Shape>(shape: S, params?: Params): Schema<ObjectOut<S>> {
  return objectOf(shape, true, params);
}

/** `{ key: value }` with any string keys. */
export function record<V extends Schema<unknown>>(
  _keys: Schema<string>,
  value: V,
  params?: Params,
): Schema<Record<string, Output<V>>> {
  const message = said(params, "Invalid input: expected record");
  return new Schema(
    (v) => {
      if (!isObject(v) || Object.getPrototypeOf(v) !== Object.prototype) return wrong(v, message);
      const out: Result<Record<string, Output<V>>> = ok({});
      for (const key of Object.keys(v)) {
        const r = value.run(v[key]);
        out.issues.push(...within(key, r.issues));
        out.value[key] = r.value as Output<V>;
      }
      return out;
    },
    false,
    own(params),
  );
}

export function union<const S extends readonly Schema<unknown>[]>(
  options: S,
  params?: Params,
): Schema<Output<S[number]>> {
  const message = said(params, "Invalid input");
  return new Schema((v) => {
    const results = options.map((option) => option.run(v));
    const success = results.find((r) => r.issues.length === 0);
    if (success) return success as Result<Output<S[number]>>;
    const nonFatal = results.filter((r) => !r.issues.some((i) => i.fatal));
    if (nonFatal.length === 1) return nonFatal[0] as Result<Output<S[number]>>;
    return wrong(v, message);
  });
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return new Schema((v) => (v === undefined ? ok(undefined) : inner.run(v)), true);
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return new Schema((v) => (v === null ? ok(null) : inner.run(v)), inner.optional);
}

/** `value` for an absent one (not validated, as zod's default). */
export function _default<T>(inner: Schema<T>, value: NoInfer<Exclude<T, undefined>>): Schema<Exclude<T, undefined>> {
  return new Schema((v) => (v === undefined ? ok(value) : (inner.run(v) as Result<Exclude<T, undefined>>)), true);
}

/** `second` on `first`'s value, unless `first` had a problem (other than a strict object's unknown keys). */
export function pipe<A, B>(first: Schema<A>, second: Schema<B>): Schema<B> {
  return new Schema((v) => {
    const a = first.run(v);
    if (a.issues.some((i) => !i.unknownKeys)) return a as unknown as Result<B>;
    const b = second.run(a.value);
    return { value: b.value, issues: [...a.issues, ...b.issues] };
  }, first.optional);
}

/** Say a problem from inside `transform`; `path` is relative to the value converted. */
export type Fail = (message: string, path?: PropertyKey[]) => void;

/** Converts a value; `fail` says a problem (at a path relative to the value), which is fatal. */
export function transform<I, O>(fn: (value: I, fail: Fail) => O): Schema<O> {
  return new Schema((v) => {
    const issues: Issue[] = [];
    const value = fn(v as I, (message, path = []) => void issues.push({ path, message, fatal: true }));
    return { value, issues };
  });
}
