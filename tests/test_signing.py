"""The platform signs its PDFs with a key kept outside the database and the repository;
anyone can check a PDF was issued by the platform and not changed since."""

from __future__ import annotations

import asyncio
import stat
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest
import weasyprint
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from petition.signing.keys import SigningKeyError
from petition.signing.pdf import sign_pdf, verify_pdf
from petition.signing import keys
from petition.signing.cli import signing_key

pytestmark = pytest.mark.words  # files and PDFs only: no database work, so SQLite once is enough

REPOSITORY = Path(__file__).resolve().parent.parent
HTML = ("<!doctype html><html lang='en'><head><title>Ratify the OP-ICESCR</title></head>"
        "<body><h1>Ratify the OP-ICESCR</h1><p>We urge you to ratify the Optional Protocol.</p></body></html>")
REASON = "Issued by the platform"


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """A plain PDF and a tagged PDF/UA-1 one, as the exports make them; rendered once for the module."""
    document = weasyprint.HTML(string=HTML)
    return {"plain": document.write_pdf(), "pdf/ua-1": document.write_pdf(pdf_variant="pdf/ua-1")}


@pytest.fixture
def key_dir(app_config, tmp_path) -> Path:
    path = tmp_path / "keys"
    app_config["SIGNING_KEY_DIR"] = str(path)
    return path


@pytest.fixture
def cli(key_dir, app, runner):
    """Run `flask signing-key ...` as a deployer would."""
    app.cli.add_command(signing_key)  # until petition/cli.py registers it

    def run(*args: str):
        return runner.invoke(args=["signing-key", *args])

    return run


@pytest.fixture
def generated(cli) -> x509.Certificate:
    result = cli("generate")
    assert result.exit_code == 0, result.output
    return keys.current_certificates()[0]


def signed_range_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def private_key_bytes(key_dir: Path) -> bytes:
    key = serialization.load_pem_private_key((key_dir / "current" / "key.pem").read_bytes(), password=None)
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_generate_keeps_the_key_outside_the_repository_readable_by_its_owner_only(generated, key_dir, app):
    key_file, certificate_file = key_dir / "current" / "key.pem", key_dir / "current" / "certificate.pem"
    assert key_file.is_file() and certificate_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert not key_file.resolve().is_relative_to(REPOSITORY)
    assert b"PRIVATE KEY" in key_file.read_bytes() and b"PRIVATE KEY" not in certificate_file.read_bytes()
    assert not list(key_dir.rglob("*.tmp"))  # written atomically: no leftovers

    assert generated.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == app.config["SITE_NAME"]
    assert generated.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value \
        == "letters.example.org"
    usage = generated.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert timedelta(days=3 * 365 - 1) < generated.not_valid_after_utc - generated.not_valid_before_utc \
        < timedelta(days=3 * 365 + 1)
    assert isinstance(generated.public_key(), ec.EllipticCurvePublicKey)


def test_without_configuration_the_key_lives_in_the_instance_folder(app):
    app.config["SIGNING_KEY_DIR"] = None  # the tests' own setting (conftest) aside
    assert keys.key_dir() == Path(app.instance_path) / "signing"
    if keys.key_dir().is_relative_to(REPOSITORY):  # instance/ in a checkout: git ignores it
        assert keys.key_dir().relative_to(REPOSITORY).parts[0] == "instance"
        assert "instance/*" in (REPOSITORY / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("variant", ["plain", "pdf/ua-1"])
def test_a_signed_pdf_verifies_as_the_platforms_and_still_reads(generated, pdfs, variant, app):
    signed = sign_pdf(pdfs[variant], reason=REASON, location="letters.example.org", name="The National Platform")

    assert signed.content.startswith(pdfs[variant])  # an incremental update: the document's bytes untouched
    assert signed.signer == f"{generated.subject.rfc4514_string()} (SHA-256 {keys.fingerprint(generated)})"
    verification = verify_pdf(signed.content)
    assert verification.valid and verification.intact and verification.covers_whole_file
    assert verification.platform_key == "current" and verification.problem is None
    assert verification.signer == generated.subject.rfc4514_string()
    assert verification.signer_fingerprint == keys.fingerprint(generated)
    assert abs(verification.signed_at - datetime.now(timezone.utc)) < timedelta(minutes=5)

    reader = PdfReader(BytesIO(signed.content))
    assert "We urge you to ratify the Optional Protocol." in signed_range_text(signed.content)
    signature = reader.get_fields()["PlatformSignature"]["/V"]
    assert signature["/SubFilter"] == "/ETSI.CAdES.detached" and signature["/Reason"] == REASON
    if variant == "pdf/ua-1":  # still a tagged document after signing
        assert "/StructTreeRoot" in reader.trailer["/Root"] and reader.trailer["/Root"]["/MarkInfo"]["/Marked"]


def test_signing_and_checking_work_where_an_event_loop_is_running(generated, pdfs):
    """pyHanko's synchronous calls start an event loop of their own: called from a thread whose
    loop runs (async code, Playwright's sync API in the same process), they run apart."""
    async def inside_a_loop():
        signed = sign_pdf(pdfs["plain"], reason=REASON)
        return signed, verify_pdf(signed.content)

    signed, verification = asyncio.run(inside_a_loop())
    assert signed.signer is not None and verification.valid and verification.platform_key == "current"


def test_one_changed_byte_or_an_addition_breaks_the_signature(generated, pdfs):
    signed = sign_pdf(pdfs["plain"], reason=REASON).content
    forged = signed.replace(b"Issued by the platform", b"Issued by the plAtform")
    assert len(forged) == len(signed) and sum(a != b for a, b in zip(forged, signed)) == 1

    verification = verify_pdf(forged)
    assert verification.signed and not verification.digest_matches
    assert not verification.valid and not verification.by_platform
    assert "changed after it was signed" in verification.problem

    appended = verify_pdf(signed + b"\n%% appended after signing\n")
    assert appended.digest_matches and not appended.covers_whole_file
    assert not appended.intact and not appended.valid
    assert "added to the document after it was signed" in appended.problem


def test_after_rotation_old_pdfs_still_verify_and_new_ones_use_the_new_key(cli, generated, pdfs, key_dir):
    old_pdf = sign_pdf(pdfs["plain"], reason=REASON).content
    old_private = private_key_bytes(key_dir)

    result = cli("rotate")
    assert result.exit_code == 0, result.output
    new_certificate = keys.current_certificates()[0]
    assert keys.fingerprint(new_certificate) != keys.fingerprint(generated)

    old = verify_pdf(old_pdf)
    assert old.valid and old.platform_key == "retired" and old.signer_fingerprint == keys.fingerprint(generated)
    new = verify_pdf(sign_pdf(pdfs["plain"], reason=REASON).content)
    assert new.valid and new.platform_key == "current"
    assert new.signer_fingerprint == keys.fingerprint(new_certificate)

    retired_file = key_dir / "retired" / f"{generated.fingerprint(hashes.SHA256()).hex()}.pem"
    assert list((key_dir / "retired").iterdir()) == [retired_file]
    assert b"PRIVATE KEY" not in retired_file.read_bytes()
    assert private_key_bytes(key_dir) != old_private
    everything = b"".join(path.read_bytes() for path in key_dir.rglob("*") if path.is_file())
    assert old_private not in everything and serialization.load_der_private_key(old_private, None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()) not in everything


def test_generate_refuses_to_overwrite_a_key_without_force(cli, generated, key_dir):
    before = (key_dir / "current" / "key.pem").read_bytes()
    refused = cli("generate")
    assert refused.exit_code != 0 and "already exists" in refused.output and "--force" in refused.output
    assert (key_dir / "current" / "key.pem").read_bytes() == before

    forced = cli("generate", "--force")
    assert forced.exit_code == 0, forced.output
    assert (key_dir / "current" / "key.pem").read_bytes() != before
    assert keys.fingerprint(generated) in [keys.fingerprint(c) for c in keys.retired_certificates()]


def test_show_prints_the_fingerprint_and_the_retired_ones(cli, generated):
    assert "No signing key" not in cli("show").output
    cli("rotate")
    shown = cli("show").output
    current = keys.current_certificates()[0]
    assert keys.fingerprint(current) in shown and keys.fingerprint(generated) in shown
    assert shown.index(keys.fingerprint(current)) < shown.index("Retired") < shown.index(keys.fingerprint(generated))
    assert "Self-signed" in shown and current.subject.rfc4514_string() in shown


def test_show_without_a_key_says_pdfs_are_not_signed(cli):
    assert "No signing key: PDFs are not signed." in cli("show").output


def _certificate_authority() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Document CA")])
    now = datetime.now(timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .sign(key, hashes.SHA256()))
    return key, certificate


def _issue(csr_or_key, ca_key, ca_certificate) -> x509.Certificate:
    public_key = csr_or_key.public_key()
    subject = csr_or_key.subject if isinstance(csr_or_key, x509.CertificateSigningRequest) else ca_certificate.subject
    now = datetime.now(timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_certificate.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=10))
            .add_extension(keys.SIGNING_USAGE, critical=True)
            .sign(ca_key, hashes.SHA256()))


def test_a_certificate_issued_for_the_key_can_be_installed_and_signs(cli, generated, pdfs, tmp_path):
    request = cli("request")
    assert request.exit_code == 0 and request.output.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    csr = x509.load_pem_x509_csr(request.output.encode())
    assert csr.is_signature_valid and csr.subject == generated.subject
    ca_key, ca_certificate = _certificate_authority()
    issued = _issue(csr, ca_key, ca_certificate)
    chain_file = tmp_path / "issued.pem"
    chain_file.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (issued, ca_certificate)))

    result = cli("install-certificate", str(chain_file))
    assert result.exit_code == 0, result.output
    assert keys.current_certificates() == (issued, ca_certificate)
    assert keys.fingerprint(generated) in [keys.fingerprint(c) for c in keys.retired_certificates()]
    verification = verify_pdf(sign_pdf(pdfs["plain"], reason=REASON).content)
    assert verification.valid and verification.platform_key == "current"
    assert verification.signer_fingerprint == keys.fingerprint(issued)
    assert "Self-signed" not in cli("show").output


def test_install_certificate_refuses_a_certificate_for_another_key(cli, generated, key_dir, tmp_path):
    ca_key, ca_certificate = _certificate_authority()
    other = _issue(ec.generate_private_key(ec.SECP256R1()), ca_key, ca_certificate)
    path = tmp_path / "other.pem"
    path.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    before = (key_dir / "current" / "key.pem").read_bytes()

    result = cli("install-certificate", str(path))
    assert result.exit_code != 0 and "for another key" in result.output
    assert (key_dir / "current" / "key.pem").read_bytes() == before
    assert keys.current_certificates()[0] == generated

    path.write_bytes(b"not a certificate")
    assert "no certificate" in cli("install-certificate", str(path)).output


def test_a_pdf_signed_with_another_key_is_not_the_platforms(generated, pdfs, app, tmp_path):
    app.config["SIGNING_KEY_DIR"] = str(tmp_path / "someone-else")
    keys.generate_key()
    foreign = sign_pdf(pdfs["plain"], reason=REASON).content
    app.config["SIGNING_KEY_DIR"] = str(tmp_path / "keys")

    verification = verify_pdf(foreign)
    assert verification.signed and verification.intact and not verification.by_platform and not verification.valid
    assert "another key" in verification.problem


@pytest.mark.parametrize("garbage", [b"", b"not a pdf at all", b"%PDF-1.7\n", b"\x00\xff" * 500, "truncated"])
def test_garbage_is_answered_not_raised(generated, pdfs, garbage):
    if garbage == "truncated":
        signed = sign_pdf(pdfs["plain"], reason=REASON).content
        garbage = signed[: len(signed) // 2]
    verification = verify_pdf(garbage)
    assert not verification.valid and verification.problem
    assert verification.is_pdf is False and verification.problem == "This is not a valid PDF."


def test_an_unsigned_pdf_is_said_to_be_unsigned(generated, pdfs):
    verification = verify_pdf(pdfs["plain"])
    assert verification.is_pdf and not verification.signed and not verification.valid
    assert verification.problem == "The document is not signed."


def test_without_a_key_pdfs_are_handed_out_unsigned(key_dir, app, pdfs):
    signed = sign_pdf(pdfs["plain"], reason=REASON)
    assert signed.content is pdfs["plain"] and signed.signer is None
    assert not key_dir.exists()


def test_a_passphrase_encrypts_the_key_at_rest(key_dir, app, pdfs):
    app.config["SIGNING_KEY_PASSPHRASE"] = "a long passphrase kept in the environment"
    keys.generate_key()
    assert b"ENCRYPTED PRIVATE KEY" in (key_dir / "current" / "key.pem").read_bytes()
    assert verify_pdf(sign_pdf(pdfs["plain"], reason=REASON).content).valid

    app.config["SIGNING_KEY_PASSPHRASE"] = "the wrong one"
    with pytest.raises(SigningKeyError, match="SIGNING_KEY_PASSPHRASE"):
        sign_pdf(pdfs["plain"], reason=REASON)
