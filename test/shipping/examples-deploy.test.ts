/**
 * examples/ for deployments, exercised as far as this machine allows (no Docker, no cluster):
 * - GitHub Actions: the workflow's own shell steps run here against a real Sentinel deployment
 *   (bunx resolves sentinel-tunnel to this checkout), including the app's `bun test` step;
 * - docker-compose lab: its master, replica, three sentinels and tunnel started as local processes
 *   from the compose commands (only hosts and ports mapped to loopback), then a failover by hand;
 * - Kubernetes: ConfigMap config loads with the Secret's files, probes/ports/mounts agree with it;
 * - Dockerfile: its build steps run here and yield a working binary.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { loadConfigFile } from "../../src/config/config-file.ts";
import {
  freePort,
  makeTempDir,
  redisBinary,
  removeTempDir,
  run,
  type RunOptions,
  spawnTracked,
  startDeployment,
  startTunnelProcess,
  TestClient,
  untilFailoverAccepted,
  waitFor,
  waitForPort,
  terminate,
  withTimeout,
} from "../fixtures/index.ts";
import { runCli } from "../fixtures/cli.ts";

const REPO = resolve(import.meta.dir, "../..");
const read = (path: string) => readFileSync(join(REPO, path), "utf8");
const yaml = (path: string): any => Bun.YAML.parse(read(path));

/** A temp dir that is removed afterwards, for `await using`. */
function tempDir(prefix: string): { path: string } & Disposable {
  const path = makeTempDir(prefix);
  return { path, [Symbol.dispose]: () => removeTempDir(path) };
}

/** `run` with stdout and stderr as one text. */
async function runAll(cmd: string[], opts: RunOptions): Promise<{ code: number; output: string }> {
  const r = await run(cmd, opts);
  return { code: r.code, output: r.stdout + r.stderr };
}

describe("examples: GitHub Actions workflow", () => {
  const workflow = yaml("examples/github-actions/redis-sentinel.yml");
  const job = workflow.jobs.test;
  const step = (id: string) => job.steps.find((s: { id?: string }) => s.id === id);

  test("starts Redis + Sentinel, runs bunx sentinel-tunnel in the background, waits on check, tests against the tunnel port", async () => {
    expect(job.services.redis.image).toMatch(/^redis:/);
    expect(job.services.redis.ports).toEqual(["6379:6379"]);
    expect(step("sentinel").run).toContain("sentinel monitor mymaster 127.0.0.1 6379 1");
    expect(step("sentinel").run).toContain(`port ${job.env.SENTINEL_ADDR.split(":")[1]}`);
    expect(step("tunnel").run).toMatch(
      /bunx sentinel-tunnel --sentinel "\$SENTINEL_ADDR" --db "mymaster=\$TUNNEL_PORT"[\s\S]* 2>&1 &\n/,
    );
    expect(step("wait").run).toContain("bunx sentinel-tunnel check");
    expect(step("app-tests").env.REDIS_URL).toBe("redis://127.0.0.1:${{ env.TUNNEL_PORT }}");
    expect(job.steps.map((s: { uses?: string }) => s.uses).filter(Boolean)).toEqual([
      "actions/checkout@v4",
      "oven-sh/setup-bun@v2",
    ]);

    // Run the workflow's shell steps here: the services become a harness deployment (one master,
    // one sentinel, like the job's), `bunx sentinel-tunnel` resolves to this checkout.
    await using dep = await startDeployment({ replicas: 0, sentinels: 1, quorum: 1 });
    using work = tempDir("st-gha-");
    mkdirSync(join(work.path, "node_modules", ".bin"), { recursive: true });
    symlinkSync(join(REPO, "src", "cli.ts"), join(work.path, "node_modules", ".bin", "sentinel-tunnel"));
    // The app's tests: what `bun test` finds in the app's checkout.
    writeFileSync(
      join(work.path, "app.test.ts"),
      `import { expect, test } from "bun:test";\nimport { RedisClient } from "bun";\ntest("redis through the tunnel", async () => {\n  const redis = new RedisClient(process.env.REDIS_URL);\n  await redis.set("ci", "ok");\n  expect(await redis.get("ci")).toBe("ok");\n  redis.close();\n});\n`,
    );
    const env: Record<string, string> = {
      ...job.env,
      SENTINEL_ADDR: dep.sentinelAddresses[0]!,
      TUNNEL_PORT: String(await freePort()),
      METRICS_ADDR: `127.0.0.1:${await freePort()}`,
      RUNNER_TEMP: work.path,
    };
    const expand = (text: string) => text.replace(/\$\{\{\s*env\.(\w+)\s*\}\}/g, (_, name) => env[name] ?? "");
    const runStep = async (id: string) => {
      const s = step(id);
      const stepEnv = Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, expand(String(v))]));
      // GitHub's default shell for `run`: bash --noprofile --norc -eo pipefail {0}
      const r = await runAll(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(s.run)], {
        cwd: work.path,
        env: { ...process.env, ...env, ...stepEnv },
      });
      if (r.code !== 0)
        throw new Error(
          `step ${id} exited ${r.code}: ${r.output}\ntunnel log: ${existsSync(join(work.path, "sentinel-tunnel.log")) ? readFileSync(join(work.path, "sentinel-tunnel.log"), "utf8") : "(none)"}`,
        );
      return r.output;
    };
    const pidFile = join(work.path, "sentinel-tunnel.pid");
    try {
      await runStep("tunnel");
      expect(await runStep("wait")).toContain("all 1 database(s) have a verified master");
      expect(await runStep("app-tests")).toMatch(/1 pass/);
      expect(readFileSync(join(work.path, "sentinel-tunnel.log"), "utf8")).toContain(`sentinel-tunnel ${pkg.version}`);
    } finally {
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, "utf8"));
        try {
          process.kill(pid, "SIGTERM");
        } catch {}
        await waitFor(
          async () =>
            (await run(["pgrep", "-f", `${work.path}/node_modules/.bin/sentinel-tunnel`])).stdout.trim() === "",
          { timeoutMs: 10_000, message: "the background tunnel exits" },
        );
      }
    }
  }, 60_000);
});

describe("examples: docker-compose lab", () => {
  const compose = yaml("examples/docker-compose/docker-compose.yml");
  const services = compose.services;
  const sentinels = ["sentinel-1", "sentinel-2", "sentinel-3"];
  const flag = (args: string[], name: string) => args[args.indexOf(name) + 1]!;

  test("master, replica, three sentinels and the tunnel agree with each other, and fail over when run", async () => {
    expect(Object.keys(services).sort()).toEqual(["redis-master", "redis-replica", ...sentinels, "tunnel"].sort());
    const masterArgs: string[] = services["redis-master"].command;
    const replicaArgs: string[] = services["redis-replica"].command;
    const masterPort = flag(masterArgs, "--port");
    expect(replicaArgs.slice(replicaArgs.indexOf("--replicaof") + 1, replicaArgs.indexOf("--replicaof") + 3)).toEqual([
      "redis-master",
      masterPort,
    ]);
    const script: string = services["sentinel-1"].command[2];
    for (const name of sentinels) expect(services[name].command).toEqual(services["sentinel-1"].command);
    const sentinelPort = /'port (\d+)'/.exec(script)![1]!;
    expect(script).toContain(`'sentinel monitor mymaster redis-master ${masterPort} 2'`);
    const tunnelArgs: string[] = services.tunnel.command;
    expect(flag(tunnelArgs, "--sentinel").split(",")).toEqual(sentinels.map((s) => `${s}:${sentinelPort}`));
    const [dbName, dbPort] = flag(tunnelArgs, "--db").split("=");
    expect(dbName).toBe("mymaster");
    const metricsPort = flag(tunnelArgs, "--metrics").split(":")[1];
    expect(flag(tunnelArgs, "--bind")).toBe("0.0.0.0"); // reachable through the published port
    expect(services.tunnel.ports).toEqual([`127.0.0.1:${dbPort}:${dbPort}`, `127.0.0.1:${metricsPort}:${metricsPort}`]);
    expect(
      existsSync(
        join(REPO, "examples/docker-compose", services.tunnel.build.context, services.tunnel.build.dockerfile),
      ),
    ).toBe(true);

    // Run the lab as local processes: each container's command, its host names and ports mapped to loopback.
    using lab = tempDir("st-compose-lab-");
    const ports = {
      master: await freePort(),
      replica: await freePort(),
      tunnel: await freePort(),
      metrics: await freePort(),
    };
    const sentinelPorts = await Promise.all(sentinels.map(() => freePort()));
    const procs = [] as ReturnType<typeof spawnTracked>[];
    const loopback = ["--bind", "127.0.0.1", "--save", "", "--dir", lab.path];
    try {
      const server = (args: string[], port: number) =>
        args.slice(1).map((a) => (a === masterPort ? String(port) : a === "redis-master" ? "127.0.0.1" : a));
      procs.push(
        spawnTracked([redisBinary("redis-server"), ...server(masterArgs, ports.master), ...loopback], {
          cwd: lab.path,
        }),
      );
      const replica = server(replicaArgs, ports.replica);
      replica[replica.indexOf("--replicaof") + 2] = String(ports.master);
      procs.push(spawnTracked([redisBinary("redis-server"), ...replica, ...loopback], { cwd: lab.path }));
      sentinelPorts.forEach((port, i) => {
        const local = script
          .replace(`'port ${sentinelPort}'`, `'port ${port}' 'bind 127.0.0.1'`)
          .replace(`redis-master ${masterPort}`, `127.0.0.1 ${ports.master}`)
          .replace("/tmp/sentinel.conf", join(lab.path, `sentinel-${i}.conf`))
          .replace("/tmp/sentinel.conf", join(lab.path, `sentinel-${i}.conf`))
          .replace("exec redis-sentinel", `exec ${redisBinary("redis-sentinel")}`);
        procs.push(spawnTracked(["sh", "-c", local], { cwd: lab.path }));
      });
      await waitFor(
        async () => {
          for (const port of sentinelPorts) {
            await using s = await TestClient.connect(port, "127.0.0.1", { replyTimeoutMs: 1000 });
            const state: string[] = await s.command("SENTINEL", "MASTER", "mymaster");
            const field = (k: string) => state[state.indexOf(k) + 1];
            if (field("num-slaves") !== "1" || field("num-other-sentinels") !== "2")
              throw new Error(`sentinel ${port}: ${state.join(" ")}`);
          }
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 200, message: "the lab's sentinels find the replica and each other" },
      );

      const args = tunnelArgs.map((a) =>
        a
          .replace(/sentinel-(\d):\d+/g, (_, n) => `127.0.0.1:${sentinelPorts[Number(n) - 1]}`)
          .replace(`mymaster=${dbPort}`, `mymaster=${ports.tunnel}`)
          .replace(`0.0.0.0:${metricsPort}`, `127.0.0.1:${ports.metrics}`)
          .replace(/^0\.0\.0\.0$/, "127.0.0.1"),
      );
      await using tunnel = await startTunnelProcess(null, {
        args: [...args, "--log-file", join(lab.path, "tunnel.log")],
      });
      await waitForPort(ports.tunnel, { timeoutMs: 10_000 });
      await waitFor(async () => (await fetch(`http://127.0.0.1:${ports.metrics}/readyz`)).status === 200, {
        timeoutMs: 10_000,
        message: "/readyz",
      });
      const client = await TestClient.connect(ports.tunnel, "127.0.0.1", { replyTimeoutMs: 5000 });
      expect(await client.command("SET", "lab", "1")).toBe("OK");
      expect(await client.command("WAIT", 1, 5000)).toBe(1);

      // The compose file's "by hand" failover: SENTINEL FAILOVER on sentinel-1; the tunnel follows.
      await untilFailoverAccepted(async () => {
        await using s = await TestClient.connect(sentinelPorts[0]!, "127.0.0.1", { replyTimeoutMs: 1000 });
        return await s.command("SENTINEL", "FAILOVER", "mymaster");
      });
      await withTimeout(client.closed, 15_000, "the tunnel closes the session on the old master after the failover");
      const landed = await waitFor(
        async () => {
          await using c = await TestClient.connect(ports.tunnel, "127.0.0.1", { replyTimeoutMs: 2000 });
          const port = (await c.command("INFO", "server")).match(/tcp_port:(\d+)/)[1];
          if (port !== String(ports.replica)) throw new Error(`still on ${port}`);
          return String(await c.command("GET", "lab"));
        },
        { timeoutMs: 15_000, message: "a reconnect lands on the promoted replica" },
      );
      expect(landed).toBe("1");
      expect(tunnel.running).toBe(true);
    } finally {
      await Promise.all(procs.map((p) => terminate(p, 2000)));
    }
  }, 90_000);
});

describe("examples: Kubernetes sidecar", () => {
  const docs = Bun.YAML.parse(read("examples/kubernetes/sidecar.yaml")) as any[];
  const byKind = (kind: string) => docs.find((d) => d.kind === kind);

  test("ConfigMap config loads with the Secret's files; probes, ports, mounts and the app's URL agree with it", async () => {
    const [configMap, secret, deployment] = [byKind("ConfigMap"), byKind("Secret"), byKind("Deployment")];
    const pod = deployment.spec.template.spec;
    const tunnel = pod.initContainers.find((c: { name: string }) => c.name === "sentinel-tunnel");
    expect(tunnel.restartPolicy).toBe("Always"); // a native sidecar: up before the app, beside it
    expect(tunnel.image).toBe(`sentinel-tunnel:${pkg.version}`);
    const configPath: string = tunnel.args[0];
    const configMount = tunnel.volumeMounts.find((m: { mountPath: string }) => m.mountPath === configPath);
    const configVolume = pod.volumes.find((v: { name: string }) => v.name === configMount.name);
    expect(configVolume.configMap.name).toBe(configMap.metadata.name);
    const json = JSON.parse(configMap.data[configMount.subPath]);

    // Load it as the pod would: the Secret's items as files where the secret volume is mounted.
    using dir = tempDir("st-k8s-");
    const secretMount = tunnel.volumeMounts.find(
      (m: { name: string }) => pod.volumes.find((v: any) => v.name === m.name)?.secret,
    );
    const secretVolume = pod.volumes.find((v: { name: string }) => v.name === secretMount.name).secret;
    expect(secretVolume.secretName).toBe(secret.metadata.name);
    expect(secretVolume.defaultMode & 0o007).toBe(0); // others may not read the passwords
    for (const item of secretVolume.items)
      writeFileSync(join(dir.path, item.path), secret.stringData[item.key], { mode: 0o440 });
    for (const key of ["sentinelPasswordFile", "redisPasswordFile"]) {
      expect(dirname(json[key])).toBe(secretMount.mountPath);
      expect(secretVolume.items.map((i: { path: string }) => i.path)).toContain(basename(json[key]));
      json[key] = join(dir.path, basename(json[key]));
    }
    const local = join(dir.path, "config.json");
    writeFileSync(local, JSON.stringify(json), { mode: 0o600 });
    const { config, warnings } = loadConfigFile(local);
    expect(warnings).toEqual([]);
    expect(config.sentinelAuth?.password.reveal()).toBe(secret.stringData["sentinel-password"]);
    // Our CLI takes the container's arguments.
    const r = await runCli([local, ...tunnel.args.slice(1), "--print-config"], {}, dir.path);
    expect(r.code).toBe(0);

    // The kubelet probes the pod IP: metrics listen on all interfaces, on the probed port.
    const [metricsHost, metricsPort] = [config.metrics!.split(":")[0], Number(config.metrics!.split(":")[1])];
    expect(metricsHost).toBe("0.0.0.0");
    expect(tunnel.readinessProbe.httpGet).toEqual({ path: "/readyz", port: metricsPort });
    expect(tunnel.startupProbe.httpGet).toEqual({ path: "/readyz", port: metricsPort });
    expect(tunnel.livenessProbe.httpGet).toEqual({ path: "/healthz", port: metricsPort });
    const containerPorts = tunnel.ports.map((p: { containerPort: number }) => p.containerPort).sort();
    expect(containerPorts).toEqual([...config.databases.map((d) => d.port), metricsPort].sort());
    expect(config.bind).toBe("127.0.0.1"); // the Redis port stays inside the pod
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.drainTimeoutMs);
    expect(tunnel.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });

    const app = pod.containers.find((c: { name: string }) => c.name === "app");
    const url = new URL(app.env.find((e: { name: string }) => e.name === "REDIS_URL").value);
    expect([url.hostname, Number(url.port)]).toEqual(["127.0.0.1", config.databases[0]!.port]);
    const appPassword = app.env.find((e: { name: string }) => e.name === "REDIS_PASSWORD").valueFrom.secretKeyRef;
    expect(appPassword.name).toBe(secret.metadata.name);
    expect(Object.keys(secret.stringData)).toContain(appPassword.key);
  }, 20_000);
});

describe("examples: Dockerfile", () => {
  test("its build steps run here and produce a binary that works; the final stage runs it", async () => {
    const lines = read("examples/docker/Dockerfile")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"));
    const runs = lines.filter((l) => l.startsWith("RUN ")).map((l) => l.slice(4));
    const copies = lines
      .filter((l) => l.startsWith("COPY ") && !l.includes("--from"))
      .map((l) => l.slice(5).split(/\s+/).slice(0, -1));
    using dir = tempDir("st-docker-");
    for (const sources of copies)
      for (const source of sources) cpSync(join(REPO, source), join(dir.path, source), { recursive: true });
    const out = join(dir.path, "out");
    for (const command of runs) {
      const r = await runAll(["sh", "-c", command.replaceAll("/out/", `${out}/`)], {
        cwd: dir.path,
        env: { ...process.env, TARGETARCH: "amd64" },
      });
      if (r.code !== 0) throw new Error(`RUN ${command} exited ${r.code}: ${r.output}`);
    }
    const version = await runAll([join(out, "sentinel-tunnel"), "--version"], { cwd: dir.path });
    expect(version.output.trim()).toBe(pkg.version);
    const copyFrom = lines.find((l) => l.startsWith("COPY --from=build"))!.split(/\s+/);
    expect(copyFrom.slice(2)).toEqual(["/out/sentinel-tunnel", "/usr/local/bin/sentinel-tunnel"]);
    expect(lines.at(-1)).toBe('ENTRYPOINT ["/usr/local/bin/sentinel-tunnel"]');
    expect(lines).toContain("USER nonroot");
  }, 60_000);
});
