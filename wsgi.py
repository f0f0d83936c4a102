"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``. Always production settings."""

from petition import create_app

app = create_app("production")
