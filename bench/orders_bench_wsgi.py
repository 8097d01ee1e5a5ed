"""bench/shield.sh (d) and (e): examples/orders-hardened with or without its
in-process security extensions, same app otherwise.

BENCH_MODE=plain       Flask alone: Talisman, CORS, Limiter and CSRFProtect are not
                       initialised (what runs behind `flaskguard shield`).
BENCH_MODE=limiter     only flask-limiter (RATELIMIT_STORAGE_URI memory:// or redis://),
                       to compare rate limiting in-process with shield's.
BENCH_MODE=extensions  the app as shipped (Talisman + CORS + Limiter + CSRFProtect).

Run from examples/orders-hardened: gunicorn -c gunicorn.conf.py --pythonpath ../../bench orders_bench_wsgi:app
"""
import os

import orders.extensions as ext

MODE = os.environ.get("BENCH_MODE", "extensions")
OFF = {
    "plain": (ext.cors, ext.csrf, ext.limiter, ext.talisman),
    "limiter": (ext.cors, ext.csrf, ext.talisman),
    "extensions": (),
}[MODE]
for extension in OFF:
    extension.init_app = lambda *args, **kwargs: None
if ext.limiter in OFF:
    # The login throttle calls the limiter; without it the hook must not run.
    import orders.api.auth as auth

    auth.throttle_login = lambda: None

from orders import create_app  # noqa: E402

app = create_app()
