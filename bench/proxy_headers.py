"""bench/proxy_headers.py: what the headers a reverse proxy adds cost the app itself.

Calls the orders API (orders_bench_wsgi, BENCH_MODE from the environment) in-process,
with no server, for GET /api/orders with a bearer token: once as a client reaching
gunicorn directly sends it, once with the headers given on the command line (those
flaskguard shield adds: X-Forwarded-For/-Proto/-Host and X-Request-Id). Prints
Python function calls per request (cProfile: exact, the same on a busy machine)
and CPU time per request (median of interleaved rounds: noisy on a shared machine).

Run from examples/orders-hardened with its settings in the environment:
  python ../../bench/proxy_headers.py TOKEN "X-Forwarded-For: 127.0.0.1" ...
"""
import cProfile
import os
import pstats
import statistics
import sys
import time

sys.path[:0] = [os.getcwd(), os.path.dirname(os.path.abspath(__file__))]

from werkzeug.test import EnvironBuilder  # noqa: E402

import orders_bench_wsgi  # noqa: E402

app = orders_bench_wsgi.app


def environ(token, extra):
    headers = {"Host": "127.0.0.1", "Authorization": "Bearer " + token}
    headers.update(extra)
    return EnvironBuilder(path="/api/orders", headers=headers).get_environ()


def request(env):
    status = []
    body = app(dict(env), lambda s, h, exc_info=None: status.append(s))
    for _ in body:
        pass
    if hasattr(body, "close"):
        body.close()
    if not status or not status[0].startswith("200"):
        sys.exit(f"bench/proxy_headers.py: GET /api/orders answered {status}")


def calls_per_request(env, n=200):
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        request(env)
    profile.disable()
    return pstats.Stats(profile).total_calls / n


def cpu_per_request(env, n):
    start = time.process_time()
    for _ in range(n):
        request(env)
    return (time.process_time() - start) / n * 1e6


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    token = sys.argv[1]
    extra = {}
    for arg in sys.argv[2:]:
        name, sep, value = arg.partition(":")
        if not sep:
            sys.exit(f"bench/proxy_headers.py: `{arg}` is not `Name: value`")
        extra[name.strip()] = value.strip()
    variants = {"direct": environ(token, {}), "proxied": environ(token, extra)}
    for env in variants.values():
        for _ in range(50):
            request(env)
    calls = {name: calls_per_request(env) for name, env in variants.items()}
    cpu = {name: [] for name in variants}
    for _ in range(int(os.environ.get("ROUNDS", "15"))):
        for name, env in variants.items():
            cpu[name].append(cpu_per_request(env, 200))
    print(f"the app in-process, GET /api/orders, headers added: {', '.join(extra) or 'none'}")
    for name in variants:
        print(
            f"  {name:8s} {calls[name]:7.1f} Python calls/request"
            f"  {statistics.median(cpu[name]):7.1f} µs CPU/request (median)"
        )
    print(
        f"  proxied / direct: calls {calls['proxied'] / calls['direct']:.3f}x,"
        f" CPU {statistics.median(cpu['proxied']) / statistics.median(cpu['direct']):.3f}x"
    )


main()
