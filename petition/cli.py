"""The ``flask --app petition ...`` commands.

What they print for people is marked for translation; outside a request it is
in the default language (English). Their --help stays in English, like the
command names and options it explains."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask_babel import gettext as _, ngettext
from flask_migrate import upgrade

from .accounts import rules as accounts
from .accounts.models import Role
from .core.choices import country_name
from .platforms import rules as platforms
from .signing.cli import signing_key
from .platforms.rules import find_platform
from .core.extensions import db
from .endorsements.notifications import send_digests as queue_digests
from .jobs.runner import prune_finished_jobs, run_due_jobs
from .letters import rules as letters
from .outbox.delivery import deliver_due
from .outbox.outbox import mail_server_configured

BATCH = 100  # deliver_due's default limit


def register(app: Flask) -> None:
    for command in (init_db, create_admin, create_coordinator, create_platform, demo, send_mail, send_digests,
                    close_due_letters, worker, run_jobs, export_pdf, signing_key):
        app.cli.add_command(command)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (applies every Alembic migration)."""
    upgrade()
    click.echo(_("Database is up to date (%(url)s).", url=_safe_url()))


def _sign_in_url() -> str:
    return f"{current_app.config['BASE_URL']}/coordinator/sign-in"


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def _valid_email(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from None


def _password_option(command):
    return click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                        help="At least 10 characters; asked for when not given.")(command)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="The person's name, as shown in the app.")
@_password_option
def create_admin(email: str, name: str, password: str) -> None:
    """Create a site administrator (the coalition's secretariat): creates platforms and invites their people."""
    email = _valid_email(email)
    try:
        person = accounts.create_coordinator(email, name or email.split("@")[0], password, admin=True)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Administrator %(email)s created. Sign in at %(url)s",
                 email=person.email, url=_sign_in_url()))


@click.command("create-coordinator")
@click.argument("email")
@click.option("--platform", "platform_slug", required=True, help="The slug of the platform, as in its addresses.")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.COORDINATOR.value,
              show_default=True, help="coordinator: runs the platform's letters; viewer: reads them.")
@click.option("--name", default="", help="The person's name, as shown in the app.")
@_password_option
def create_coordinator(email: str, platform_slug: str, role: str, name: str, password: str) -> None:
    """Create an account with a role on one platform."""
    email = _valid_email(email)
    platform = find_platform(platform_slug)
    if platform is None:
        raise click.BadParameter(_("there is no platform %(slug)s", slug=repr(platform_slug)), param_hint="--platform")
    try:
        person = accounts.create_coordinator(email, name or email.split("@")[0], password, platform=platform,
                                             role=Role(role))
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Created the account %(email)s, %(role)s of %(platform)s. Sign in at %(url)s",
                 role=Role(role).noun, email=person.email, platform=platform.name, url=_sign_in_url()))


@click.command("create-platform")
@click.argument("slug")
@click.option("--name", required=True, help="The platform's name, as on its letterhead.")
@click.option("--country", default="", help="ISO 3166 code of its country, e.g. MY.")
@click.option("--contact", default="", help="Its contact email: the Reply-To of its emails.")
def create_platform(slug: str, name: str, country: str, contact: str) -> None:
    """Create a national platform (its public pages live at /SLUG/)."""
    country = country.strip().upper()
    if country and country_name(country) == country:
        raise click.BadParameter(_("%(code)s is not an ISO 3166 country code", code=repr(country)),
                                 param_hint="--country")
    try:
        platform = platforms.create_platform(platforms.PlatformDetails(
            name=name.strip()[:200], slug=slug, country=country or None,
            contact_email=_valid_email(contact) if contact else None))
    except platforms.PlatformError as error:
        raise click.ClickException(str(error)) from None
    url = f"{current_app.config['BASE_URL']}/{platform.slug}/"
    click.echo(_("Platform %(platform)s created: %(url)s", platform=platform.name, url=url))


@click.command("demo")
def demo() -> None:
    """Load the demo campaign (idempotent) and print the demo coordinator's sign-in."""
    from .demo import load_demo

    result = load_demo()
    base = current_app.config["BASE_URL"]
    home = f"{base}/"
    rows = [(_("Campaign:"), _("%(url)s  (three platforms, their letters and the map)", url=home)),
            (_("Demo letter:"), f"{base}/{result.letter.platform.slug}/{result.letter.slug}"),
            (_("Coordinator:"), _sign_in_url()),
            (_("email:"), result.email),
            (_("password:"), result.password)]
    width = max(len(label) for label, _value in rows)
    click.echo("")
    click.echo("=" * 64)
    for label, value in rows:
        click.echo(f"  {label.ljust(width)}  {value}")  # a two-column table: layout, not a sentence
    click.echo("=" * 64)
    click.echo("")


@click.command("send-mail")
@click.option("--watch", is_flag=True, help="Keep running and deliver mail as it becomes due (the worker).")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.5, max=3600),
              help="Seconds between looks at the outbox with --watch.")
def send_mail(watch: bool, interval: float) -> None:
    """Deliver the outbox messages that are due, once or (with --watch) continuously."""
    if not mail_server_configured():
        click.echo(_("No MAIL_SERVER is configured: messages stay in the outbox, readable at %(path)s.",
                     path="/coordinator/outbox"))
        return
    worker = f"{socket.gethostname()}-{os.getpid()}"
    if not watch:
        sent, retrying, failed = 0, 0, 0
        while True:  # everything due, in batches
            report = deliver_due(worker)
            sent, retrying, failed = sent + len(report.sent), retrying + len(report.retrying), failed + len(report.failed)
            if report.attempted < BATCH:
                break
        click.echo(_sent_report(sent, retrying, failed))
        return
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    seconds = f"{interval:g}"
    click.echo(_("Mail worker %(worker)s watching the outbox every %(seconds)ss; Ctrl-C or SIGTERM stops it.",
                 worker=worker, seconds=seconds))
    while not stopping:
        try:
            report = deliver_due(worker)
        except Exception as error:  # the database may be briefly away; keep the worker alive
            db.session.rollback()
            reason = f"{type(error).__name__}: {error}"
            click.echo(_("Outbox unavailable (%(error)s); trying again.", error=reason), err=True)
            report = None
        finally:
            db.session.remove()
        if report and report.attempted:
            click.echo(_sent_report(len(report.sent), len(report.retrying), len(report.failed)))
        if report and report.attempted >= BATCH:
            continue  # more may be due right away
        _sleep_unless_stopping(interval, stopping)
    click.echo(_("Mail worker stopped."))


@click.command("worker")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.5, max=3600),
              help="Seconds between looks at the outbox and the job table when nothing is due.")
def worker(interval: float) -> None:
    """Deliver the outbox and run background jobs (PDFs) until stopped: what the worker service runs.

    Mail goes out from a thread of its own, so a long job never holds up a confirmation."""
    name = f"{socket.gethostname()}-{os.getpid()}"
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    app = current_app._get_current_object()
    click.echo(_("Worker %(worker)s: mail and jobs every %(seconds)ss when idle; Ctrl-C or SIGTERM stops it.",
                 worker=name, seconds=f"{interval:g}"))
    mail = None
    if mail_server_configured():
        mail = threading.Thread(target=_keep_going, name="mail", daemon=True,
                                args=(app, lambda: deliver_due(name).attempted >= BATCH, interval, stopping))
        mail.start()
    else:
        click.echo(_("No MAIL_SERVER is configured: messages stay in the outbox, readable at %(path)s.",
                     path="/coordinator/outbox"))
    prune_finished_jobs()
    _keep_going(app, lambda: bool(run_due_jobs(name)), interval, stopping)
    if mail is not None:
        mail.join()
    click.echo(_("Worker stopped."))


def _keep_going(app: Flask, step, interval: float, stopping: threading.Event) -> None:
    """Run ``step`` (True: more may be due at once) until stopped, in an app context of this
    thread's own; a database briefly away is reported and tried again."""
    while not stopping.is_set():
        busy = False
        with app.app_context():
            try:
                busy = step()
            except Exception as error:  # noqa: BLE001 - keep the worker alive
                db.session.rollback()
                click.echo(_("Database unavailable (%(error)s); trying again.",
                             error=f"{type(error).__name__}: {error}"), err=True)
            finally:
                db.session.remove()
        if not busy:
            stopping.wait(interval)


@click.command("run-jobs")
def run_jobs() -> None:
    """Run the background jobs that are due now, once (the worker does this continuously)."""
    name = f"{socket.gethostname()}-{os.getpid()}"
    count = 0
    while finished := run_due_jobs(name):
        count += len(finished)
    click.echo(ngettext("%(num)d job run.", "%(num)d jobs run.", count))


@click.command("export-pdf")
@click.argument("address")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
@click.option("--options", "query", default="", show_default=False,
              help="The signed letter's options as on its print page, e.g. 'paper=letter&columns=3&order=country'.")
def export_pdf(address: str, output: str, query: str) -> None:
    """Write the signed letter of a published letter (ADDRESS: platform/letter, as in its public
    address) as a PDF, signed with the platform's key if it has one."""
    from urllib.parse import parse_qsl

    from .exports.options import DocumentOptions, InvalidOptions
    from .exports.pdf import render_signed_pdf
    from .letters.rules import find_public_letter
    from .signing.pdf import sign_pdf

    platform_slug, _sep, slug = address.strip("/").partition("/")
    letter = find_public_letter(platform_slug, slug)
    if letter is None:
        raise click.BadParameter(_("No published letter at %(address)s.", address=address), param_hint="ADDRESS")
    try:
        options = DocumentOptions.from_args(dict(parse_qsl(query, keep_blank_values=True)))
    except InvalidOptions as error:
        raise click.BadParameter(str(error), param_hint="--options") from None
    started = time.monotonic()
    rendered = render_signed_pdf(letter, options)
    signed = sign_pdf(rendered.content, reason=_("Signed letter as published by %(platform)s",
                                                 platform=letter.platform.name),
                      location=current_app.config["BASE_URL"])
    with open(output, "wb") as target:
        target.write(signed.content)
    seconds = f"{time.monotonic() - started:.1f}"
    click.echo(_("%(path)s: %(pages)s, %(listed)s, in %(seconds)s s.", path=output, seconds=seconds,
                 pages=ngettext("%(num)d page", "%(num)d pages", rendered.pages),
                 listed=ngettext("%(num)d organisation listed", "%(num)d organisations listed", rendered.listed)))
    click.echo(_("Signed by: %(signer)s", signer=signed.signer) if signed.signer
               else _("Not signed: no signing key (flask signing-key generate makes one)."))


def _sent_report(sent: int, retrying: int, failed: int) -> str:
    return _("Sent %(sent)d, will retry %(retrying)d, failed %(failed)d.", sent=sent, retrying=retrying, failed=failed)


def _sleep_unless_stopping(seconds: float, stopping: list) -> None:
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.2, seconds))


@click.command("send-digests")
def send_digests() -> None:
    """Queue the daily digest of new endorsements for letters that ask for one (run it from cron)."""
    sent = queue_digests()
    if not sent:
        click.echo(_("No new endorsements to report."))
    for slug, count in sent.items():
        click.echo(ngettext("%(letter)s: digest of %(num)d new endorsement queued.",
                            "%(letter)s: digest of %(num)d new endorsements queued.", count, letter=slug))


@click.command("close-due-letters")
def close_due_letters() -> None:
    """Close the open letters whose deadline has passed (run it from cron; safe to repeat)."""
    closed = letters.close_due_letters()
    if not closed:
        click.echo(_("No open letter is past its deadline."))
    for letter in closed:
        address = f"{letter.platform.slug}/{letter.slug}"
        click.echo(_("Closed %(letter)s (deadline %(deadline)s): %(title)s", letter=address,
                     deadline=letter.deadline.isoformat(), title=letter.title))
