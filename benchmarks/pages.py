"""How long the busiest pages take to build, with a campaign's worth of endorsers.

    .venv/bin/python benchmarks/pages.py [--endorsers 2000] [--repeat 20]

Serves the real app in-process on a file SQLite database and prints the median time to build
the public letter page, a search, the public JSON and the signed letter (the whole list).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from petition import create_app  # noqa: E402
from petition.core.choices import ORGANISATION_TYPES, countries  # noqa: E402
from petition.core.clock import utcnow  # noqa: E402
from petition.core.extensions import db  # noqa: E402
from petition.letters.rules import LetterDraft, create_letter, publish_letter  # noqa: E402
from petition.platforms.rules import PlatformDetails, create_platform  # noqa: E402
from petition.models import Endorsement  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endorsers", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)

    folder = tempfile.mkdtemp()
    # No page cache: this measures what building each page costs (a cache miss).
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "INSTANCE_PATH": folder,
                      "CACHE_URL": "null://"})
    with app.app_context():
        upgrade()
        platform = create_platform(PlatformDetails(name="Benchmark platform", slug="bench"))
        letter = create_letter(platform, LetterDraft(title="Benchmark letter", addressee="H.E. the President",
                                           body="We urge you to ratify.\n\n" * 20, closing="Respectfully,",
                                           signature="The platform", goal=5000), None)
        revision = publish_letter(letter, None)
        codes = [code for code, _ in countries()]
        kinds = [kind for kind, _ in ORGANISATION_TYPES]
        now = utcnow()
        for n in range(args.endorsers):
            endorsement = Endorsement(letter_id=letter.id, revision_id=revision.id, status="published",
                                      organisation_type=kinds[n % len(kinds)], country=codes[n % len(codes)],
                                      city=f"City {n % 50}", consent_public=n % 10 != 0, contact_name="Contact",
                                      created_at=now, confirmed_at=now, published_at=now)
            endorsement.set_organisation(f"Organisation number {n:05d}")
            endorsement.set_email(f"contact{n}@example.org")
            db.session.add(endorsement)
        db.session.commit()
        client = app.test_client()
        pages = {
            "letter page (page 1 of the list)": f"/bench/{letter.slug}",
            "letter page, search": f"/bench/{letter.slug}?q=number+001",
            "public JSON": f"/bench/{letter.slug}/endorsements.json",
            "signed letter (whole list)": f"/bench/{letter.slug}/signed",
            "signed letter by country": f"/bench/{letter.slug}/signed?group=country",
        }
        print(f"{args.endorsers} endorsers, median of {args.repeat} requests (ms)")
        for name, path in pages.items():
            assert client.get(path).status_code == 200, path
            timings = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - start) * 1000)
            print(f"  {name:<36}{statistics.median(timings):>8.1f}")


if __name__ == "__main__":
    main()
