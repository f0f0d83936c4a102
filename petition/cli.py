"""The ``flask --app petition ...`` commands."""

from __future__ import annotations

import os
import signal
import socket
import time

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask_migrate import upgrade

from .accounts import rules as accounts
from .core.extensions import db
from .endorsements.notifications import send_digests as queue_digests
from .outbox.delivery import deliver_due
from .outbox.outbox import mail_server_configured

BATCH = 100  # deliver_due's default limit


def register(app: Flask) -> None:
    for command in (init_db, create_coordinator, demo, send_mail, send_digests):
        app.cli.add_command(command)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (applies every Alembic migration)."""
    upgrade()
    click.echo(f"Database is up to date ({_safe_url()}).")


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


@click.command("create-coordinator")
@click.argument("email")
@click.option("--name", default="", help="The coordinator's name, as shown in the app.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters; asked for when not given.")
def create_coordinator(email: str, name: str, password: str) -> None:
    """Create a coordinator account that can sign in at /coordinator."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from None
    try:
        coordinator = accounts.create_coordinator(email, name or email.split("@")[0], password)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Coordinator {coordinator.email} created. Sign in at {current_app.config['BASE_URL']}/coordinator/sign-in")


@click.command("demo")
def demo() -> None:
    """Load the demo campaign (idempotent) and print the demo coordinator's sign-in."""
    from .demo import load_demo

    result = load_demo()
    click.echo("")
    click.echo("=" * 64)
    click.echo(f"  Demo letter:  {current_app.config['BASE_URL']}/letters/{result.letter.slug}")
    click.echo(f"  Coordinator:  {current_app.config['BASE_URL']}/coordinator/sign-in")
    click.echo(f"      email:    {result.email}")
    click.echo(f"      password: {result.password}")
    click.echo("=" * 64)
    click.echo("")


@click.command("send-mail")
@click.option("--watch", is_flag=True, help="Keep running and deliver mail as it becomes due (the worker).")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.5, max=3600),
              help="Seconds between looks at the outbox with --watch.")
def send_mail(watch: bool, interval: float) -> None:
    """Deliver the outbox messages that are due, once or (with --watch) continuously."""
    if not mail_server_configured():
        click.echo("No MAIL_SERVER is configured: messages stay in the outbox, readable at /coordinator/outbox.")
        return
    worker = f"{socket.gethostname()}-{os.getpid()}"
    if not watch:
        sent, retrying, failed = 0, 0, 0
        while True:  # everything due, in batches
            report = deliver_due(worker)
            sent, retrying, failed = sent + len(report.sent), retrying + len(report.retrying), failed + len(report.failed)
            if report.attempted < BATCH:
                break
        click.echo(f"Sent {sent}, will retry {retrying}, failed {failed}.")
        return
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    click.echo(f"Mail worker {worker} watching the outbox every {interval:g}s; Ctrl-C or SIGTERM stops it.")
    while not stopping:
        try:
            report = deliver_due(worker)
        except Exception as error:  # the database may be briefly away; keep the worker alive
            db.session.rollback()
            click.echo(f"Outbox unavailable ({type(error).__name__}: {error}); trying again.", err=True)
            report = None
        finally:
            db.session.remove()
        if report and report.attempted:
            click.echo(f"Sent {len(report.sent)}, will retry {len(report.retrying)}, failed {len(report.failed)}.")
        if report and report.attempted >= BATCH:
            continue  # more may be due right away
        _sleep_unless_stopping(interval, stopping)
    click.echo("Mail worker stopped.")


def _sleep_unless_stopping(seconds: float, stopping: list) -> None:
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.2, seconds))


@click.command("send-digests")
def send_digests() -> None:
    """Queue the daily digest of new endorsements for letters that ask for one (run it from cron)."""
    sent = queue_digests()
    if not sent:
        click.echo("No new endorsements to report.")
    for slug, count in sent.items():
        click.echo(f"{slug}: digest of {count} new endorsement{'s' if count != 1 else ''} queued.")
