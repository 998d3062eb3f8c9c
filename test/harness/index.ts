/**
 * Test harness: real redis-server / redis-sentinel processes on free 127.0.0.1 ports,
 * polling waits, a small RESP client, and a fixture for the sentinel-tunnel CLI process;
 * optionally secured with passwords, ACL users and TLS (secure.ts).
 */
export { waitFor, withTimeout, type WaitOptions } from "./wait.ts";
export { freePort, redisBinary, makeTempDir, removeTempDir, liveChildren, HOST } from "./procs.ts";
export { TestClient, redisCommand, commandWith, infoRecord, type ConnectOptions } from "./client.ts";
export {
  makeCerts,
  tlsFiles,
  type CertSet,
  type TlsServerFiles,
  type DeploymentSecurity,
  type AclUser,
} from "./secure.ts";
export { ManagedServer } from "./server.ts";
export { RedisServer, startRedis, type RedisProc, type StartRedisOptions } from "./redis.ts";
export {
  SentinelServer,
  startSentinel,
  type SentinelProc,
  type StartSentinelOptions,
  type MonitoredMaster,
} from "./sentinel.ts";
export { Deployment, startDeployment, type DeploymentOptions, type FailoverResult } from "./deployment.ts";
export { startTunnelProcess, waitForPort, type TunnelProc, type TunnelProcessOptions } from "./tunnel.ts";
