"""The platform's signature on its PDFs: a key held outside the database and the repository
(keys), PAdES signing and verification (pdf), and the ``signing-key`` commands (cli)."""

from __future__ import annotations

from .keys import SigningKeyError
from .pdf import SignedPdf, Verification, sign_pdf, verify_pdf

__all__ = ["SignedPdf", "SigningKeyError", "Verification", "sign_pdf", "verify_pdf"]
