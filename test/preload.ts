/**
 * Runs once before the suite: the tests start real redis-server and redis-sentinel processes.
 * When they are missing, install them where that is safe to do unasked (as the demo does),
 * otherwise stop with the exact command to run.
 */
import { installRedis } from "../src/ops/install.ts";

if (!(await installRedis((line) => process.stderr.write(`${line}\n`), "the test suite", "run `bun run test` again"))) process.exit(2);
