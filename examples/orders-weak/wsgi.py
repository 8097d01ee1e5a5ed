"""WSGI entry point: gunicorn -c gunicorn.conf.py wsgi:app"""
import os

from dotenv import load_dotenv

# Load .env (FLASK_DEBUG, SECRET_KEY, DATABASE_URL) before the app reads its
# configuration; variables already set in the environment win.
load_dotenv(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".env"))

from orders import create_app  # noqa: E402

app = create_app()
