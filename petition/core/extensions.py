"""Extension objects, created unbound and bound to the app in create_app()."""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)


def limit_decorated_views_only(app: Flask) -> None:
    """Every limit of this site is a decorator on the view it guards, and the decorator
    checks it. Flask-Limiter's check before *every* request only adds default and
    application-wide limits, which this site has none of: skip it (it cost about
    half a millisecond on each page, the cached ones included)."""
    manager = limiter.limit_manager
    assert not (manager._default_limits or manager._application_limits)  # those would need it
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:  # not there when limits are switched off
        checks.remove(limiter._check_request_limit)
