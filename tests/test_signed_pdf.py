"""The signed letter as a PDF (exports/pdf.py): the print page's template and stylesheet
made into a real, tagged PDF outside any request, with its metadata, page numbers,
every listed endorser in order and real glyphs in every script a letter is written in.

Each PDF costs about a second or more to make: each is made once per module, and read
by several tests. What a PDF says is no database's business: SQLite only (words)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import pdfplumber
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from conftest import add_endorsement, make_letter
from petition import create_app
from petition.core.extensions import db
from petition.exports.options import DocumentOptions
from petition.exports.pdf import page_numbers_css, render_signed_pdf

pytestmark = pytest.mark.words

A4, US_LETTER = (595, 842), (612, 792)
NOW = datetime(2026, 11, 28, 9, 0, 0)


@pytest.fixture(scope="module")
def pdf_app(migrated_database, tmp_path_factory):
    """One app and database for the module: the letters below are made once."""
    if migrated_database["backend"] != "sqlite":
        pytest.skip("what a PDF says is checked on SQLite")
    folder = tmp_path_factory.mktemp("pdf")
    shutil.copy(migrated_database["template"], folder / "pdf.sqlite")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'pdf.sqlite'}",
                      "INSTANCE_PATH": str(folder / "instance")})
    with app.app_context():
        app.extensions["frozen_now"] = NOW
        yield app
        db.session.remove()
        db.engine.dispose()


def at(app, moment: datetime) -> None:
    app.extensions["frozen_now"] = moment


@dataclass
class Made:
    letter: object
    rendered: object
    listed: list[str]
    emails: list[str]

    @functools.cached_property
    def reader(self) -> PdfReader:
        return PdfReader(BytesIO(self.rendered.content))

    @functools.cached_property
    def text(self) -> str:
        return "\n".join(page.extract_text() for page in self.reader.pages)


@pytest.fixture(scope="module")
def long_letter(pdf_app) -> Made:
    """An English letter with 150 listed endorsers, one unlisted and one not yet
    confirmed, as a PDF with the default options."""
    letter = make_letter(title="Ratify the OP-ICESCR", slug="ratify-long")
    listed, emails = [], []
    for n in range(150):
        name = f"Organisation {n:03d} for Economic Rights"
        emails.append(add_endorsement(letter, name, city=f"City {n % 7}").email)
        listed.append(name)
    emails.append(add_endorsement(letter, "Quiet Foundation", consent_public=False).email)
    emails.append(add_endorsement(letter, "Not Yet Confirmed", status="pending").email)
    return Made(letter, render_signed_pdf(letter, DocumentOptions()), listed, emails)


@pytest.fixture(scope="module")
def short_letter(pdf_app) -> Made:
    """Twelve endorsers over three days, on US Letter paper, listed by date, one column."""
    letter = make_letter(title="Protect the right to housing", slug="housing-short")
    names = []
    for day, batch in enumerate((["Zeta Tenants", "Mu Housing Network"], ["Alpha Shelter", "Omega Homes"],
                                 ["Kappa Union", "Beta Renters", "Delta Squat", "Gamma Co-op", "Eta Coalition",
                                  "Iota Collective", "Lambda Homes", "Nu Neighbours"])):
        at(pdf_app, datetime(2026, 11, 20 + day, 10, 0))
        for name in batch:
            add_endorsement(letter, name)
            names.append(name)
    at(pdf_app, NOW)
    by_date = ["Mu Housing Network", "Zeta Tenants", "Alpha Shelter", "Omega Homes",
               "Beta Renters", "Delta Squat", "Eta Coalition", "Gamma Co-op", "Iota Collective", "Kappa Union",
               "Lambda Homes", "Nu Neighbours"]
    assert sorted(by_date) == sorted(names)
    options = DocumentOptions.from_args({"paper": "letter", "order": "date", "columns": "1"})
    return Made(letter, render_signed_pdf(letter, options), by_date, [])


# Names in every script the stylesheet's fonts must draw, each a word or two.
SCRIPTS = {
    "arabic": "جمعية حقوق",
    "latin": "Asociación Económica Ñandú Łódź",
    "greek": "Ένωση Δικαιωμάτων",
    "cyrillic": "Правозащитный центр",
    "hebrew": "ארגון זכויות",
    "devanagari": "मानव अधिकार मंच",
    "cjk": "人权联盟 日本の権利",
    "ethiopic": "የሰብዓዊ መብቶች ማህበር",
}


@pytest.fixture(scope="module")
def arabic_letter(pdf_app) -> Made:
    """A letter in Arabic, endorsed by organisations named in Arabic, Latin and six more scripts."""
    letter = make_letter(language="ar", slug="arabic-letter", title="صادقوا على البروتوكول الاختياري",
                         addressee="فخامة رئيس الجمهورية", body="نحثكم على **المصادقة** على البروتوكول الاختياري.",
                         closing="وتفضلوا بقبول فائق الاحترام", signature="المنصة الوطنية")
    for name in SCRIPTS.values():
        add_endorsement(letter, name, country="LB")
    return Made(letter, render_signed_pdf(letter, DocumentOptions()), list(SCRIPTS.values()), [])


# -- reading glyphs out of a PDF ------------------------------------------------------------


@dataclass(frozen=True)
class Glyph:
    font: str  # the PostScript name of the font it is drawn with
    gid: int
    text: str  # what the font's ToUnicode map says the glyph stands for


def _to_unicode(font) -> dict[int, str]:
    """A font's ToUnicode map (WeasyPrint writes bfchar entries, <gid> <utf-16be>)."""
    mapping = {}
    if "/ToUnicode" not in font:
        return mapping
    data = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for gid, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[int(gid, 16)] = bytes.fromhex(text).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for first, last, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(text, 16)
            for offset, gid in enumerate(range(int(first, 16), int(last, 16) + 1)):
                mapping[gid] = chr(start + offset)
    return mapping


def postscript_name(font) -> str:
    """The PostScript name inside the embedded font program (every font WeasyPrint
    embeds, TrueType or CFF, is an OpenType file with its name table)."""
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    program = next(descriptor[key] for key in ("/FontFile2", "/FontFile3") if key in descriptor)
    return TTFont(BytesIO(program.get_object().get_data()))["name"].getDebugName(6)


def glyphs_of(reader: PdfReader) -> list[Glyph]:
    """Every glyph drawn on every page, in drawing order, with its glyph id (the fonts
    are Identity-H: two bytes a glyph) and what it stands for."""
    found = []
    for page in reader.pages:
        fonts = {name: font.get_object() for name, font in page["/Resources"]["/Font"].items()}
        maps = {name: _to_unicode(font) for name, font in fonts.items()}
        names = {name: postscript_name(font) for name, font in fonts.items()}
        current = None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = operands[0]
            elif operator in (b"Tj", b"TJ"):
                pieces = operands[0] if operator == b"TJ" else [operands[0]]
                font = names[current]
                for piece in pieces:
                    if isinstance(piece, (bytes, str)):
                        raw = piece.original_bytes if hasattr(piece, "original_bytes") else bytes(piece)
                        for i in range(0, len(raw) - 1, 2):
                            gid = int.from_bytes(raw[i:i + 2], "big")
                            found.append(Glyph(font, gid, maps[current].get(gid, "")))
    return found


@functools.cache
def system_font(postscript_name: str) -> TTFont:
    """The installed font WeasyPrint embedded (by its PostScript name), to read its own cmap."""
    listing = subprocess.run(["fc-list", "-f", "%{file}|%{index}\n", f":postscriptname={postscript_name}"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert listing, f"no installed font is called {postscript_name}"
    path, index = listing[0].split("|")
    return TTFont(path, fontNumber=int(index), lazy=True)


def is_a_box(glyph: Glyph) -> bool:
    """A .notdef box: glyph 0, or (WeasyPrint's way of drawing a character its font
    lacks) an id past the font's last glyph, drawn with the .notdef outline."""
    return glyph.gid == 0 or glyph.gid >= system_font(glyph.font)["maxp"].numGlyphs


def covers(postscript_name: str, text: str) -> bool:
    cmap = system_font(postscript_name).getBestCmap()
    return all(ord(char) in cmap for char in text)


def nominal_glyph(postscript_name: str, char: str) -> int:
    font = system_font(postscript_name)
    return font.getGlyphID(font.getBestCmap()[ord(char)])


def script_chars(text: str) -> set[str]:
    return {char for char in text if not char.isspace()}


# -- what the PDF says -------------------------------------------------------------------------


def test_the_pdf_has_the_letter_its_fingerprint_and_every_listed_endorser_in_order(long_letter):
    text, letter = long_letter.text, long_letter.letter

    assert "Ratify the OP-ICESCR" in text and "H.E. the President of the Republic" in text
    assert "We urge you to ratify the Optional Protocol." in text
    assert "Respectfully," in text and "The National Platform" in text
    assert "Endorsed by 151 organisations" in text
    assert "150 organisations are listed below. 1 organisation asked not to be named publicly." in text
    assert letter.current_revision.fingerprint in "".join(text.split()), "the SHA-256 at the foot"
    position = 0
    for name in long_letter.listed:
        position = text.find(name, position)
        assert position >= 0, f"{name} missing or out of order"
    assert "Quiet Foundation" not in text and "Not Yet Confirmed" not in text
    assert not any(email in text for email in long_letter.emails)


def test_the_pdf_numbers_its_pages_page_x_of_y(long_letter):
    pages = long_letter.reader.pages

    assert long_letter.rendered.pages == len(pages) > 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page.extract_text()


def test_the_pdf_is_what_the_job_needs_to_keep_it(long_letter):
    rendered = long_letter.rendered

    assert rendered.content.startswith(b"%PDF-1.7")
    assert rendered.filename == "ratify-long-signed-letter.pdf"
    assert (rendered.listed, rendered.endorsed_by, rendered.language) == (150, 151, "en")


def test_the_pdf_says_what_it_is_who_made_it_in_which_language_and_when(long_letter):
    reader = long_letter.reader
    info = reader.metadata

    assert info.title == "Ratify the OP-ICESCR – signed letter – National Platform for the OP-ICESCR"
    assert info.author == "National Platform for the OP-ICESCR"
    assert info.subject == "Open letter to H.E. the President of the Republic"
    assert "Open letter" in info["/Keywords"]
    assert info.creation_date.replace(tzinfo=None) == NOW
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_the_pdf_is_tagged_for_screen_readers_and_its_text_selectable(long_letter):
    root = long_letter.reader.trailer["/Root"]

    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    assert "Organisation 000 for Economic Rights" in long_letter.reader.pages[1].extract_text() + \
        long_letter.reader.pages[0].extract_text()


def test_the_list_takes_more_pages_as_it_grows(long_letter, short_letter):
    assert short_letter.rendered.pages < long_letter.rendered.pages


def test_the_options_shape_the_pdf_paper_and_order(long_letter, short_letter):
    def size(made: Made) -> tuple[int, int]:
        box = made.reader.pages[0].mediabox
        return round(float(box.width)), round(float(box.height))

    assert size(long_letter) == A4
    assert size(short_letter) == US_LETTER
    text, position = short_letter.text, 0
    for name in short_letter.listed:
        position = text.find(name, position)
        assert position >= 0, f"{name} missing or out of date order"


# -- scripts -------------------------------------------------------------------------------------


def test_an_arabic_letter_is_drawn_with_real_joined_glyphs_right_to_left(arabic_letter):
    glyphs = glyphs_of(arabic_letter.reader)
    arabic = [g for g in glyphs if any("\u0600" <= char <= "\u06ff" for char in g.text)]

    assert arabic, "the Arabic text is drawn"
    assert not [g for g in glyphs if is_a_box(g)], "no .notdef box anywhere"
    for glyph in arabic:
        assert covers(glyph.font, glyph.text.replace("\u200f", "")), f"{glyph.font} has no {glyph.text!r}"
    # Joined: a letter in the middle of a word takes a contextual form, not the glyph
    # the font gives the letter alone (the one its cmap names).
    contextual = [g for g in arabic if len(g.text) == 1 and g.gid != nominal_glyph(g.font, g.text)]
    assert contextual, "Arabic letters are shaped (initial, medial, final forms)"

    # Right to left: on the line of an Arabic name, its letters read in logical order
    # from right to left (x decreasing), and the Latin name's from left to right.
    with pdfplumber.open(BytesIO(arabic_letter.rendered.content)) as pdf:
        lines: dict[tuple[int, int], list] = {}
        for page in pdf.pages:
            for char in page.chars:
                lines.setdefault((page.page_number, round(char["top"])), []).append(char)
    right_to_left = ["".join(c["text"] for c in sorted(chars, key=lambda c: -c["x0"])) for chars in lines.values()]
    left_to_right = ["".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"])) for chars in lines.values()]
    assert any("حقوق" in line for line in right_to_left)
    assert not any("حقوق" in line for line in left_to_right)
    assert any("Asociación" in line for line in left_to_right)


def test_every_script_is_drawn_with_a_font_that_has_its_glyphs(arabic_letter):
    glyphs = glyphs_of(arabic_letter.reader)
    drawn = {}
    for glyph in glyphs:
        for char in glyph.text:
            drawn.setdefault(char, set()).add(glyph.font)

    assert not [g for g in glyphs if is_a_box(g)], "no .notdef box anywhere"
    for script, name in SCRIPTS.items():
        for char in script_chars(name):
            assert char in drawn, f"{script}: {char!r} is not drawn"
            assert all(covers(font, char) for font in drawn[char]), f"{script}: {char!r} drawn with {drawn[char]}"


def test_the_page_numbers_are_a_translated_sentence_around_css_counters(app):
    css = page_numbers_css()

    assert css == '@page { @bottom-center { content: "Page " counter(page) " of " counter(pages); } }\n'
