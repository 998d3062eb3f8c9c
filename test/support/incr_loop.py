"""INCR loop with redis-py, as a plain application would run it against host:port (no Sentinel support).

Usage: python3 incr_loop.py PORT KEY

One line per acknowledged INCR on stdout: "<value> <time.monotonic() in ms>", flushed at once.
A dropped connection is redis-py's default behaviour (no Retry configured: the command raises
ConnectionError, the pool opens a new connection for the next one); the loop notes the error on
stderr and goes on. Stops on SIGTERM or when stdout is gone.
"""
import signal
import sys
import time

import redis


def main() -> None:
    port, key = int(sys.argv[1]), sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # redis-py defaults otherwise: no socket timeout, no retry on the command itself.
    client = redis.Redis(host="127.0.0.1", port=port)
    out = sys.stdout
    while True:
        try:
            value = client.incr(key)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            print(f"connection error: {error}", file=sys.stderr, flush=True)
            continue
        except redis.ResponseError as error:
            print(f"error reply: {error}", file=sys.stderr, flush=True)
            continue
        try:
            out.write(f"{value} {time.monotonic() * 1000:.3f}\n")
            out.flush()
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
