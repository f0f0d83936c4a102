"""Sign-on letters for civil-society coalitions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, before_render_template, request

from config import Config, config_for, development_secret_key

from .core.converters import IdConverter, PlatformConverter

ROOT = Path(__file__).resolve().parent.parent

# Our own scripts, styles and images only (no inline ones), no plugins, no <base>,
# forms that post only here, and no framing by any site.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Confirmation and withdraw links carry their token in the path: never tell another site.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
}


def create_app(config: str | type[Config] | dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` is an environment name, a config class,
    or a dict of overrides on top of the testing config."""
    config_class, overrides = _resolve_config(config)
    app = Flask(
        __name__,
        instance_path=config_class.INSTANCE_PATH,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    _check_secrets(app)
    _configure_logging(app)
    _configure_proxy(app)
    app.url_map.converters.update(id=IdConverter, platform=PlatformConverter)
    _init_extensions(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _add_security_headers(app)

    from . import cli
    from .core import errors

    errors.register(app)
    cli.register(app)
    return app


def _resolve_config(config) -> tuple[type[Config], dict[str, Any]]:
    if isinstance(config, dict):
        return config_for("testing"), config
    if isinstance(config, type):
        return config, {}
    return config_for(config), {}


def _check_secrets(app: Flask) -> None:
    if app.config["ENV_NAME"] == "production" and not app.config.get("BASE_URL"):
        raise RuntimeError("BASE_URL is not set. Production refuses to start without it: emailed links are "
                           "built from it, e.g. BASE_URL=https://letters.example.org")
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV_NAME"] == "production":
        raise RuntimeError("SECRET_KEY is not set. Production refuses to start without one: "
                           "set it to a long random value, e.g. python -c 'import secrets; print(secrets.token_hex(32))'")
    app.config["SECRET_KEY"] = development_secret_key(app.instance_path)


def _configure_logging(app: Flask) -> None:
    logger = logging.getLogger("petition")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # Alembic's logging config adds a root handler: print once


def _configure_proxy(app: Flask) -> None:
    hops = app.config.get("PROXY_FIX", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _init_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext

    from .core import cache, i18n
    from .core.extensions import csrf, db, limit_decorated_views_only, limiter, login_manager, migrate

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    app.before_request(_refuse_nameless_fields)  # before the CSRF check, which would trip on them
    csrf.init_app(app)
    limiter.init_app(app)
    limit_decorated_views_only(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    cache.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = lazy_gettext("Sign in to continue.")
    login_manager.login_message_category = "info"

    from .accounts.rules import coordinator_for_session

    login_manager.user_loader(coordinator_for_session)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _configure_sqlite(app)


def _refuse_nameless_fields() -> None:
    """A form body whose parts have no usable name (a multipart part without one)
    is malformed: a 400, before anything reads it."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and any(
            not isinstance(name, str) or not name.strip() for name in (*request.form.keys(), *request.files.keys())):
        abort(400)


def _configure_sqlite(app: Flask) -> None:
    from sqlalchemy import event

    from .core.extensions import db

    with app.app_context():
        engine = db.engine
    synchronous = app.config.get("SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise RuntimeError(f"SQLITE_SYNCHRONOUS must be NORMAL, FULL, EXTRA or OFF, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        # WAL lets the web app read while a mail worker writes, and the reverse.
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the database; a commit is on disk at the next
        # checkpoint rather than at once, so a power cut (not a crash of the app) may lose
        # the last moments. FULL syncs every commit, at several times the cost.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()


def _register_blueprints(app: Flask) -> None:
    # Each feature's views add themselves to the two audience blueprints.
    from .accounts.views import bp as auth_bp
    from .coordinator import bp as coordinator_bp
    from .endorsements import views as _endorsements  # noqa: F401
    from .exports import data_views as _data_exports  # noqa: F401
    from .exports import pdf_views as _pdf_exports  # noqa: F401
    from .exports import views as _exports  # noqa: F401
    from .letters import views as _letters  # noqa: F401
    from .letters import delivery_views as _delivery  # noqa: F401
    from .letters import translation_views as _translations  # noqa: F401
    from .outbox import views as _outbox  # noqa: F401
    from .platforms import views as _platforms  # noqa: F401
    from .overview import views as _overview  # noqa: F401
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(coordinator_bp)


def _add_security_headers(app: Flask) -> None:
    """Every response carries SECURITY_HEADERS; an HTTPS response also carries
    Strict-Transport-Security when the config sets HSTS_MAX_AGE (production)."""
    hsts_max_age = app.config.get("HSTS_MAX_AGE")

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts_max_age and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts_max_age}")
        return response


def _register_template_helpers(app: Flask) -> None:
    from .core import choices
    from .core.clock import utcnow
    from .core.text import qr_svg, render_plain_paragraphs

    app.jinja_env.filters["paragraphs"] = render_plain_paragraphs
    app.jinja_env.filters["country_name"] = choices.country_name
    app.jinja_env.filters["organisation_type"] = choices.organisation_type_label
    app.jinja_env.filters["language_name"] = lambda code: choices.LANGUAGE_LABELS.get(code, code)
    app.jinja_env.globals["text_direction"] = choices.text_direction
    app.jinja_env.globals["qr_svg"] = qr_svg
    app.jinja_env.globals["now"] = utcnow

    @app.context_processor
    def site():
        return {"site_name": app.config["SITE_NAME"], "platform": None,
                "platform_name": app.config["SITE_NAME"], "platform_contact": app.config["PLATFORM_CONTACT_EMAIL"]}

    before_render_template.connect(_show_platform, app)


def _show_platform(sender, template, context, **extra) -> None:
    """A page about a platform, or about one of its letters, carries the platform's
    name and contact in its header and footer instead of the site's."""
    letter = context.get("letter")
    platform = context.get("platform") or (letter.platform if letter is not None else None)
    if platform is not None:
        context.update(platform=platform, platform_name=platform.name, platform_contact=platform.contact_email)
