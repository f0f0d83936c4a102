"""How long the signed letter takes to make with a large campaign's list, as a print
page and as a PDF, and how much memory the PDF takes.

    .venv/bin/python benchmarks/documents.py [--endorsers 10000] [--repeat 3]

Builds its own app on a temporary file SQLite database (no page cache: every request
renders), loads one letter with ``--endorsers`` listed organisations, then prints:

* the print page (``/<platform>/<letter>/signed``): median render time of ``--repeat``
  requests (target under 1 s);
* the PDF (exports/pdf.py, as the background job makes it): render time (target under
  30 s) and peak memory (target under 500 MB), measured in a child process of its own,
  so the figure is the PDF's alone (resource.getrusage(RUSAGE_CHILDREN).ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from petition import create_app  # noqa: E402
from petition.core.extensions import db  # noqa: E402

PLATFORM = "bench"
TARGETS = {"print page (s)": 1.0, "PDF (s)": 30.0, "PDF peak memory (MB)": 500.0}


def make_app(folder: str):
    # No page cache: what building the page costs (a cache miss).
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/documents.sqlite", "INSTANCE_PATH": folder,
                       "CACHE_URL": "null://"})


def seed(app, endorsers: int) -> str:
    """One platform, one published letter, ``endorsers`` listed organisations: its slug."""
    from flask_migrate import upgrade

    from petition.core.choices import ORGANISATION_TYPES, countries
    from petition.core.clock import utcnow
    from petition.letters.rules import LetterDraft, create_letter, publish_letter
    from petition.models import Endorsement
    from petition.platforms.rules import PlatformDetails, create_platform

    with app.app_context():
        upgrade()
        platform = create_platform(PlatformDetails(name="Benchmark platform", slug=PLATFORM))
        letter = create_letter(platform, LetterDraft(
            title="Ratify the Optional Protocol", addressee="H.E. the President of the Republic",
            body="We urge you to ratify the Optional Protocol to the ICESCR.\n\n" * 12, closing="Respectfully,",
            signature="The platform", goal=endorsers), None)
        revision = publish_letter(letter, None)
        codes = [code for code, _ in countries()]
        kinds = [kind for kind, _ in ORGANISATION_TYPES]
        now = utcnow()
        for n in range(endorsers):
            endorsement = Endorsement(letter_id=letter.id, revision_id=revision.id, status="published",
                                      organisation_type=kinds[n % len(kinds)], country=codes[n % len(codes)],
                                      city=f"City {n % 50}", consent_public=True, contact_name="Contact",
                                      created_at=now, confirmed_at=now, published_at=now)
            endorsement.set_organisation(f"Organisation number {n:05d}")
            endorsement.set_email(f"contact{n}@example.org")
            db.session.add(endorsement)
        db.session.commit()
        return letter.slug


def time_print_page(app, slug: str, repeat: int) -> float:
    client = app.test_client()
    path = f"/{PLATFORM}/{slug}/signed"
    with app.app_context():
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(path).get_data()
            timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def render_pdf_here(folder: str, slug: str) -> None:
    """The child: render the PDF once and print what it took, as JSON."""
    from petition.exports.options import DocumentOptions
    from petition.exports.pdf import render_signed_pdf
    from petition.letters.models import Letter

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # the screen-only CSS it skips, not news here
    app = make_app(folder)
    with app.app_context():
        letter = db.session.query(Letter).filter_by(slug=slug).one()
        stages = []
        start = time.perf_counter()
        rendered = render_signed_pdf(letter, DocumentOptions(),
                                     progress=lambda percent, stage: stages.append((percent, stage)))
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "pages": rendered.pages, "bytes": len(rendered.content),
                      "listed": rendered.listed, "progress_calls": len(stages), "last": stages[-1]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endorsers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--render-pdf", nargs=2, metavar=("FOLDER", "SLUG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.render_pdf:
        render_pdf_here(*args.render_pdf)
        return

    folder = tempfile.mkdtemp(prefix="documents-bench-")
    app = make_app(folder)
    slug = seed(app, args.endorsers)
    print(f"{args.endorsers:,} listed endorsers, SQLite, no page cache")
    page = time_print_page(app, slug, args.repeat)
    child = subprocess.run([sys.executable, __file__, "--render-pdf", folder, slug],
                           capture_output=True, text=True)
    if child.returncode != 0:
        sys.exit(f"the PDF render failed:\n{child.stderr}")
    pdf = json.loads(child.stdout.strip().splitlines()[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    figures = {"print page (s)": page, "PDF (s)": pdf["seconds"], "PDF peak memory (MB)": peak_mb}
    for name, value in figures.items():
        verdict = "ok" if value < TARGETS[name] else "OVER"
        print(f"  {name:<24}{value:>9.2f}   target under {TARGETS[name]:g}  {verdict}")
    print(f"  PDF: {pdf['pages']} pages, {pdf['bytes'] / 1e6:.1f} MB, {pdf['listed']:,} entries, "
          f"{pdf['progress_calls']} progress reports, the last {tuple(pdf['last'])}")


if __name__ == "__main__":
    main()
