"""Signed, expiring tokens: the only module that touches itsdangerous.

Every purpose has its own salt, so a token made for one purpose is worthless
for another, and library errors become the project's own exceptions.
"""

from __future__ import annotations

import calendar
from datetime import timedelta
from enum import StrEnum
from typing import Any

from flask import current_app
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)

from .clock import utcnow


class Purpose(StrEnum):
    CONFIRM = "endorsement-confirm"
    WITHDRAW = "endorsement-withdraw"
    INVITATION = "account-invitation"
    PASSWORD_RESET = "account-password-reset"


class TokenInvalid(Exception):
    """The token was tampered with, truncated, or made for another purpose."""


class TokenExpired(Exception):
    """The token is genuine but too old; ``payload`` says what it was for."""

    def __init__(self, payload: Any):
        super().__init__("token expired")  # not for people
        self.payload = payload


class _ClockSigner(TimestampSigner):
    # Signing and checking follow the project's clock, so tests move time
    # instead of sleeping.
    def get_timestamp(self) -> int:
        return calendar.timegm(utcnow().utctimetuple())


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=purpose.value, signer=_ClockSigner
    )


def make_token(purpose: Purpose, payload: Any) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: Purpose, token: str, max_age: timedelta) -> Any:
    """The payload of a genuine, unexpired token; TokenInvalid or TokenExpired otherwise."""
    serializer = _serializer(purpose)
    try:
        return serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as expired:
        try:
            payload = serializer.load_payload(expired.payload)
        except BadSignature:
            raise TokenInvalid() from None
        raise TokenExpired(payload) from None
    except BadSignature:
        raise TokenInvalid() from None
