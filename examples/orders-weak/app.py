"""Local entry point: `python app.py` (the Procfile uses it too)."""
import os

from wsgi import app

if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")), debug=True)  # planted: DBG001, OPS002
