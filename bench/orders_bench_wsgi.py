"""bench/shield.sh (d): examples/orders-hardened with or without its in-process
security extensions, same app otherwise.

BENCH_MODE=plain       Flask alone: Talisman, CORS, Limiter and CSRFProtect are not
                       initialised (what runs behind `flaskguard shield`).
BENCH_MODE=extensions  the app as shipped (Talisman + CORS + Limiter + CSRFProtect).

Run from examples/orders-hardened: gunicorn -c gunicorn.conf.py --pythonpath ../../bench orders_bench_wsgi:app
"""
import os

import orders.extensions as ext

if os.environ.get("BENCH_MODE", "extensions") == "plain":
    for extension in (ext.cors, ext.csrf, ext.limiter, ext.talisman):
        extension.init_app = lambda *args, **kwargs: None
    # The login throttle calls the limiter; without it the hook must not run.
    import orders.api.auth as auth

    auth.throttle_login = lambda: None

from orders import create_app  # noqa: E402

app = create_app()
