"""The blueprint of pages for signed-in coordinators. Each feature adds its own
views to it; access is checked once, here, for every one of them."""

from flask import Blueprint
from flask_login import current_user

from .core.extensions import login_manager

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")


@bp.before_request
def require_coordinator():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
