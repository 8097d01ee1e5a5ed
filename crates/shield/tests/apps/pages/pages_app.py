"""A small server-rendered Flask app for shield's browser test (tests/browser_e2e.rs).

Its pages carry an inline <script> and <style> of their own, and one of them has a
reflected-XSS bug on purpose (`greeting` rendered with |safe), so the test can
check in a real browser what shield's CSP lets run. With NONCE_FROM_HEADER set,
the app writes the nonce shield hands it (X-CSP-Nonce) into its own tags, the
mode shield recommends against XSS; otherwise shield writes nonces into every tag.
"""
import os

from flask import Flask, render_template_string, request

app = Flask(__name__)
app.secret_key = os.environ["SECRET_KEY"]
NONCE_HEADER = os.environ.get("NONCE_FROM_HEADER")
TRANSFERS = os.environ["TRANSFERS_FILE"]

PAGE = """<!doctype html>
<html>
<head>
  <title>pages</title>
  <style{% if nonce %} nonce="{{ nonce }}"{% endif %}>#styled { color: rgb(1, 2, 3); }</style>
</head>
<body>
  <p id="styled">styled</p>
  <p id="greeting">{{ greeting|safe }}</p>
  <p id="out">app script did not run</p>
  <p id="attr" style="color: rgb(4, 5, 6)">attr</p>
  <p id="attr-out">-</p>
  <script{% if nonce %} nonce="{{ nonce }}"{% endif %}>
    var color = getComputedStyle(document.getElementById("styled")).color;
    document.getElementById("out").textContent = "app script ran, color " + color;
    var attr = getComputedStyle(document.getElementById("attr")).color;
    document.getElementById("attr-out").textContent = "style attribute " + attr;
  </script>
</body>
</html>"""

FORM = """<!doctype html>
<html>
<body>
  <form id="f" method="post" action="/transfer"><input name="amount" value="7"></form>
  <script{% if nonce %} nonce="{{ nonce }}"{% endif %}>document.getElementById("f").submit();</script>
</body>
</html>"""


# A page written for a policy of the app's own, as Flask-Talisman apps send:
# inline event handlers and style attributes allowed.
OWN_POLICY = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'"
OWN = """<!doctype html>
<html>
<body onload="document.getElementById('out').textContent = 'app handler ran'">
  <p id="out">app handler did not run</p>
</body>
</html>"""


def nonce():
    """The nonce shield handed over, when the app writes its own."""
    return request.headers.get(NONCE_HEADER, "") if NONCE_HEADER else ""


@app.get("/")
def page():
    greeting = request.args.get("greeting", "hello")
    return render_template_string(PAGE, greeting=greeting, nonce=nonce())


@app.get("/own-policy")
def own_policy():
    return OWN, 200, {"Content-Security-Policy": OWN_POLICY}


@app.get("/form")
def form():
    return render_template_string(FORM, nonce=nonce())


@app.post("/transfer")
def transfer():
    amount = request.form.get("amount", "")
    with open(TRANSFERS, "a", encoding="utf-8") as f:
        f.write(amount + "\n")
    return render_template_string(
        "<!doctype html><html><body><p id='done'>transfer of {{ a }} done</p></body></html>",
        a=amount,
    )
