"""gunicorn settings: gunicorn -c gunicorn.conf.py wsgi:app"""
import os

# Loopback by default: only the reverse proxy should reach gunicorn, because
# the app trusts PROXY_HOPS hops of X-Forwarded-* headers (ProxyFix).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers that keep connections open. Behind a gateway (flaskguard
# shield, or nginx with an upstream `keepalive`) the gateway then reuses its
# connections to the app instead of opening one per request (gunicorn's default
# sync worker closes every connection after its response). Slow clients are the
# gateway's to absorb: shield reads request bodies whole and large responses
# ahead (nginx buffers both by default). The app keeps no state between
# requests outside `g` and Redis, so threads are safe.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than the gateway's idle timeout (shield: 60 s), so the gateway closes
# an idle connection first and never writes on one gunicorn has just closed.
keepalive = 75
# Rate-limit counters live in Redis, so every worker shares them.
timeout = 30
graceful_timeout = 30
accesslog = "-"
# No runtime control socket: nothing else should manage the server, and the
# default path in $HOME would be shared by every instance on the host.
control_socket_disable = True
