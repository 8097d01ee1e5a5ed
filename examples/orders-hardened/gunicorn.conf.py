"""gunicorn settings: gunicorn -c gunicorn.conf.py wsgi:app"""
import os

# Loopback by default: only the reverse proxy should reach gunicorn, because
# the app trusts PROXY_HOPS hops of X-Forwarded-* headers (ProxyFix).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Rate-limit counters live in Redis, so every worker shares them.
timeout = 30
graceful_timeout = 30
accesslog = "-"
# No runtime control socket: nothing else should manage the server, and the
# default path in $HOME would be shared by every instance on the host.
control_socket_disable = True
