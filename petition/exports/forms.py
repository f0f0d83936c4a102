from __future__ import annotations

import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import ValidationError

from ..core.forms import Form

HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


class CheckCopyForm(Form):
    """A copy of the letter to check against the PDFs delivered: the file itself, or its
    SHA-256 (computed with `sha256sum` or any tool, so the file need not be sent)."""

    copy = FileField(_l("The PDF you have"), description=_l("It is read to compute its SHA-256, then forgotten."))
    sha256 = StringField(_l("Or its SHA-256 fingerprint"),
                         description=_l("64 characters from 0-9 and a-f, as sha256sum prints it."))
    _computed: str | None = None

    @staticmethod
    def max_bytes() -> int:
        return current_app.config["CHECK_MAX_MEGABYTES"] * 1024 * 1024

    def validate_sha256(self, field) -> None:
        if field.data:
            field.data = re.sub(r"\s+", "", field.data).lower()
            if not HEX_SHA256.fullmatch(field.data):
                raise ValidationError(_("A SHA-256 fingerprint is 64 characters from 0-9 and a-f."))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        upload = self.copy.data
        if upload and getattr(upload, "filename", None) is not None:
            from .pdf_documents import sha256_of

            self._computed = sha256_of(upload.stream)
        elif self.sha256.data:
            self._computed = self.sha256.data
        else:
            self.copy.errors.append(_("Choose the PDF file, or paste its SHA-256 fingerprint."))
            return False
        return True

    def sha256_given(self) -> str:
        return self._computed
