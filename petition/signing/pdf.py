"""Signing the platform's PDFs (PAdES baseline, with pyHanko) and checking a PDF's signature.

A signature lets anyone holding a copy of a letter check that the platform
issued it and that not one byte changed since: the signed bytes cover the whole
file, and their digest is the one the platform's key signed."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from cryptography import x509
from flask_babel import gettext as _
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .keys import current_certificates, describe, fingerprint, load_key, retired_certificates

log = logging.getLogger(__name__)

FIELD_NAME = "PlatformSignature"


@dataclass(frozen=True)
class SignedPdf:
    """The PDF to hand out, and who signed it ("subject (SHA-256 fingerprint)"), None if unsigned."""

    content: bytes
    signer: str | None


def _outside_any_event_loop(call, *args, **kwargs):
    """pyHanko's synchronous API runs asyncio.run(), which refuses to start in a thread whose
    event loop is running (a caller inside async code, or Playwright's sync API in the same
    thread): there it runs in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args, **kwargs).result()


def sign_pdf(content: bytes, *, reason: str, location: str | None = None, name: str | None = None) -> SignedPdf:
    """Sign a PDF with the platform's key (an invisible PAdES baseline signature, appended as an
    incremental update so the document's own bytes, tags and PDF/UA structure stay as they were).
    Without a key the PDF comes back unchanged: signing is the deployer's choice. A key that exists
    but cannot be read raises SigningKeyError rather than quietly handing out unsigned documents."""
    key = load_key()
    if key is None:
        return SignedPdf(content, None)
    signer = signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(key.certificate),
        signing_key=translate_pyca_cryptography_key_to_asn1(key.private_key),
        cert_registry=SimpleCertificateStore.from_certs(
            [translate_pyca_cryptography_cert_to_asn1(certificate) for certificate in key.chain[1:]]))
    writer = IncrementalPdfFileWriter(BytesIO(content), strict=False)
    existing = len(writer.prev.embedded_signatures)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME if not existing else f"{FIELD_NAME}{existing + 1}",
        reason=reason, location=location, name=name,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    output = _outside_any_event_loop(signers.sign_pdf, writer, metadata, signer=signer)
    return SignedPdf(output.getvalue(), describe(key.certificate))


@dataclass(frozen=True)
class Verification:
    """What can be said of a PDF's (last) signature. `problem` says, in words, what is wrong, if anything."""

    is_pdf: bool
    signed: bool = False
    digest_matches: bool = False  # the signed bytes hash to what the key signed
    covers_whole_file: bool = False  # nothing was added after the signature
    platform_key: str | None = None  # "current" or "retired" when it is one of the platform's keys
    signer: str | None = None  # the signer certificate's subject
    signer_fingerprint: str | None = None
    signed_at: datetime | None = None  # as the signer reported it
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """Not one byte changed or added since signing."""
        return self.digest_matches and self.covers_whole_file

    @property
    def by_platform(self) -> bool:
        return self.platform_key is not None

    @property
    def valid(self) -> bool:
        """Signed by the platform, and untouched since."""
        return self.signed and self.intact and self.by_platform


def _platform_certificates() -> dict[str, tuple[str, x509.Certificate]]:
    """The platform's certificates by fingerprint: the current one and every retired one."""
    found = {fingerprint(certificate): ("retired", certificate) for certificate in retired_certificates()}
    current = current_certificates()
    if current:
        found[fingerprint(current[0])] = ("current", current[0])
    return found


def verify_pdf(content: bytes) -> Verification:
    """Check a PDF's last signature: present, intact, covering the whole file, made by one of the
    platform's keys (current or retired). Any input is answered, none raises: a file that is not a
    PDF, or a truncated one, is reported as such."""
    try:
        reader = PdfFileReader(BytesIO(content), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises many kinds on malformed input; all mean the same here
        log.info("Not a readable PDF: %s: %s", type(error).__name__, error)
        return Verification(is_pdf=False, problem=_("This is not a valid PDF."))
    if not signatures:
        return Verification(is_pdf=True, problem=_("The document is not signed."))
    try:
        return _verify_signature(signatures[-1])
    except Exception as error:  # a malformed signature dictionary or CMS blob
        log.info("Unreadable signature: %s: %s", type(error).__name__, error)
        return Verification(is_pdf=True, signed=True, problem=_("The signature cannot be read: the file is damaged."))


def _verify_signature(embedded) -> Verification:
    signing_certificate = x509.load_der_x509_certificate(embedded.signer_cert.dump())
    signed_at = embedded.self_reported_timestamp
    platform = _platform_certificates()
    ours = platform.get(fingerprint(signing_certificate))
    # The platform's own certificates are the only trust roots; checked at the signing time the
    # signature states, so a retired certificate that has since expired still vouches for its PDFs.
    context = ValidationContext(
        trust_roots=[translate_pyca_cryptography_cert_to_asn1(certificate) for _kind, certificate in platform.values()],
        allow_fetching=False, moment=signed_at)
    status = _outside_any_event_loop(validate_pdf_signature, embedded, context, skip_diff=True)
    digest_matches = bool(status.intact and status.valid)
    covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    platform_key = ours[0] if ours is not None and digest_matches and status.trusted else None
    if not digest_matches:
        problem = _("The document was changed after it was signed: the signature does not match its content.")
    elif not covers_whole_file:
        problem = _("Something was added to the document after it was signed.")
    elif platform_key is None:
        problem = _("The signature is not the platform's: it was made with another key.")
    else:
        problem = None
    return Verification(
        is_pdf=True, signed=True, digest_matches=digest_matches, covers_whole_file=covers_whole_file,
        platform_key=platform_key, signer=signing_certificate.subject.rfc4514_string(),
        signer_fingerprint=fingerprint(signing_certificate),
        signed_at=status.signer_reported_dt or signed_at, problem=problem)
