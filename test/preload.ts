/**
 * Runs once before the suite: the tests start real redis-server and redis-sentinel processes, make
 * TLS certificates with openssl, drive headless Chromium (the status page) and redis-py (a real
 * client), partition a deployment in network namespaces with iproute2's `ip`, and run Prometheus and
 * promtool (the monitoring kit). What is missing is installed where that is safe to do unasked (as the
 * demo does), otherwise the suite stops with the exact command to run.
 */
import { existsSync } from "node:fs";
import { ensureInstalled, REDIS_NEED, type SystemNeed } from "../src/lab/install.ts";
import { CHROMIUM } from "./fixtures/chromium.ts";
import { PROMETHEUS_NEED } from "./fixtures/prometheus.ts";
import { pythonWithRedis } from "./fixtures/python.ts";

const NEEDS: SystemNeed[] = [
  REDIS_NEED,
  {
    what: "openssl (TLS test certificates)",
    present: () => !!Bun.which("openssl"),
    apt: ["openssl"],
    brew: ["openssl"],
  },
  { what: `chromium (status page test; or set CHROMIUM)`, present: () => existsSync(CHROMIUM), apt: ["chromium"] },
  {
    what: "iproute2 (ip netns: the real-partition tests and drill)",
    present: () => !!(Bun.which("ip") ?? Bun.which("ip", { PATH: "/usr/sbin:/sbin:/usr/bin:/bin" })),
    apt: ["iproute2"],
    brew: [],
  },
  {
    what: "redis-py (the real-clients failover test)",
    present: () => pythonWithRedis() !== null,
    apt: ["python3-redis"],
    brew: [],
  },
  PROMETHEUS_NEED,
];

const say = (line: string) => process.stderr.write(`${line}\n`);
if (!(await ensureInstalled(NEEDS, say, "the test suite", "run `bun run test` again"))) process.exit(2);
