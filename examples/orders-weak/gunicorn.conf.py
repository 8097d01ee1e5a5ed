"""gunicorn settings: gunicorn -c gunicorn.conf.py wsgi:app"""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Four workers, each with its own in-memory rate-limit counters.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
accesslog = "-"
