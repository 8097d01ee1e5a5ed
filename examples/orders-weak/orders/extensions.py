"""Flask extensions, created here and bound to the app in create_app()."""
from flask_cors import CORS
from flask_debugtoolbar import DebugToolbarExtension
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman

# The web app, the mobile web view and three partner dashboards all live on
# different domains and call the API with the user's cookies, so "allow
# everyone" looked like the simplest setting that works.
cors = CORS(origins="*", allow_headers="*", supports_credentials=True)  # planted: COR001, COR002, COR003

# No storage_uri: each gunicorn worker keeps its own counters in memory, and
# behind nginx every request seems to come from the proxy's address.
limiter = Limiter(key_func=get_remote_address)  # planted: RL002, RL005

talisman = Talisman()

# Handy on staging; DEBUG_TB_ENABLED follows app.debug, which is on everywhere.
toolbar = DebugToolbarExtension()  # planted: DBG002
