/** Finding a Python that has redis-py (Debian's python3-redis), for the real-clients failover test. */

/** The first of `python3` on the PATH and the system's /usr/bin/python3 that can `import redis`, or null. */
export function pythonWithRedis(): string | null {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const probe = Bun.spawnSync({ cmd: [python, "-c", "import redis"], stdout: "ignore", stderr: "ignore" });
      if (probe.exitCode === 0) return python;
    } catch {
      // not installed: try the next
    }
  }
  return null;
}
