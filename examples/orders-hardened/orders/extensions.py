"""Flask extensions, created here and configured in create_app()."""
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

cors = CORS()
csrf = CSRFProtect()
# Storage (RATELIMIT_STORAGE_URI) and default limits (RATELIMIT_DEFAULT) come
# from the app config. get_remote_address is the real client address because
# create_app() installs ProxyFix for the PROXY_HOPS proxies in front of gunicorn.
limiter = Limiter(key_func=get_remote_address)
talisman = Talisman()
