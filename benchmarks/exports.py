"""Exports: time and peak memory of the coordinators' CSV, XLSX and JSON downloads,
for 10,000 and 100,000 endorsements, to show that memory stays flat as the list grows.

    .venv/bin/python benchmarks/exports.py [--rows 10000 100000] [--formats csv xlsx json]

It builds a temporary SQLite database the way ``benchmarks/load.py`` does (its ``Site``:
the same environment, ``flask init-db``), adds a platform, a coordinator and one letter
per size, then inserts the endorsements in batches (mixed scripts, commas, line breaks,
formula-like values, every status). Each export then runs in a child process of its own:
the production app, a coordinator signed in through the form, the download through
Flask's test client with the body consumed chunk by chunk and written to /dev/null.
The child's peak memory (its maximum resident set, from ``os.wait4`` once it has exited:
the RUSAGE_CHILDREN figure of that one child, its peak reset after start-up so that it is
the download's) and its time are printed, beside a child that signs in and downloads
nothing (the app's own memory), and the ratios between sizes.
Target: under 150 MB peak for 100,000 rows. The app itself (WeasyPrint, pyHanko, Alembic
and the rest, imported by ``create_app``) peaks near that before any export: read the
"over app" column, what the export adds, and its ratio between sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from load import ROOT, Site, platform_name

PLATFORM = "bench-exports"
EMAIL, PASSWORD = "exports@bench.example.org", "benchmark password, long enough"
TARGET_MB = 150

SEED = r"""
import sys
from datetime import datetime, timedelta
from sqlalchemy import insert
from petition import create_app
from petition.accounts.rules import create_coordinator
from petition.core.choices import ORGANISATION_TYPES, countries
from petition.core.extensions import db
from petition.core.names import email_key, organisation_key, organisation_skeleton
from petition.letters.rules import LetterDraft, create_letter, publish_letter
from petition.models import Endorsement
from petition.platforms.rules import PlatformDetails, create_platform

platform_slug, email, password, body = sys.argv[1:5]
sizes = [int(size) for size in sys.argv[5:]]
NAMES = ["Coalition for Housing Rights", "جمعية حقوق الإنسان", "中国人权发展基金会", "Общество защиты прав",
         'Union "Solidarity", Penang', "=HYPERLINK(\"http://x\")", "Asociación Derechos Ya"]
COMMENTS = ["", "Housing is a human right.", "First line,\nsecond \"line\"", "+60 is our code", "¡Sí, claro!"]
STATUSES = ["published"] * 7 + ["pending", "confirmed", "rejected"]
app = create_app("production")
with app.app_context():
    platform = create_platform(PlatformDetails(name="Benchmark of exports", slug=platform_slug,
                                               contact_email="platform@bench.example.org"))
    coordinator = create_coordinator(email, "Export Benchmark", password, platform=platform)
    kinds = [kind for kind, _ in ORGANISATION_TYPES]
    codes = [code for code, _ in countries("en")]
    start = datetime(2026, 1, 1, 8, 0, 0)
    for size in sizes:
        letter = create_letter(platform, LetterDraft(
            title=f"A letter with {size:,} endorsements", slug=f"letter-{size}",
            addressee="H.E. the President of the Republic", body=open(body, encoding="utf-8").read(),
            closing="Respectfully,", signature="The Benchmark Platform"), coordinator)
        publish_letter(letter, coordinator)
        revision = letter.current_revision.id
        for first in range(0, size, 5000):
            rows = []
            for n in range(first, min(size, first + 5000)):
                name = f"{NAMES[n % len(NAMES)]} {n:06d}"
                status = STATUSES[n % len(STATUSES)]
                when = start + timedelta(seconds=n * 7)
                address = f"contact{n}@org{n % 997}.example.org"
                rows.append(dict(
                    letter_id=letter.id, revision_id=revision, status=status, organisation=name,
                    organisation_key=organisation_key(name), organisation_skeleton=organisation_skeleton(name),
                    organisation_type=kinds[n % len(kinds)], country=codes[n % len(codes)],
                    city=f"City {n % 300}", website=f"https://org{n}.example.org" if n % 3 else "",
                    comment=COMMENTS[n % len(COMMENTS)], consent_public=n % 10 != 0, wants_updates=n % 4 == 0,
                    contact_name=f"Contact Person {n}", contact_role="Director", email=address,
                    email_key=email_key(address), language="en", created_at=when,
                    confirmed_at=None if status == "pending" else when + timedelta(minutes=5),
                    published_at=when + timedelta(minutes=5) if status == "published" else None))
            db.session.execute(insert(Endorsement), rows)
            db.session.commit()
        print(f"  letter {letter.id}: {size:,} endorsements", flush=True)
"""

MEASURE = r"""
import gc, json, re, sys, time
from petition import create_app
from petition.core.extensions import db

email, password, path = sys.argv[1:4]
app = create_app("production")
client = app.test_client()
page = client.get("/coordinator/sign-in").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
signed = client.post("/coordinator/sign-in", data={"email": email, "password": password, "csrf_token": token})
assert signed.status_code == 302, signed.status_code


def status(field):
    with open("/proc/self/status") as lines:
        return int(next(line for line in lines if line.startswith(field)).split()[1]) / 1024


# The process's own peak so far is the app's start: reset it (Linux: clear_refs 5), so
# that VmHWM after the download is the peak during the download alone.
start_peak = status("VmHWM:")
gc.collect()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
before = status("VmRSS:")
written = chunks = 0
start = time.perf_counter()
if path != "-":
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    with open("/dev/null", "wb") as sink:
        for chunk in response.response:
            sink.write(chunk)
            written += len(chunk)
            chunks += 1
    response.close()
print(json.dumps({"seconds": time.perf_counter() - start, "bytes": written, "chunks": chunks,
                  "start_peak_mb": start_peak, "before_mb": before, "during_mb": status("VmHWM:")}))
"""


def run_child(site: Site, path: str) -> dict:
    """One export in a fresh process; its own figures, and its peak memory from the kernel."""
    process = subprocess.Popen([sys.executable, "-c", MEASURE, EMAIL, PASSWORD, path], env=site.env(),
                               cwd=site.source, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.stdout.read(), process.stderr.read()
    # wait4 reaps this child and gives its own rusage: the RUSAGE_CHILDREN figure of
    # this one child, not the largest of every child so far.
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the export of {path} failed:\n{err.decode(errors='replace')[-3000:]}")
    figures = json.loads(out.decode().strip().splitlines()[-1])
    figures["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return figures


def added(result: dict) -> float:
    return result["peak_mb"] - result["before_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx", "json"], choices=["csv", "xlsx", "json"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary database folder")
    args = parser.parse_args()
    sizes = sorted(args.rows)

    print(f"Machine: {os.cpu_count()} cores, {platform_name()}; database: SQLite (file)")
    folder = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    site = Site(ROOT, folder, f"sqlite:///{folder}/bench.sqlite", 0, {"RATELIMIT_ENABLED": "false"})
    try:
        site.flask("init-db")
        body = folder / "body.md"
        body.write_text("We, the undersigned organisations, urge you to ratify the Optional Protocol.\n",
                        encoding="utf-8")
        print("Seeding")
        subprocess.run([sys.executable, "-c", SEED, PLATFORM, EMAIL, PASSWORD, str(body), *map(str, sizes)],
                       env=site.env(), cwd=site.source, check=True)
        letters = {size: number for number, size in enumerate(sizes, 1)}  # created in this order

        baseline = run_child(site, "-")
        print(f"\nThe app alone (a child that signs in and downloads nothing): {baseline['start_peak_mb']:.0f} MB "
              f"at its peak while starting (imports, create_app), {baseline['before_mb']:.0f} MB resident once "
              f"signed in, {baseline['peak_mb']:.0f} MB peak after that\n")
        print("  peak MB: the child's peak from just before the request to its exit (os.wait4's ru_maxrss, the\n"
              "  peak having been reset, after start-up, with /proc/self/clear_refs); added: that peak less what\n"
              "  the child held before the request\n")
        print(f"  {'format':<7}{'rows':>9}{'seconds':>9}{'rows/s':>9}{'MB out':>9}{'chunks':>8}"
              f"{'peak MB':>9}{'added':>8}")
        results: dict[tuple[str, int], dict] = {}
        for extension in args.formats:
            for size in sizes:
                path = f"/coordinator/letters/{letters[size]}/endorsements.{extension}"
                result = results[extension, size] = run_child(site, path)
                print(f"  {extension:<7}{size:>9,}{result['seconds']:>9.2f}{size / result['seconds']:>9,.0f}"
                      f"{result['bytes'] / 2**20:>9.1f}{result['chunks']:>8,}{result['peak_mb']:>9.0f}"
                      f"{added(result):>+8.1f}", flush=True)

        small, large = sizes[0], sizes[-1]
        print(f"\nRatios, {large:,} rows against {small:,} ({large / small:.0f}x the rows)")
        worst = most = 0.0
        for extension in args.formats:
            a, b = results[extension, small], results[extension, large]
            worst, most = max(worst, b["peak_mb"]), max(most, added(b))
            print(f"  {extension:<7}time {b['seconds'] / a['seconds']:5.1f}x   "
                  f"peak memory {b['peak_mb'] / a['peak_mb']:5.2f}x   (added {added(b):+.1f} MB against "
                  f"{added(a):+.1f} MB)")
        verdict = "met" if worst < TARGET_MB else "NOT met"
        print(f"\nHighest peak while downloading {large:,} rows: {worst:.0f} MB (target under {TARGET_MB} MB: "
              f"{verdict}); a download adds at most {most:+.1f} MB to the app. The app's own start-up peaks at "
              f"{baseline['start_peak_mb']:.0f} MB, before any request.")
    finally:
        if args.keep:
            print(f"Database kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
