"""``flask --app petition signing-key ...``: make, rotate, show and certify the platform's signing key.

What the commands print is marked for translation; their --help stays in
English, like the command names and options it explains."""

from __future__ import annotations

from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask.cli import AppGroup
from flask_babel import gettext as _

from . import keys


def _fail(error: keys.SigningKeyError) -> click.ClickException:
    return click.ClickException(str(error))


def _echo_certificate(certificate: x509.Certificate) -> None:
    click.echo(_("Subject: %(subject)s", subject=certificate.subject.rfc4514_string()))
    click.echo(_("Issuer: %(issuer)s", issuer=certificate.issuer.rfc4514_string()))
    click.echo(_("SHA-256 fingerprint: %(fingerprint)s", fingerprint=keys.fingerprint(certificate)))
    click.echo(_("Valid from %(start)s to %(end)s",
                 start=certificate.not_valid_before_utc.isoformat(timespec="seconds"),
                 end=certificate.not_valid_after_utc.isoformat(timespec="seconds")))


# An AppGroup runs each command inside the app context, as the key directory is read from the config.
signing_key = AppGroup("signing-key", help="The key the platform signs its PDFs with "
                       "(kept in SIGNING_KEY_DIR, never in the database).")  # not for people: --help stays in English


@signing_key.command("generate")
@click.option("--force", is_flag=True, help="Replace an existing key (its certificate is kept in retired/).")
def generate(force: bool) -> None:
    """Create the signing key and a self-signed certificate naming the site."""
    try:
        key = keys.generate_key(force=force)
    except keys.SigningKeyError as error:
        raise _fail(error) from None
    click.echo(_("Signing key created in %(path)s. Back it up apart from the database.", path=str(keys.key_dir())))
    _echo_certificate(key.certificate)


@signing_key.command("rotate")
def rotate() -> None:
    """Replace the key: the old private key is destroyed, its certificate kept so old PDFs still verify."""
    try:
        key = keys.rotate_key()
    except keys.SigningKeyError as error:
        raise _fail(error) from None
    click.echo(_("New signing key created; the previous certificate is kept in %(path)s.",
                 path=str(keys.key_dir() / keys.RETIRED)))
    _echo_certificate(key.certificate)


@signing_key.command("show")
def show() -> None:
    """Print the current certificate and the retired ones."""
    current = keys.current_certificates()
    click.echo(_("Key directory: %(path)s", path=str(keys.key_dir())))
    if not current:
        click.echo(_("No signing key: PDFs are not signed. Run \"flask signing-key generate\" to make one."))
    else:
        click.echo(_("Current certificate:"))
        _echo_certificate(current[0])
        if current[0].issuer == current[0].subject:
            click.echo(_("Self-signed: readers show the signature as valid but the signer as unknown."))
    retired = keys.retired_certificates()
    if retired:
        click.echo(_("Retired certificates (their signatures still verify):"))
        for certificate in retired:
            click.echo("")
            _echo_certificate(certificate)


@signing_key.command("request")
def request() -> None:
    """Print a certificate signing request (PEM) for the current key, to send to a certificate authority."""
    try:
        csr = keys.certificate_signing_request()
    except keys.SigningKeyError as error:
        raise _fail(error) from None
    click.echo(csr.public_bytes(serialization.Encoding.PEM).decode(), nl=False)


@signing_key.command("install-certificate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def install_certificate(file: Path) -> None:
    """Use a certificate a CA issued for the current key (PEM, with its intermediates after it)."""
    try:
        key = keys.install_certificate(file.read_bytes())
    except keys.SigningKeyError as error:
        raise _fail(error) from None
    click.echo(_("Certificate installed; PDFs are now signed with it."))
    _echo_certificate(key.certificate)
