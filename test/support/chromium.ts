/**
 * Headless Chromium (the Debian package, /usr/bin/chromium) driven over the DevTools protocol on
 * Bun's own WebSocket: no npm package, nothing downloaded. `openPage(url)` gives a page to read the
 * rendered DOM from (`evaluate`), resize (`viewport`) and photograph (`screenshot`); it collects
 * console errors and Content-Security-Policy violations. Close it with `await using`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnTracked, terminate } from "../../src/lab/procs.ts";
import { withTimeout } from "../harness/index.ts";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
  "--remote-debugging-address=127.0.0.1",
  "--remote-debugging-port=0",
];

interface Reply {
  id?: number;
  method?: string;
  params?: any;
  result?: any;
  error?: { message: string };
  sessionId?: string;
}

export interface Page extends AsyncDisposable {
  /** Run `expression` in the page; its value (JSON-able) comes back. Throws what the page threw. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** CSS size of the viewport (mobile: a phone's touch and meta-viewport behaviour). */
  viewport(width: number, height: number, opts?: { mobile?: boolean; scale?: number }): Promise<void>;
  /** PNG of the whole page (`viewport`: only what the viewport shows), written to `path`. */
  screenshot(path: string, opts?: { viewport?: boolean }): Promise<void>;
  /** Console errors, failed loads and CSP violations seen so far. */
  readonly problems: string[];
}

/** Start Chromium and open `url` in a new tab. */
export async function openPage(url: string, opts: { width?: number; height?: number } = {}): Promise<Page> {
  const profile = mkdtempSync(join(tmpdir(), "st-chromium-"));
  const proc = spawnTracked([CHROMIUM, ...FLAGS, `--user-data-dir=${profile}`, "about:blank"], { stdout: "ignore" });
  const cleanup = async () => {
    await terminate(proc, 2000);
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const endpoint = await devtoolsEndpoint(proc.stderr);
    const ws = new WebSocket(endpoint);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to Chromium's DevTools at ${endpoint}`));
    });
    let nextId = 0;
    const pending = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void }>();
    const problems: string[] = [];
    ws.onmessage = (message) => {
      const reply = JSON.parse(String(message.data)) as Reply;
      if (reply.id !== undefined) {
        const waiter = pending.get(reply.id);
        pending.delete(reply.id);
        if (reply.error) waiter?.reject(new Error(reply.error.message));
        else waiter?.resolve(reply.result);
      } else if (reply.method === "Runtime.exceptionThrown") {
        problems.push(
          `exception: ${reply.params.exceptionDetails.exception?.description ?? reply.params.exceptionDetails.text}`,
        );
      } else if (reply.method === "Log.entryAdded" && ["error", "warning"].includes(reply.params.entry.level)) {
        problems.push(`${reply.params.entry.source}: ${reply.params.entry.text}`);
      } else if (reply.method === "Runtime.consoleAPICalled" && reply.params.type === "error") {
        problems.push(`console.error: ${reply.params.args.map((a: any) => a.value ?? a.description).join(" ")}`);
      }
    };
    let sessionId: string | undefined;
    const send = (method: string, params: object = {}): Promise<any> =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params, sessionId }));
      });
    const { targetId } = await send("Target.createTarget", { url: "about:blank" });
    sessionId = (await send("Target.attachToTarget", { targetId, flatten: true })).sessionId;
    await Promise.all([send("Page.enable"), send("Runtime.enable"), send("Log.enable")]);
    const page: Page = {
      problems,
      async evaluate<T>(expression: string): Promise<T> {
        const r = await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
        const thrown = r.exceptionDetails;
        if (thrown) throw new Error(`in the page: ${thrown.exception?.description ?? thrown.text}`);
        return r.result.value as T;
      },
      async viewport(width, height, o = {}) {
        await send("Emulation.setDeviceMetricsOverride", {
          width,
          height,
          deviceScaleFactor: o.scale ?? 1,
          mobile: !!o.mobile,
        });
      },
      async screenshot(path, o = {}) {
        const { cssContentSize, cssLayoutViewport } = await send("Page.getLayoutMetrics");
        const size = o.viewport
          ? { width: cssLayoutViewport.clientWidth, height: cssLayoutViewport.clientHeight }
          : cssContentSize;
        const clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 };
        const { data } = await send("Page.captureScreenshot", {
          format: "png",
          clip,
          captureBeyondViewport: !o.viewport,
        });
        writeFileSync(path, Buffer.from(data, "base64"));
      },
      async [Symbol.asyncDispose]() {
        ws.close();
        await cleanup();
      },
    };
    await page.viewport(opts.width ?? 1200, opts.height ?? 900);
    await send("Page.navigate", { url });
    return page;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The browser's `ws://` endpoint, which Chromium prints on stderr once it listens. */
async function devtoolsEndpoint(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const read = async (): Promise<string> => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done)
        throw new Error(
          `Chromium (${CHROMIUM}) exited before it opened its DevTools port; its stderr: ${seen.slice(-800)}`,
        );
      seen += decoder.decode(value);
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(seen)?.[1];
      if (found) return found;
    }
  };
  const endpoint = await withTimeout(read(), 20_000, `Chromium (${CHROMIUM}) did not open its DevTools port`);
  // Keep reading so Chromium never blocks on a full stderr pipe.
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
  return endpoint;
}
