"""Translations of a letter: added, reviewed and published by coordinators, each
with its own revisions (numbered per language) and fingerprints; viewers read
them and change nothing; endorsements of every language version belong to the
one letter and are counted once. Real database, on SQLite and PostgreSQL.

The tests of the public pages (the version shown, the endorse and confirm forms,
the signed letter) need changes outside the translation files: they are in
tests/test_letter_versions_public.py."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from petition.accounts.rules import create_coordinator
from petition.core.extensions import db
from petition.letters import translations
from petition.letters.models import LetterTranslation, Revision, text_fingerprint
from petition.letters.rules import LetterDraft, letter_counts, update_letter
from petition.letters.translations import (
    TranslationChanged,
    TranslationError,
    TranslationExists,
    TranslationText,
    add_translation,
    edit_translation,
    publish_translation,
    unpublish_translation,
)
from petition.models import AuditEvent, Endorsement, Role

from conftest import (
    PASSWORD,
    add_endorsement,
    csrf_from,
    everything_stored,
    field_error,
    flashes,
    html_of,
    make_letter,
    public_count,
    run_at_once,
    sign_in_with_password,
)

DASHBOARD = "/coordinator/"
FRENCH = dict(
    title="Ratifiez le Protocole facultatif",
    addressee="S.E. le Président de la République",
    body="Nous vous demandons de **ratifier** le Protocole facultatif.",
    closing="Respectueusement,",
    signature="La Plateforme nationale",
)
SPANISH = dict(
    title="Ratifique el Protocolo Facultativo",
    addressee="S.E. el Presidente de la República",
    body="Le pedimos que **ratifique** el Protocolo Facultativo.",
    closing="Atentamente,",
    signature="La Plataforma Nacional",
)


# -- helpers -----------------------------------------------------------------------------------


def french(letter, coordinator=None, publish: bool = True, **changes) -> LetterTranslation:
    translation = add_translation(letter, "fr", TranslationText(**{**FRENCH, **changes}), coordinator)
    if publish:
        publish_translation(translation, coordinator)
    return stored_translation(letter, "fr")


def stored_translation(letter, language: str) -> LetterTranslation | None:
    db.session.expire_all()
    return db.session.scalar(select(LetterTranslation).where(
        LetterTranslation.letter_id == letter.id, LetterTranslation.language == language))


def revisions(letter, language: str) -> list[tuple[int, str]]:
    """(number, fingerprint) of the letter's revisions in one language, oldest first."""
    db.session.expire_all()
    return [(r.number, r.fingerprint) for r in db.session.scalars(select(Revision).where(
        Revision.letter_id == letter.id, Revision.language == language).order_by(Revision.number))]


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def translations_url(letter, *rest: str) -> str:
    return "/".join([f"/coordinator/letters/{letter.id}/translations", *rest])


def translation_form(**changes) -> dict:
    return {**FRENCH, "save": "Save translation", **changes}


def options_of(html: str, select_id: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [value for value in re.findall(r'<option[^>]*value="([^"]*)"', select_html) if value]


def textarea_value(html: str, field_id: str) -> str | None:
    match = re.search(rf'<textarea[^>]*\bid="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    return unescape(match.group(1)).strip() if match else None


def input_value(html: str, field_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>', html)
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0)) if tag else None
    return unescape(value.group(1)) if value else None


# -- adding ------------------------------------------------------------------------------------


def test_the_add_form_offers_every_other_language_and_starts_from_the_original(client, signed_in, letter):
    html = html_of(client.get(translations_url(letter, "new")))

    offered = options_of(html, "language")
    assert "en" not in offered, "not the original's language"
    assert {"fr", "es", "ar", "pt"} <= set(offered)
    assert input_value(html, "title") == letter.title
    assert input_value(html, "addressee") == letter.addressee
    assert textarea_value(html, "body") == letter.body
    assert textarea_value(html, "closing") == letter.closing


def test_adding_a_translation_saves_a_draft_and_makes_no_revision(client, signed_in, csrf, letter):
    response = client.post(translations_url(letter, "new"),
                           data={**translation_form(language="fr"), "csrf_token": csrf(DASHBOARD)})

    assert response.headers["Location"] == translations_url(letter)
    assert "Translation into Français saved as a draft. Publish it once it is reviewed." in flashes(
        html_of(client.get(response.headers["Location"])))
    stored = stored_translation(letter, "fr")
    assert stored.status == "draft" and stored.published_at is None
    assert stored.text_parts() == FRENCH
    assert stored.created_by_id == signed_in.id
    assert revisions(letter, "fr") == []
    assert [e.detail for e in events("translation.added")] == ["fr"]
    # The language is no longer offered for a new translation.
    assert "fr" not in options_of(html_of(client.get(translations_url(letter, "new"))), "language")


@pytest.mark.parametrize("language, message", [
    ("en", "Choose one of the languages offered."),  # the original's language
    ("xx", "Choose one of the languages offered."),
    ("", "Choose the language of the translation."),
])
def test_a_language_not_offered_is_refused_next_to_its_field(client, signed_in, csrf, letter, language, message):
    before = everything_stored()

    response = client.post(translations_url(letter, "new"),
                           data={**translation_form(language=language), "csrf_token": csrf(DASHBOARD)})

    assert response.status_code == 400
    assert field_error(html_of(response), "language") == message
    assert everything_stored() == before


def test_the_rules_refuse_the_original_language_and_unknown_ones(app, letter):
    with pytest.raises(TranslationError, match="The letter is written in English already"):
        add_translation(letter, "en", TranslationText(**FRENCH), None)
    with pytest.raises(TranslationError, match="Choose one of the languages offered."):
        add_translation(letter, "klingon", TranslationText(**FRENCH), None)
    assert stored_translation(letter, "en") is None


def test_a_second_translation_into_the_same_language_is_refused_clearly(app, letter):
    french(letter, publish=False)

    with pytest.raises(TranslationExists, match="The letter already has a translation into Français: edit that one."):
        add_translation(letter, "fr", TranslationText(**FRENCH), None)


def test_two_coordinators_adding_the_same_language_at_once_make_one_translation(app, coordinator, letter):
    letter_id = letter.id

    def add(i: int):
        from petition.models import Letter

        current = db.session.get(Letter, letter_id)
        try:
            add_translation(current, "fr", TranslationText(**{**FRENCH, "title": f"Titre {i}"}), None)
        except TranslationExists as refusal:
            return str(refusal)
        return "added"

    results = run_at_once(app, 2, add)

    assert sorted(results) == ["The letter already has a translation into Français: edit that one.", "added"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(LetterTranslation)) == 1
    assert len(events("translation.added")) == 1


# -- publishing and revisions, numbered per language -------------------------------------------


def test_publishing_makes_revision_one_in_its_language_with_its_own_fingerprint(client, signed_in, csrf, letter,
                                                                                  clock):
    draft = french(letter, signed_in, publish=False)
    clock.advance(hours=2)

    response = client.post(translations_url(letter, "fr", "publish"),
                           data={"csrf_token": csrf(DASHBOARD), "fingerprint": draft.fingerprint})

    assert "Published: the Français version is on the public page." in flashes(
        html_of(client.get(response.headers["Location"])))
    stored = stored_translation(letter, "fr")
    assert stored.status == "published" and stored.published_at == clock.now
    [(number, fingerprint)] = revisions(letter, "fr")
    assert number == 1
    assert fingerprint == text_fingerprint(FRENCH)
    [(english_number, english_fingerprint)] = revisions(letter, "en")
    assert english_number == 1, "the original keeps its own numbering"
    assert english_fingerprint == text_fingerprint(letter.text_parts()) != fingerprint
    revision = db.session.scalars(select(Revision).where(Revision.language == "fr")).one()
    assert revision.text_parts() == FRENCH
    assert revision.created_by_id == signed_in.id and revision.created_at == clock.now
    assert [e.detail for e in events("translation.published")] == ["fr revision 1"]


def test_editing_a_published_translation_is_a_new_revision_in_its_language_only(app, coordinator, letter):
    translation = french(letter, coordinator)

    revision = edit_translation(translation, TranslationText(**{**FRENCH, "body": "Ratifiez-le, s'il vous plaît."}),
                                coordinator, note="Plus court")

    assert revision.number == 2 and revision.language == "fr" and revision.note == "Plus court"
    assert [n for n, _ in revisions(letter, "fr")] == [1, 2]
    assert [n for n, _ in revisions(letter, "en")] == [1]
    assert revisions(letter, "fr")[1][1] == text_fingerprint({**FRENCH, "body": "Ratifiez-le, s'il vous plaît."})
    assert stored_translation(letter, "fr").body == "Ratifiez-le, s'il vous plaît."
    assert [e.detail for e in events("translation.revised")] == ["fr revision 2"]

    # The original's next revision is its 2, whatever the French numbering says.
    update_letter(letter, LetterDraft(title=letter.title, addressee=letter.addressee, body="New English text.",
                                      closing=letter.closing, signature=letter.signature), coordinator)
    assert [n for n, _ in revisions(letter, "en")] == [1, 2]
    assert [n for n, _ in revisions(letter, "fr")] == [1, 2]


def test_each_language_numbers_its_revisions_from_one(app, coordinator, letter):
    french(letter, coordinator)
    add_translation(letter, "es", TranslationText(**SPANISH), coordinator)
    publish_translation(stored_translation(letter, "es"), coordinator)

    assert [n for n, _ in revisions(letter, "es")] == [1]
    fingerprints = {revisions(letter, code)[0][1] for code in ("en", "fr", "es")}
    assert len(fingerprints) == 3, "each language version has its own fingerprint"
    assert revisions(letter, "es")[0][1] == text_fingerprint(SPANISH)


def test_saving_the_same_text_again_makes_no_revision(app, coordinator, letter):
    translation = french(letter, coordinator)

    assert edit_translation(translation, TranslationText(**FRENCH), coordinator) is None
    # Spaces around the text and Windows line endings are not a change of wording either.
    assert edit_translation(stored_translation(letter, "fr"),
                            TranslationText(**{**FRENCH, "body": FRENCH["body"] + "  \r\n"}), coordinator) is None
    assert [n for n, _ in revisions(letter, "fr")] == [1]


def test_editing_a_draft_just_saves_it(client, signed_in, csrf, letter):
    french(letter, signed_in, publish=False)

    response = client.post(translations_url(letter, "fr", "edit"),
                           data={**translation_form(title="Un meilleur titre"), "csrf_token": csrf(DASHBOARD)})

    assert "Translation saved." in flashes(html_of(client.get(response.headers["Location"])))
    assert stored_translation(letter, "fr").title == "Un meilleur titre"
    assert revisions(letter, "fr") == []
    assert [e.detail for e in events("translation.edited")] == ["fr"]


def test_editing_a_public_translation_through_the_form_tells_the_new_revision(client, signed_in, csrf, letter):
    french(letter, signed_in)
    page = html_of(client.get(translations_url(letter, "fr", "edit")))
    assert "creates revision 2 of the Français text" in unescape(page)

    response = client.post(translations_url(letter, "fr", "edit"), data={
        **translation_form(body="Un texte plus clair."), "revision_note": "Plus clair",
        "base": input_value(page, "base") or re.search(r'name="base" type="hidden" value="(\w+)"', page).group(1),
        "csrf_token": csrf_from(page)})

    assert "Saved as revision 2 of the Français text." in flashes(html_of(client.get(response.headers["Location"])))
    assert [n for n, _ in revisions(letter, "fr")] == [1, 2]
    assert db.session.scalars(select(Revision).where(Revision.language == "fr", Revision.number == 2)).one().note \
        == "Plus clair"


def test_an_edit_over_another_coordinators_change_is_refused_and_loses_nothing(client, signed_in, csrf, letter):
    french(letter, signed_in)
    page = html_of(client.get(translations_url(letter, "fr", "edit")))
    # Meanwhile another coordinator saves their change.
    edit_translation(stored_translation(letter, "fr"), TranslationText(**{**FRENCH, "title": "Leur titre"}), None)
    base = re.search(r'name="base" type="hidden" value="(\w+)"|value="(\w+)"[^>]*name="base"', page)

    response = client.post(translations_url(letter, "fr", "edit"), data={
        **translation_form(title="Mon titre"), "base": base.group(1) or base.group(2), "csrf_token": csrf_from(page)})

    assert "Another coordinator changed this translation a moment ago. Read it again before saving or publishing." \
        in flashes(html_of(client.get(response.headers["Location"])))
    assert stored_translation(letter, "fr").title == "Leur titre"
    assert [n for n, _ in revisions(letter, "fr")] == [1, 2]


def test_two_coordinators_saving_new_text_at_once_make_one_revision_and_a_clear_message(app, coordinator, letter):
    french(letter, coordinator)
    letter_id, base = letter.id, text_fingerprint(FRENCH)

    def save(i: int):
        from petition.models import Letter

        translation = translations.find_translation(db.session.get(Letter, letter_id), "fr")
        try:
            edit_translation(translation, TranslationText(**{**FRENCH, "body": f"Version {i}"}), None,
                             base_fingerprint=base)
        except TranslationChanged:
            return "clash"
        return "saved"

    results = run_at_once(app, 2, save)

    assert sorted(results) == ["clash", "saved"]
    assert [n for n, _ in revisions(letter, "fr")] == [1, 2]
    assert stored_translation(letter, "fr").body in ("Version 0", "Version 1")


def test_publishing_ten_times_at_once_makes_one_revision(app, coordinator):
    """A double click, or ten: one publication, one revision, one audit record, every answer clean."""
    letter = make_letter(coordinator)
    draft = french(letter, coordinator, publish=False)
    browsers = []
    for _ in range(10):
        browser = app.test_client()
        sign_in_with_password(browser, coordinator.email)
        page = html_of(browser.get(translations_url(letter)))
        browsers.append((browser, csrf_from(page)))

    results = run_at_once(app, 10, lambda i: browsers[i][0].post(
        translations_url(letter, "fr", "publish"),
        data={"csrf_token": browsers[i][1], "fingerprint": draft.fingerprint}).status_code)

    assert results == [302] * 10
    assert stored_translation(letter, "fr").status == "published"
    assert [n for n, _ in revisions(letter, "fr")] == [1]
    assert len(events("translation.published")) == 1


def test_publishing_ten_times_at_once_through_the_rules_publishes_once(app, coordinator, letter):
    french(letter, coordinator, publish=False)
    letter_id = letter.id

    def publish(i: int):
        from petition.models import Letter

        translation = translations.find_translation(db.session.get(Letter, letter_id), "fr")
        try:
            return publish_translation(translation, None).number
        except TranslationError as refusal:
            return str(refusal)

    results = run_at_once(app, 10, publish)

    assert results.count(1) == 1, results
    assert all(result in (1, "This translation was published a moment ago.", "This translation is published already.")
               for result in results), results
    assert [n for n, _ in revisions(letter, "fr")] == [1]


def test_a_text_changed_since_the_coordinator_read_it_is_not_published(client, signed_in, csrf, letter):
    draft = french(letter, signed_in, publish=False)
    read = draft.fingerprint
    edit_translation(draft, TranslationText(**{**FRENCH, "body": "Un autre texte, pas encore relu."}), None)

    response = client.post(translations_url(letter, "fr", "publish"),
                           data={"csrf_token": csrf(DASHBOARD), "fingerprint": read})

    assert "Another coordinator changed this translation a moment ago. Read it again before saving or publishing." \
        in flashes(html_of(client.get(response.headers["Location"])))
    assert stored_translation(letter, "fr").status == "draft"
    assert revisions(letter, "fr") == []


def test_a_translation_waits_for_its_letter_to_be_published(app, coordinator):
    draft_letter = make_letter(coordinator, publish=False)
    translation = french(draft_letter, coordinator, publish=False)

    with pytest.raises(TranslationError, match="Publish the letter first"):
        publish_translation(translation, coordinator)
    assert stored_translation(draft_letter, "fr").status == "draft"
    assert revisions(draft_letter, "fr") == []


def test_a_copy_of_the_original_is_not_published_as_a_translation(app, coordinator, letter):
    copy = add_translation(letter, "fr", TranslationText(**letter.text_parts()), coordinator)

    with pytest.raises(TranslationError, match="still has the text of the original"):
        publish_translation(copy, coordinator)
    assert revisions(letter, "fr") == []


def test_publishing_twice_is_refused(app, coordinator, letter):
    translation = french(letter, coordinator)

    with pytest.raises(TranslationError, match="This translation is published already."):
        publish_translation(translation, coordinator)
    assert [n for n, _ in revisions(letter, "fr")] == [1]


# -- unpublishing and deleting ------------------------------------------------------------------


def test_unpublishing_keeps_the_revisions_and_republishing_continues_them(app, coordinator, letter):
    translation = french(letter, coordinator)

    unpublish_translation(translation, coordinator)

    stored = stored_translation(letter, "fr")
    assert stored.status == "draft"
    assert [n for n, _ in revisions(letter, "fr")] == [1]
    assert [v.language for v in translations.published_versions(letter)] == ["en"]

    # Published again unchanged: its last revision is public again, no new number.
    assert publish_translation(stored, coordinator).number == 1
    unpublish_translation(stored_translation(letter, "fr"), coordinator)
    # Changed while a draft (no revision then), published again: the next number.
    edit_translation(stored_translation(letter, "fr"), TranslationText(**{**FRENCH, "title": "Nouveau titre"}), None)
    assert revisions(letter, "fr") == [(1, text_fingerprint(FRENCH))]
    assert publish_translation(stored_translation(letter, "fr"), coordinator).number == 2
    assert [e.detail for e in events("translation.published")] == ["fr revision 1", "fr revision 1", "fr revision 2"]
    assert len(events("translation.unpublished")) == 2


def test_only_a_published_translation_can_be_unpublished(app, coordinator, letter):
    draft = french(letter, coordinator, publish=False)

    with pytest.raises(TranslationError, match="Only a published translation can be unpublished."):
        unpublish_translation(draft, coordinator)


def test_a_draft_never_published_can_be_deleted(client, signed_in, csrf, letter):
    french(letter, signed_in, publish=False)

    response = client.post(translations_url(letter, "fr", "delete"), data={"csrf_token": csrf(DASHBOARD)})

    assert "The Français draft is deleted." in flashes(html_of(client.get(response.headers["Location"])))
    assert stored_translation(letter, "fr") is None
    assert [e.detail for e in events("translation.deleted")] == ["fr"]


def test_a_translation_once_published_stays_on_record(client, signed_in, csrf, letter):
    translation = french(letter, signed_in)
    unpublish_translation(translation, signed_in)
    before = everything_stored(but=("audit_events",))

    response = client.post(translations_url(letter, "fr", "delete"), data={"csrf_token": csrf(DASHBOARD)})

    assert "A translation that was published is part of the record: it can be unpublished, but not deleted." in \
        flashes(html_of(client.get(response.headers["Location"])))
    assert everything_stored(but=("audit_events",)) == before


@pytest.mark.parametrize("action", ["publish", "unpublish", "delete"])
def test_a_translation_action_needs_a_valid_csrf_token(client, signed_in, letter, action):
    french(letter, signed_in, publish=action == "unpublish")
    before = everything_stored()

    assert client.post(translations_url(letter, "fr", action)).status_code == 400
    assert client.post(translations_url(letter, "fr", action), data={"csrf_token": "forged"}).status_code == 400
    assert everything_stored() == before


def test_an_unknown_language_or_translation_is_not_found(client, signed_in, csrf, letter):
    assert client.get(translations_url(letter, "fr", "edit")).status_code == 404
    assert client.get(translations_url(letter, "xx", "revisions")).status_code == 404
    assert client.post(translations_url(letter, "fr", "publish"), data={"csrf_token": csrf(DASHBOARD)}).status_code \
        == 404
    assert client.get("/coordinator/letters/999999/translations").status_code == 404


# -- the coordinators' pages -------------------------------------------------------------------------


def test_the_translations_page_lists_languages_with_status_revision_and_fingerprint(client, signed_in, letter):
    french(letter, signed_in)
    edit_translation(stored_translation(letter, "fr"), TranslationText(**{**FRENCH, "body": "Deuxième texte."}), None)
    add_translation(letter, "es", TranslationText(**SPANISH), signed_in)

    html = html_of(client.get(translations_url(letter)))

    rows = {re.search(r'<th scope="row"><span lang="(\w+)"', row).group(1): row
            for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", html, re.S)}
    assert set(rows) == {"en", "fr", "es"}
    [(_, english)] = revisions(letter, "en")
    assert english in rows["en"] and "(original)" in rows["en"]
    assert "Published" in rows["fr"] and ">2<" in rows["fr"]
    assert text_fingerprint({**FRENCH, "body": "Deuxième texte."}) in rows["fr"]
    assert "Draft" in rows["es"] and "–" in rows["es"]
    assert f'action="{translations_url(letter, "es", "publish")}"' in rows["es"]
    assert f'action="{translations_url(letter, "es", "delete")}"' in rows["es"]
    assert f'action="{translations_url(letter, "fr", "unpublish")}"' in rows["fr"]
    assert f'action="{translations_url(letter, "fr", "delete")}"' not in rows["fr"]
    assert "Add a translation" in html


def test_the_history_of_a_translation_has_its_own_numbering(client, signed_in, letter):
    french(letter, signed_in)
    edit_translation(stored_translation(letter, "fr"), TranslationText(**{**FRENCH, "body": "Deuxième texte."}), None,
                     note="Relu")

    html = unescape(html_of(client.get(translations_url(letter, "fr", "revisions"))))

    assert re.findall(r"<h2>Revision (\d+)</h2>", html) == ["2", "1"]
    assert "Relu" in html and "Changed: body" in html
    assert text_fingerprint(FRENCH) in html
    assert letter.current_revision.fingerprint not in html, "the original's history is not here"


def test_a_viewer_reads_the_translations_but_changes_nothing(app, platform, coordinator, letter):
    french(letter, coordinator)
    add_translation(letter, "es", TranslationText(**SPANISH), coordinator)
    create_coordinator("viewer@example.org", "Vera Viewer", PASSWORD, platform=platform, role=Role.VIEWER)
    viewer = app.test_client()
    sign_in_with_password(viewer, "viewer@example.org")

    page = viewer.get(translations_url(letter))
    assert page.status_code == 200
    assert "Add a translation" not in html_of(page) and "/publish" not in html_of(page)
    assert viewer.get(translations_url(letter, "fr", "revisions")).status_code == 200
    token = csrf_from(html_of(viewer.get(DASHBOARD)))
    before = everything_stored()
    for method, path in [("GET", translations_url(letter, "new")), ("GET", translations_url(letter, "fr", "edit")),
                         ("POST", translations_url(letter, "new")), ("POST", translations_url(letter, "fr", "edit")),
                         ("POST", translations_url(letter, "es", "publish")),
                         ("POST", translations_url(letter, "fr", "unpublish")),
                         ("POST", translations_url(letter, "es", "delete"))]:
        data = {**translation_form(language="ar"), "csrf_token": token}
        response = viewer.get(path) if method == "GET" else viewer.post(path, data=data)
        assert response.status_code == 403, (method, path)
    assert everything_stored() == before


def test_a_coordinator_of_another_platform_is_told_nothing(app, coordinator, letter):
    from petition.platforms.rules import PlatformDetails, create_platform

    other = create_platform(PlatformDetails(name="Another Platform", slug="another", country="FR",
                                            contact_email="other@example.org"))
    create_coordinator("other@example.org", "Otto Other", PASSWORD, platform=other)
    french(letter, coordinator)
    stranger = app.test_client()
    sign_in_with_password(stranger, "other@example.org")

    for path in (translations_url(letter), translations_url(letter, "fr", "revisions"),
                 translations_url(letter, "fr", "edit")):
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert FRENCH["title"] not in html_of(response)


# -- the versions the public reads, and endorsements of each -------------------------------------


def test_the_public_versions_are_the_original_and_the_published_translations(app, coordinator, letter):
    french(letter, coordinator)
    add_translation(letter, "es", TranslationText(**SPANISH), coordinator)  # a draft: not public

    versions = translations.published_versions(letter)

    assert [(v.language, v.is_original, v.title) for v in versions] == [
        ("en", True, letter.title), ("fr", False, FRENCH["title"])]
    assert versions[1].revision.number == 1 and versions[1].fingerprint == text_fingerprint(FRENCH)
    assert translations.version_for(letter, "fr").title == FRENCH["title"]
    assert translations.version_for(letter, "es") is None
    assert translations.choose_version(versions, None, "fr").language == "fr"
    assert translations.choose_version(versions, "en", "fr").language == "en", "?text= wins"
    assert translations.choose_version(versions, None, "ar").language == "en", "else the original"
    assert translations.choose_version(versions, "zz", "es").language == "en"


def test_only_the_current_text_of_a_public_version_is_current(app, coordinator, letter):
    french(letter, coordinator)
    first_french = translations.version_for(letter, "fr")
    first_english = letter.current_revision
    assert translations.is_current_text(letter, first_french.revision)
    assert translations.is_current_text(letter, first_english)

    edit_translation(stored_translation(letter, "fr"), TranslationText(**{**FRENCH, "body": "Révisé."}), None)
    assert not translations.is_current_text(letter, db.session.get(Revision, first_french.revision.id))
    assert translations.is_current_text(letter, translations.version_for(letter, "fr").revision)

    unpublish_translation(stored_translation(letter, "fr"), None)
    assert not translations.is_current_text(letter, translations.latest_revision(letter.id, "fr"))
    assert translations.is_current_text(letter, first_english)
    assert not translations.is_current_text(letter, None)
    other = make_letter(coordinator, title="Another letter")
    assert not translations.is_current_text(other, first_english), "a revision of another letter"
    assert translations.current_revision_ids(letter) == {first_english.id}


def test_the_signed_letter_versions_asked_for(app, coordinator, letter):
    french(letter, coordinator)

    assert [v.language for v in translations.signed_versions(letter, None)] == ["en"]
    assert [v.language for v in translations.signed_versions(letter, "fr")] == ["fr"]
    assert [v.language for v in translations.signed_versions(letter, "fr,en")] == ["fr", "en"]
    assert [v.language for v in translations.signed_versions(letter, "en,en")] == ["en"]
    assert translations.signed_versions(letter, "es") is None, "not a public version"
    assert translations.signed_versions(letter, "en,fr,en,fr,es") is None


def test_endorsements_of_each_version_belong_to_the_one_letter_and_count_once(client, app, coordinator, letter):
    translation = french(letter, coordinator)
    french_revision = translations.version_for(letter, "fr").revision
    add_endorsement(letter, "Coalition for Housing Rights")
    on_french = add_endorsement(letter, "Ligue des droits", revision=french_revision, country="SN")
    add_endorsement(letter, "Quiet Foundation", consent_public=False, revision=french_revision)

    db.session.expire_all()
    assert db.session.get(Endorsement, on_french.id).revision.language == "fr"
    assert letter_counts(letter).published == 3 and letter_counts(letter).listed == 2
    assert public_count(client, letter) == 3
    page = html_of(client.get(f"/national/{letter.slug}"))
    assert page.count("Ligue des droits") == 1 and page.count("Coalition for Housing Rights") == 1
    assert translations.endorsements_by_version(letter) == {"en": 1, "fr": 2}
    assert [(e.organisation, e.version_language) for e in translations.listed_with_versions(letter)] == [
        ("Coalition for Housing Rights", "en"), ("Ligue des droits", "fr")]

    # A revised or unpublished French text leaves them endorsed, and counted once.
    edit_translation(translation, TranslationText(**{**FRENCH, "body": "Révisé."}), coordinator)
    unpublish_translation(stored_translation(letter, "fr"), coordinator)
    assert letter_counts(letter).published == 3
    assert public_count(client, letter) == 3


def test_a_revision_sent_back_by_a_form_counts_only_for_its_own_letter(app, coordinator, letter):
    french(letter, coordinator)
    french_revision = translations.version_for(letter, "fr").revision
    other = make_letter(coordinator, title="Another letter")

    assert translations.revision_of(letter, french_revision.id).id == french_revision.id
    for forged in (None, 0, -1, 10**19, other.current_revision.id, 999_999):
        assert translations.revision_of(letter, forged) is None, forged
        assert translations.version_read_with(letter, forged).language == "en", "the original, then"
    assert translations.version_read_with(letter, french_revision.id).language == "fr"
