"""The language versions of a letter on its public pages: the page in the reader's
language when a translation is published (or the one ``?text=`` asks for), the
links between versions, the endorse and confirm forms recording the version
read, the signed letter with one version or two side by side and its endorsers
once, and the coordinators' CSV and pages. Real database, SQLite and PostgreSQL.

NEEDS h5's integration patches (/tmp/h5_patches.py: endorsements/views.py,
submitting.py, links.py, exports/*, templates/public/*, templates/export/*,
templates/coordinator/letter.html, letters/views.py). Until they are applied
the module skips itself; once applied, remove nothing: it runs."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import select

import petition.endorsements.views as endorsement_views
from petition.core.extensions import db
from petition.letters import translations
from petition.letters.models import text_fingerprint
from petition.letters.translations import (
    TranslationText,
    add_translation,
    edit_translation,
    publish_translation,
    unpublish_translation,
)
from petition.models import Endorsement

from conftest import (
    VALID_ENDORSEMENT,
    add_endorsement,
    csrf_from,
    html_of,
    path_of,
    public_count,
    visible_text,
)

pytestmark = pytest.mark.skipif(not hasattr(endorsement_views, "letter_version"),
                                reason="needs h5's integration patches (/tmp/h5_patches.py)")

FRENCH = dict(
    title="Ratifiez le Protocole facultatif",
    addressee="S.E. le Président de la République",
    body="Nous vous demandons de **ratifier** le Protocole facultatif.",
    closing="Respectueusement,",
    signature="La Plateforme nationale",
)
ARABIC = dict(
    title="صادقوا على البروتوكول الاختياري",
    addressee="فخامة رئيس الجمهورية",
    body="نحثكم على **التصديق** على البروتوكول الاختياري.",
    closing="مع فائق الاحترام،",
    signature="المنصة الوطنية",
)


def translate(letter, language="fr", text=FRENCH, publish=True):
    translation = add_translation(letter, language, TranslationText(**text), None)
    if publish:
        publish_translation(translation, None)
    return translations.version_for(letter, language)


def page(client, path: str, **query) -> str:
    if query:  # added to the path's own query (an emailed link has ?lang=)
        path += ("&" if "?" in path else "?") + "&".join(f"{key}={value}" for key, value in query.items())
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return html_of(response)


def h1(html: str) -> tuple[str, str]:
    """The page heading's lang attribute and text."""
    match = re.search(r'<h1 lang="(\w+)"[^>]*>(.*?)</h1>', html, re.S)
    return match.group(1), unescape(match.group(2)).strip()


def article_language(html: str) -> str:
    return re.search(r'<article class="letter" lang="(\w+)"', html).group(1)


def hidden_revision(html: str) -> int | None:
    match = re.search(r'<input type="hidden" name="revision" value="(\d+)">', html)
    return int(match.group(1)) if match else None


def endorse_from(client, html: str, **fields):
    """Send the endorse form of a letter page as shown: its action, its hidden fields."""
    action = unescape(re.search(r'<form method="post" action="([^"]+)"[^>]*class="form"', html).group(1))
    data = {**VALID_ENDORSEMENT, **fields, "csrf_token": csrf_from(html)}
    revision = hidden_revision(html)
    if revision is not None:
        data["revision"] = str(revision)
    return client.post(action.split("#")[0], data=data)


def stored_endorsement(organisation: str) -> Endorsement:
    db.session.expire_all()
    return db.session.scalars(select(Endorsement).where(Endorsement.organisation == organisation)).one()


# -- the version shown -----------------------------------------------------------------------------


def test_the_page_shows_the_version_in_the_readers_language(client, letter):
    translate(letter)

    english = page(client, f"/national/{letter.slug}")
    client.set_cookie("lang", "fr")
    french = page(client, f"/national/{letter.slug}")

    assert h1(english) == ("en", letter.title) and article_language(english) == "en"
    assert h1(french) == ("fr", FRENCH["title"]) and article_language(french) == "fr"
    assert "<strong>ratifier</strong>" in french and FRENCH["addressee"] in unescape(french)
    assert letter.body.split("**")[0] not in french


def test_the_original_is_shown_when_the_readers_language_has_no_published_version(client, letter):
    translate(letter, publish=False)  # a draft is not public
    client.set_cookie("lang", "fr")

    html = page(client, f"/national/{letter.slug}")

    assert h1(html) == ("en", letter.title)
    assert FRENCH["title"] not in html
    assert 'class="letter-versions"' not in html, "one version: nothing to choose"


def test_text_picks_a_version_explicitly(client, letter):
    translate(letter)
    translate(letter, "ar", ARABIC)

    assert h1(page(client, f"/national/{letter.slug}", text="fr")) == ("fr", FRENCH["title"])
    arabic = page(client, f"/national/{letter.slug}", text="ar")
    assert h1(arabic)[0] == "ar" and 'dir="rtl">' + ARABIC["title"] in arabic
    client.set_cookie("lang", "fr")
    assert h1(page(client, f"/national/{letter.slug}", text="en")) == ("en", letter.title)
    assert h1(page(client, f"/national/{letter.slug}", text="es")) == ("fr", FRENCH["title"]), \
        "a version that does not exist: the reader's language, as without ?text="


def test_the_versions_are_linked_each_in_its_own_language(client, letter):
    translate(letter)
    translate(letter, "ar", ARABIC)

    html = page(client, f"/national/{letter.slug}", text="fr")

    nav = re.search(r'<nav class="letter-versions".*?</nav>', html, re.S).group(0)
    links = re.findall(r'<a href="([^"]+)" hreflang="(\w+)" lang="(\w+)"[^>]*>(.*?)</a>', nav)
    assert [(unescape(href), hreflang, lang, name) for href, hreflang, lang, name in links] == [
        (f"/national/{letter.slug}?text=en", "en", "en", "English"),
        (f"/national/{letter.slug}?text=fr", "fr", "fr", "Français"),
        (f"/national/{letter.slug}?text=ar", "ar", "ar", "العربية"),
    ]
    assert "Read this letter in:" in visible_text(nav) and "English (original)" in visible_text(nav)
    assert re.search(r'hreflang="fr" lang="fr"[^>]*aria-current="true"', nav)
    alternates = re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)">', html)
    assert [code for code, _ in alternates] == ["en", "fr", "ar"]
    assert all(href.startswith("http") and f"text={code}" in href for code, href in alternates)


# -- endorsing and confirming the version read -----------------------------------------------------------


def test_the_endorse_form_carries_the_revision_of_the_version_shown(client, letter):
    french = translate(letter)

    assert hidden_revision(page(client, f"/national/{letter.slug}")) == letter.current_revision.id
    assert hidden_revision(page(client, f"/national/{letter.slug}", text="fr")) == french.revision.id


def test_an_endorsement_on_the_french_version_records_it_and_counts_once_with_the_others(client, letter, outbox):
    french = translate(letter)
    add_endorsement(letter, "Coalition for Housing Rights")
    client.set_cookie("lang", "fr")

    response = endorse_from(client, page(client, f"/national/{letter.slug}"), organisation="Ligue des droits",
                            email="ligue@example.org")
    assert response.status_code == 302
    assert stored_endorsement("Ligue des droits").revision_id == french.revision.id

    confirm_path = path_of(outbox.link("ligue@example.org"))
    confirm_page = page(client, confirm_path)
    assert article_language(confirm_page) == "fr" and FRENCH["addressee"] in unescape(confirm_page)
    assert hidden_revision(confirm_page) == french.revision.id
    response = client.post(confirm_path, data={"csrf_token": csrf_from(confirm_page),
                                               "revision": str(french.revision.id)})
    assert response.status_code == 302

    endorsement = stored_endorsement("Ligue des droits")
    assert endorsement.status == "published"
    assert endorsement.revision_id == french.revision.id and endorsement.revision.language == "fr"
    assert public_count(client, letter) == 2
    listed = page(client, f"/national/{letter.slug}")
    assert listed.count("Ligue des droits") == 1 and listed.count("Coalition for Housing Rights") == 1

    # Its emails name the letter by the title it read, in French.
    confirmation = outbox.last("ligue@example.org", "confirm")
    thanks = outbox.last("ligue@example.org", "thank_you")
    for message in (confirmation, thanks):
        assert FRENCH["title"] in message.subject and letter.title not in message.subject
        assert FRENCH["title"] in message.text_body and letter.title not in message.text_body


@pytest.mark.parametrize("forged", ["10000000000000000000", "-3", "0", "999999", "abc"])
def test_a_forged_revision_in_the_endorse_form_records_the_original(client, letter, forged):
    translate(letter)
    html = page(client, f"/national/{letter.slug}", text="fr")

    response = client.post(f"/national/{letter.slug}", data={**VALID_ENDORSEMENT, "csrf_token": csrf_from(html),
                                                             "revision": forged})

    assert response.status_code == 302
    assert stored_endorsement(VALID_ENDORSEMENT["organisation"]).revision_id == letter.current_revision.id


def test_a_french_text_revised_before_confirming_is_read_again(client, letter, outbox):
    french = translate(letter)
    endorse_from(client, page(client, f"/national/{letter.slug}", text="fr"), email="ligue@example.org",
                 organisation="Ligue des droits")
    confirm_path = path_of(outbox.link("ligue@example.org"))
    shown = page(client, confirm_path)
    revised = edit_translation(translations.find_translation(letter, "fr"),
                               TranslationText(**{**FRENCH, "body": "Un texte révisé."}), None)

    response = client.post(confirm_path, data={"csrf_token": csrf_from(shown), "revision": str(french.revision.id)})

    assert response.status_code == 409
    html = html_of(response)
    assert "The coordinators have revised the letter since you opened this page." in unescape(html)
    assert article_language(html) == "fr" and "Un texte révisé." in unescape(html)
    assert hidden_revision(html) == revised.id
    assert stored_endorsement("Ligue des droits").status == "pending"

    assert client.post(confirm_path, data={"csrf_token": csrf_from(html), "revision": str(revised.id)}).status_code \
        == 302
    assert stored_endorsement("Ligue des droits").revision_id == revised.id


def test_a_version_unpublished_before_confirming_leads_back_to_the_original(client, letter, outbox):
    french = translate(letter)
    endorse_from(client, page(client, f"/national/{letter.slug}", text="fr"), email="ligue@example.org",
                 organisation="Ligue des droits")
    confirm_path = path_of(outbox.link("ligue@example.org"))
    shown = page(client, confirm_path)
    unpublish_translation(translations.find_translation(letter, "fr"), None)

    response = client.post(confirm_path, data={"csrf_token": csrf_from(shown), "revision": str(french.revision.id)})

    assert response.status_code == 409
    assert article_language(html_of(response)) == "en"
    assert hidden_revision(html_of(response)) == letter.current_revision.id


def test_the_confirm_page_offers_the_other_versions(client, letter, outbox):
    translate(letter)
    endorse_from(client, page(client, f"/national/{letter.slug}"), email="someone@example.org")
    confirm_path = path_of(outbox.link("someone@example.org"))

    english = page(client, confirm_path)
    french = page(client, confirm_path, text="fr")

    assert article_language(english) == "en", "the version they endorsed from"
    token_path, language = confirm_path.split("?")
    assert f'href="{token_path}?text=fr&amp;{language}" hreflang="fr"' in english, "the link keeps its ?lang="
    assert article_language(french) == "fr"
    assert hidden_revision(french) == translations.version_for(letter, "fr").revision.id


# -- the signed letter ---------------------------------------------------------------------------------


def signed(client, letter, **query) -> str:
    return page(client, f"/national/{letter.slug}/signed", **query)


def test_the_signed_letter_prints_the_original_by_default_and_a_version_on_request(client, letter):
    french = translate(letter)

    original = signed(client, letter)
    in_french = signed(client, letter, text="fr")

    assert '<html lang="en"' in original and FRENCH["title"] not in original
    assert '<html lang="fr"' in in_french
    assert '<article class="version" lang="fr" dir="ltr">' in in_french
    assert FRENCH["title"] in unescape(in_french) and letter.title not in in_french
    assert french.fingerprint in in_french and letter.current_revision.fingerprint not in in_french


def test_two_versions_side_by_side_each_with_its_direction_revision_and_fingerprint(client, letter):
    arabic = translate(letter, "ar", ARABIC)
    edit_translation(translations.find_translation(letter, "ar"),
                     TranslationText(**{**ARABIC, "closing": "وتفضلوا بقبول فائق الاحترام"}), None)
    arabic = translations.version_for(letter, "ar")
    add_endorsement(letter, "Coalition for Housing Rights")
    add_endorsement(letter, "جمعية حقوق الإنسان", revision=arabic.revision)

    html = signed(client, letter, text="en,ar")

    assert re.findall(r'<article class="version" lang="(\w+)" dir="(\w+)">', html) == [("en", "ltr"), ("ar", "rtl")]
    assert 'class="versions versions--2"' in html
    footer = visible_text(re.search(r'<footer class="integrity".*?</footer>', html, re.S).group(0))
    assert "revision 1" in footer and "revision 2" in footer
    assert letter.current_revision.fingerprint in footer and arabic.fingerprint in footer
    assert arabic.fingerprint == text_fingerprint(arabic.revision.text_parts())
    names = re.findall(r'<b class="entry__name"[^>]*>(.*?)</b>', html)
    assert sorted(names) == sorted(["Coalition for Housing Rights", "جمعية حقوق الإنسان"]), "each endorser once"
    assert "earlier revision" not in footer, "an endorsement of the current Arabic text is not of an earlier one"
    # What the toolbar's two selects send works the same.
    assert page(client, f"/national/{letter.slug}/signed?text=en&text=ar") == html


@pytest.mark.parametrize("text", ["es", "en,es", "en,fr,ar", "xx"])
def test_a_version_that_is_not_public_is_not_printed(client, letter, text):
    translate(letter)
    translate(letter, "es", dict(FRENCH, title="Ratifique el Protocolo"), publish=False)

    assert client.get(f"/national/{letter.slug}/signed", query_string={"text": text}).status_code == 404


def test_on_request_the_signed_letter_tells_the_version_each_endorser_confirmed(client, letter):
    french = translate(letter)
    add_endorsement(letter, "Coalition for Housing Rights")
    add_endorsement(letter, "Ligue des droits", revision=french.revision)

    plain = signed(client, letter)
    detailed = signed(client, letter, versions="1")

    assert "Version confirmed" not in plain
    entries = dict(re.findall(r'<b class="entry__name"[^>]*>(.*?)</b>[^<]*\n(Version confirmed: [^<\n]*)</li>',
                              detailed))
    assert entries == {"Coalition for Housing Rights": "Version confirmed: English",
                       "Ligue des droits": "Version confirmed: Français"}
    assert "Français: 1 listed organisation confirmed this version." in visible_text(detailed)


def test_the_public_counts_per_version_never_tell_what_an_unnamed_organisation_read(client, letter):
    arabic = translate(letter, "ar", dict(FRENCH, title="صادقوا على البروتوكول"))
    add_endorsement(letter, "Coalition for Housing Rights")
    add_endorsement(letter, "Unnamed network", revision=arabic.revision, consent_public=False)

    detailed = visible_text(signed(client, letter, versions="1"))

    assert "English: 1 listed organisation confirmed this version." in detailed
    assert "العربية: 0 listed organisations confirmed this version." in detailed
    assert "Unnamed network" not in detailed


def test_the_csv_tells_the_version_each_endorser_confirmed(client, signed_in, letter):
    french = translate(letter)
    add_endorsement(letter, "Coalition for Housing Rights")
    add_endorsement(letter, "Ligue des droits", revision=french.revision)

    text = client.get(f"/coordinator/letters/{letter.id}/endorsements.csv").get_data(as_text=True).lstrip("\ufeff")

    rows = {row["Organisation"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["Ligue des droits"]["Version confirmed"] == "fr"
    assert rows["Coalition for Housing Rights"]["Version confirmed"] == "en"
    assert rows["Ligue des droits"]["Revision"] == "1"


# -- the coordinators' pages -------------------------------------------------------------------------------


def test_the_letter_page_links_to_the_translations(client, signed_in, letter):
    html = page(client, f"/coordinator/letters/{letter.id}")

    assert f'href="/coordinator/letters/{letter.id}/translations"' in html


def test_the_revisions_of_the_original_are_its_own(client, signed_in, letter):
    french = translate(letter)

    html = page(client, f"/coordinator/letters/{letter.id}/revisions")

    assert letter.current_revision.fingerprint in html
    assert french.fingerprint not in html


def test_the_original_cannot_move_to_a_language_it_is_translated_into(client, signed_in, letter):
    translate(letter)
    form = page(client, f"/coordinator/letters/{letter.id}/edit")

    response = client.post(f"/coordinator/letters/{letter.id}/edit", data={
        "title": letter.title, "addressee": letter.addressee, "body": letter.body, "closing": letter.closing,
        "signature": letter.signature, "language": "fr", "notify": "none", "save": "Save letter",
        "csrf_token": csrf_from(form)})

    assert response.status_code == 400
    assert "The letter has a translation into Français" in unescape(html_of(response))
    db.session.expire_all()
    assert letter.language == "en"
