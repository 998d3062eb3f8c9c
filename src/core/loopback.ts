/** Whether a host names this machine's loopback (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === "::1" || host === "localhost";
}
