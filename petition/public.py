"""The blueprint of pages for anonymous visitors. Each feature adds its own
views to it (letters, endorsements, exports)."""

from flask import Blueprint

bp = Blueprint("public", __name__)

