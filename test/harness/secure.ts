/**
 * Secured deployments for tests: a throwaway certificate authority made with openssl (server and
 * client certificates for 127.0.0.1 / ::1 / localhost, plus an unrelated CA for "bad CA" cases),
 * the redis.conf / sentinel.conf lines for TLS-only servers, passwords and ACL users, and the
 * connect options the harness's own admin clients need to reach such servers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TLSOptions } from "bun";
import type { ConnectOptions } from "./client.ts";

export interface CertSet {
  dir: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: verification against it must fail. */
  otherCaFile: string;
}

export interface TlsServerFiles {
  certs: CertSet;
  /** Require client certificates signed by the CA (`tls-auth-clients yes`); default no. */
  mutual?: boolean;
  /** What the harness's admin clients use to connect (CA + client cert). */
  clientOptions: TLSOptions;
}

function openssl(args: string[], cwd: string): void {
  const binary = Bun.which("openssl");
  if (!binary) throw new Error("openssl not found: install it with `apt-get install -y openssl`");
  const result = Bun.spawnSync({ cmd: [binary, ...args], cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr.toString()}`);
}

/**
 * A CA, a server cert (SAN localhost, 127.0.0.1, ::1, or `serverSan` as openssl writes it, e.g.
 * `DNS:localhost` alone), a client cert, and an unrelated CA, in `dir`.
 */
export function makeCerts(dir: string, serverSan = "DNS:localhost,IP:127.0.0.1,IP:::1"): CertSet {
  const days = ["-days", "2"];
  for (const ca of ["test-ca", "other-ca"])
    openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        `${ca}.key`,
        "-out",
        `${ca}.crt`,
        ...days,
        "-subj",
        `/CN=${ca}`,
      ],
      dir,
    );
  const leaves = {
    server: `subjectAltName=${serverSan}\nextendedKeyUsage=serverAuth,clientAuth\n`,
    client: "extendedKeyUsage=clientAuth\n",
  };
  for (const [name, ext] of Object.entries(leaves)) {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`],
      dir,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "test-ca.crt",
        "-CAkey",
        "test-ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        ...days,
        "-extfile",
        `${name}.ext`,
      ],
      dir,
    );
  }
  return {
    dir,
    caFile: join(dir, "test-ca.crt"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.crt"),
    clientKey: join(dir, "client.key"),
    otherCaFile: join(dir, "other-ca.crt"),
  };
}

/** TLS settings for servers (and the harness's clients) from a cert set. */
export function tlsFiles(certs: CertSet, opts: { mutual?: boolean } = {}): TlsServerFiles {
  return {
    certs,
    mutual: opts.mutual,
    clientOptions: {
      ca: readFileSync(certs.caFile, "utf8"),
      cert: readFileSync(certs.clientCert, "utf8"),
      key: readFileSync(certs.clientKey, "utf8"),
    },
  };
}

/**
 * Lines for a TLS-only redis-server or sentinel on `port`. `tls-replication yes` makes replicas
 * and sentinels use TLS towards masters, replicas and other sentinels.
 */
export function tlsServerConfig(files: TlsServerFiles, port: number): string[] {
  const { certs } = files;
  return [
    "port 0",
    `tls-port ${port}`,
    `tls-cert-file ${JSON.stringify(certs.serverCert)}`,
    `tls-key-file ${JSON.stringify(certs.serverKey)}`,
    `tls-ca-cert-file ${JSON.stringify(certs.caFile)}`,
    `tls-auth-clients ${files.mutual ? "yes" : "no"}`,
    "tls-replication yes",
  ];
}

export interface AclUser {
  name: string;
  password: string;
  /** ACL rules after `on >password` (default: every key, channel and command). */
  rules?: string;
}

/** Passwords and ACL users of a deployment (`DeploymentOptions.security`). */
export interface DeploymentSecurity {
  /** `requirepass` on every redis-server; replicas get `masterauth`, sentinels `auth-pass`. */
  redisPassword?: string;
  /** More users on every redis-server. */
  redisUsers?: AclUser[];
  /** `requirepass` on every sentinel (and `sentinel sentinel-pass` so they still talk to each other). */
  sentinelPassword?: string;
  /** More users on every sentinel. */
  sentinelUsers?: AclUser[];
  /** TLS-only redis-servers and sentinels. */
  tls?: TlsServerFiles;
}

const aclLines = (users: AclUser[] = []) =>
  users.map((u) => `user ${u.name} on >${u.password} ${u.rules ?? "~* &* +@all"}`);

export function redisSecurityConfig(sec: DeploymentSecurity): string[] {
  return [
    ...(sec.redisPassword ? [`requirepass ${sec.redisPassword}`, `masterauth ${sec.redisPassword}`] : []),
    ...aclLines(sec.redisUsers),
  ];
}

/** Sentinel lines; `names` are the monitored masters (for `auth-pass`). */
export function sentinelSecurityConfig(sec: DeploymentSecurity, names: string[]): string[] {
  return [
    ...(sec.redisPassword ? names.map((n) => `sentinel auth-pass ${n} ${sec.redisPassword}`) : []),
    ...(sec.sentinelPassword
      ? [`requirepass ${sec.sentinelPassword}`, `sentinel sentinel-pass ${sec.sentinelPassword}`]
      : []),
    ...aclLines(sec.sentinelUsers),
  ];
}

/** How the harness's admin clients reach a redis-server / a sentinel of this deployment. */
export function adminClient(sec: DeploymentSecurity, kind: "redis" | "sentinel"): ConnectOptions {
  const password = kind === "redis" ? sec.redisPassword : sec.sentinelPassword;
  return { ...(password ? { auth: { password } } : {}), ...(sec.tls ? { tls: sec.tls.clientOptions } : {}) };
}
