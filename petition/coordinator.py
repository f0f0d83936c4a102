"""The blueprint of pages for signed-in coordinators. Each feature adds its own
views to it; access is checked once, here, for every one of them."""

from flask import Blueprint, request
from flask_login import current_user

from .accounts.permissions import check_access
from .core.extensions import login_manager

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")


@bp.before_request
def authorize():
    """Signed in, and allowed this route (accounts/permissions.py decides)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    check_access(current_user, request.endpoint, request.view_args)
