/**
 * The status page served at `/` on the metrics listener: one self-contained HTML document (inline
 * style and script, no external scripts, fonts or images). Its style is page/page.css (colours
 * are the Okabe–Ito palette, and every colour comes with a word or a marker shape), its script
 * page/page.js with the helpers of page/format.ts. It obeys its own Content-Security-Policy: the
 * script and the style are allowed by their SHA-256 hashes, computed here from what is served.
 */

// The page's own files as text (Bun bundles them into the one-file binary too; types/assets.d.ts).
import STYLE from "./page/page.css" with { type: "text" };
import PAGE_JS from "./page/page.js" with { type: "text" };
import { duration, rate, stepName } from "./page/format.ts";

/** page.js's one import: the helpers it shares with the `status` command. */
const FORMAT_IMPORT = 'import { duration, rate, stepName } from "./format.ts";\n';

/** The helpers as the page gets them: `const duration = function ...;` each (test/unit/page-script.test.ts runs them). */
export const PAGE_HELPERS = Object.entries({ duration, rate, stepName })
  .map(([name, f]) => `const ${name} = ${f};\n`)
  .join("");

/**
 * The page's script: page.js with its import replaced by the helpers' own source (each one
 * self-contained, see format.ts), in one strict function.
 */
function pageScript(page: string): string {
  if (!page.includes(FORMAT_IMPORT))
    throw new Error("status/page/page.js: its import of ./format.ts is not the expected one");
  return `\n"use strict";\n(function () {\n${page.replace(FORMAT_IMPORT, () => PAGE_HELPERS)}})();\n`;
}

const SCRIPT = pageScript(PAGE_JS);

const BODY = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>sentinel-tunnel status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<div class="wrap">
<header class="top"><h1>sentinel-tunnel</h1><span class="version" id="version"></span>
<span class="badge muted" id="overall">loading…</span><span class="updated" id="updated"></span></header>
<div class="banner bad" id="banner" hidden></div>
<main id="dbs"><p class="none">Loading /status.json…</p></main>
<footer>Refreshes every second from <a href="status.json">status.json</a> ·
<a href="metrics">metrics</a> · <a href="readyz">readyz</a> · names, addresses and counts only, no secrets.</footer>
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;

// Bun's hasher, not node:crypto: a bundle loads every node: module it names at start, lazy importer or not.
const hash = (text: string) => `'sha256-${new Bun.CryptoHasher("sha256").update(text).digest("base64")}'`;

/** The page and its headers: the CSP allows exactly this script and this style, and fetches to this listener. */
export const STATUS_PAGE = {
  html: BODY,
  headers: {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": [
      "default-src 'none'",
      `script-src ${hash(SCRIPT)}`,
      `style-src ${hash(STYLE)}`,
      "connect-src 'self'",
      "img-src data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  },
} as const;
