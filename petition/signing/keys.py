"""The platform's signing key: where it lives, how it is made, rotated and replaced.

The key is kept in SIGNING_KEY_DIR (by default instance/signing/), outside the
database and the repository, so a database dump or a clone of the code never
carries it. The layout:

    SIGNING_KEY_DIR/                 mode 0700
      current/key.pem                mode 0600: the private key, then its certificate (and chain)
      current/certificate.pem        the same certificate (and chain), public: safe to publish
      retired/<sha-256>.pem          certificates of earlier keys, public only, kept so that PDFs they
                                     signed still verify as the platform's

key.pem holds the certificate too so that one atomic rename replaces key and
certificate together: a signer never reads a new key with an old certificate."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import gettext as _

log = logging.getLogger(__name__)

VALIDITY = timedelta(days=3 * 365)
CURRENT = "current"
RETIRED = "retired"
KEY_FILE = "key.pem"
CERTIFICATE_FILE = "certificate.pem"
COMMON_NAME_LIMIT = 64  # X.520 ub-common-name; cryptography refuses longer


class SigningKeyError(Exception):
    """A key operation that cannot be done; the message is for the person running it."""


@dataclass(frozen=True)
class PlatformKey:
    """The current private key with its certificate (first) and any chain a CA issued with it."""

    private_key: CertificateIssuerPrivateKeyTypes
    chain: tuple[x509.Certificate, ...]

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]


def key_dir() -> Path:
    """SIGNING_KEY_DIR, or instance/signing: never inside the repository or a database dump."""
    return Path(current_app.config.get("SIGNING_KEY_DIR") or os.path.join(current_app.instance_path, "signing"))


def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint as readers show it: AB:CD:..."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def describe(certificate: x509.Certificate) -> str:
    """"subject (SHA-256 fingerprint)": who signed, in words and unambiguously."""
    return f"{certificate.subject.rfc4514_string()} (SHA-256 {fingerprint(certificate)})"


def _passphrase() -> bytes | None:
    passphrase = current_app.config.get("SIGNING_KEY_PASSPHRASE")
    return passphrase.encode() if passphrase else None


# -- files ------------------------------------------------------------------------------


def _write_atomically(path: Path, content: bytes, mode: int) -> None:
    """Write a file whole or not at all: a temporary file beside it, fsynced, then renamed over it.
    Created with its final mode, so a private key is never readable by others even for a moment."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # the umask may have narrowed it; never widens a key's
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def _pem(certificates: tuple[x509.Certificate, ...] | list[x509.Certificate]) -> bytes:
    return b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in certificates)


def _key_pem(private_key: CertificateIssuerPrivateKeyTypes) -> bytes:
    passphrase = _passphrase()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _store(key: PlatformKey) -> None:
    """Replace the current key and certificate (the key file first: it is what signing reads)."""
    directory = key_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    _write_atomically(directory / CURRENT / KEY_FILE, _key_pem(key.private_key) + _pem(key.chain), 0o600)
    _write_atomically(directory / CURRENT / CERTIFICATE_FILE, _pem(key.chain), 0o644)


def has_key() -> bool:
    return (key_dir() / CURRENT / KEY_FILE).is_file()


def load_key() -> PlatformKey | None:
    """The current key and its certificate, or None when the deployer has made none."""
    path = key_dir() / CURRENT / KEY_FILE
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        private_key = serialization.load_pem_private_key(content, password=_passphrase())
        chain = tuple(x509.load_pem_x509_certificates(content))
    except (TypeError, ValueError) as error:
        # TypeError: encrypted without a passphrase, or a passphrase for a plain key
        raise SigningKeyError(_("The signing key in %(path)s cannot be read (%(error)s); check "
                                "SIGNING_KEY_PASSPHRASE.", path=str(path), error=str(error))) from None
    if not _matches(chain[0], private_key):
        raise SigningKeyError(_("The certificate in %(path)s is not the key's own.", path=str(path)))
    return PlatformKey(private_key, chain)


def _matches(certificate: x509.Certificate, private_key: CertificateIssuerPrivateKeyTypes) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return (certificate.public_key().public_bytes(serialization.Encoding.DER, spki)
            == private_key.public_key().public_bytes(serialization.Encoding.DER, spki))


def current_certificates() -> tuple[x509.Certificate, ...]:
    """The current certificate and its chain, read from the public copy (no passphrase needed), or
    from the key file (which holds them too) if the public copy is missing."""
    for name in (CERTIFICATE_FILE, KEY_FILE):
        try:
            return tuple(x509.load_pem_x509_certificates((key_dir() / CURRENT / name).read_bytes()))
        except (FileNotFoundError, ValueError):
            continue
    return ()


def retired_certificates() -> list[x509.Certificate]:
    """Certificates of earlier keys, oldest first: their signatures are still the platform's."""
    found = []
    for path in sorted((key_dir() / RETIRED).glob("*.pem")):
        try:
            found.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except ValueError:
            log.warning("Ignoring %s: not a PEM certificate", path)
    return sorted(found, key=lambda certificate: certificate.not_valid_before_utc)


# -- making keys -----------------------------------------------------------------------------


def _site_name() -> x509.Name:
    """The certificate's subject: the site's name and the host it is served from."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME,
                                     (current_app.config.get("SITE_NAME") or "Sign-on letters")[:COMMON_NAME_LIMIT])]
    host = urlsplit(current_app.config.get("BASE_URL") or "").hostname
    if host:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, host[:COMMON_NAME_LIMIT]))
    return x509.Name(attributes)


def _alternative_names() -> list[x509.GeneralName]:
    base_url = current_app.config.get("BASE_URL") or ""
    host = urlsplit(base_url).hostname
    if not host:
        return []
    try:
        named: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        named = x509.DNSName(host)
    return [named, x509.UniformResourceIdentifier(base_url)]


SIGNING_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                              encipher_only=False, decipher_only=False)


def _self_signed(private_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A certificate for document signing only (digitalSignature + nonRepudiation), valid three years."""
    now = datetime.now(timezone.utc)
    subject = _site_name()
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(subject)
               .public_key(private_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))  # a little slack for clocks behind ours
               .not_valid_after(now + VALIDITY)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(SIGNING_USAGE, critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(private_key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(private_key.public_key()),
                              critical=False))
    names = _alternative_names()
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(private_key, hashes.SHA256())


def _new_key() -> PlatformKey:
    private_key = ec.generate_private_key(ec.SECP256R1())
    return PlatformKey(private_key, (_self_signed(private_key),))


def generate_key(force: bool = False) -> PlatformKey:
    """Make the first key and its self-signed certificate. An existing key is kept unless `force`:
    replacing it loses the private key for good (its certificate is retired, so signatures it made
    still verify)."""
    if has_key() and not force:
        raise SigningKeyError(_("A signing key already exists in %(path)s. Use \"rotate\" to replace it, "
                                "or --force to overwrite it.", path=str(key_dir())))
    if has_key():
        return rotate_key()
    key = _new_key()
    _store(key)
    return key


def _retire(certificates: tuple[x509.Certificate, ...]) -> Path | None:
    if not certificates:
        return None
    path = key_dir() / RETIRED / f"{certificates[0].fingerprint(hashes.SHA256()).hex()}.pem"
    _write_atomically(path, _pem(certificates[:1]), 0o644)
    return path


def rotate_key() -> PlatformKey:
    """A new key and self-signed certificate; the old certificate moves to retired/ (written first,
    so a crash never loses it) and the old private key is overwritten: nobody can sign with it again."""
    old = current_certificates()
    if not old and not has_key():
        raise SigningKeyError(_("There is no signing key to rotate yet: run \"generate\" first."))
    _retire(old)
    key = _new_key()
    _store(key)
    return key


def certificate_signing_request() -> x509.CertificateSigningRequest:
    """A CSR for the current key, naming the site, to send to a certificate authority."""
    key = load_key()
    if key is None:
        raise SigningKeyError(_("There is no signing key yet: run \"generate\" first."))
    builder = (x509.CertificateSigningRequestBuilder().subject_name(_site_name())
               .add_extension(SIGNING_USAGE, critical=True))
    names = _alternative_names()
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key.private_key, hashes.SHA256())


def install_certificate(content: bytes) -> PlatformKey:
    """Use a certificate a CA issued for the current key (PEM: the certificate first, then any
    intermediates). Refused unless it is for this very key; the self-signed one it replaces is retired."""
    key = load_key()
    if key is None:
        raise SigningKeyError(_("There is no signing key yet: run \"generate\" and \"request\" first."))
    try:
        chain = tuple(x509.load_pem_x509_certificates(content))
    except ValueError:
        try:
            chain = (x509.load_der_x509_certificate(content),)
        except ValueError:
            raise SigningKeyError(_("The file holds no certificate (PEM or DER expected).")) from None
    if not _matches(chain[0], key.private_key):
        raise SigningKeyError(_("This certificate is for another key (SHA-256 %(fingerprint)s), not the "
                                "platform's current key.", fingerprint=fingerprint(chain[0])))
    if chain[0].not_valid_after_utc <= datetime.now(timezone.utc):
        raise SigningKeyError(_("This certificate expired on %(date)s.",
                                date=chain[0].not_valid_after_utc.date().isoformat()))
    if chain[0] != key.certificate:
        _retire(key.chain)
    installed = PlatformKey(key.private_key, chain)
    _store(installed)
    return installed
