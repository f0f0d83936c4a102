"""A CSO in Dakar endorses, confirms and withdraws entirely in French: every page
and every email it reads is in French, and the emailed links keep it French
whatever the browser that opens them says."""

from __future__ import annotations

import pytest

from flask_babel import force_locale, gettext

from petition.outbox.models import MessageKind

from conftest import VALID_ENDORSEMENT, csrf_from, html_of, path_of, visible_text

# What the reader sees in their language: SQLite is enough (see conftest.py).
pytestmark = pytest.mark.words

FRENCH_BROWSER = {"Accept-Language": "fr-SN,fr;q=0.9,en;q=0.5"}


def in_language(app, language: str, msgid: str, **values) -> str:
    """What the catalogue says for ``msgid`` in ``language``: the words the
    reader must find (and not the English ones)."""
    with app.test_request_context("/"):
        with force_locale(language):
            translated = gettext(msgid, **values)
        with force_locale("en"):
            english = gettext(msgid, **values)
    assert translated != english, f"{msgid!r} is not translated into {language}"
    return translated


def test_a_french_endorser_reads_every_page_and_email_in_french(app, client, letter, outbox):
    fr = lambda msgid, **values: in_language(app, "fr", msgid, **values)  # noqa: E731
    letter_page = client.get(f"/national/{letter.slug}", headers=FRENCH_BROWSER)
    html = html_of(letter_page)
    assert '<html lang="fr" dir="ltr">' in html
    assert fr("Endorse this letter") in visible_text(html)
    assert "Endorse this letter" not in visible_text(html)

    answer = client.post(f"/national/{letter.slug}", headers=FRENCH_BROWSER, follow_redirects=True,
                         data={**VALID_ENDORSEMENT, "csrf_token": csrf_from(html)})
    assert fr("Check your email") in visible_text(html_of(answer))

    confirmation = outbox.last(VALID_ENDORSEMENT["email"], MessageKind.CONFIRM)
    assert confirmation.subject == fr("Confirm your endorsement: %(title)s", title=letter.title)
    assert 'lang="fr"' in confirmation.html_body
    link = outbox.link(VALID_ENDORSEMENT["email"])
    assert link.endswith("?lang=fr")

    # The link opens in French in a browser that asks for nothing in particular.
    elsewhere = app.test_client()
    confirm_page = elsewhere.get(path_of(link))
    assert fr("Confirm your endorsement") in visible_text(html_of(confirm_page))
    confirmed = elsewhere.post(path_of(link), data={"csrf_token": csrf_from(html_of(confirm_page))},
                               follow_redirects=True)
    assert fr("Thank you, %(organisation)s", organisation=VALID_ENDORSEMENT["organisation"]) in visible_text(
        html_of(confirmed))

    thanks = outbox.last(VALID_ENDORSEMENT["email"], MessageKind.THANK_YOU)
    assert thanks.subject == fr("Thank you for endorsing: %(title)s", title=letter.title)
    assert fr("If you ever need to withdraw this endorsement, use this link:") in thanks.text_body
    withdraw_link = outbox.link(VALID_ENDORSEMENT["email"], MessageKind.THANK_YOU, containing="/withdraw/")
    assert withdraw_link.endswith("?lang=fr")

    withdraw_page = elsewhere.get(path_of(withdraw_link))
    assert fr("Withdraw your endorsement") in visible_text(html_of(withdraw_page))
    withdrawn = elsewhere.post(path_of(withdraw_link), data={"csrf_token": csrf_from(html_of(withdraw_page))},
                               follow_redirects=True)
    assert fr("Endorsement withdrawn") in visible_text(html_of(withdrawn))

    goodbye = outbox.last(kind=MessageKind.WITHDRAWN)
    assert goodbye.subject == fr("Your endorsement is withdrawn: %(title)s", title=letter.title)
    assert 'lang="fr"' in goodbye.html_body


def test_the_switcher_wins_over_the_link_and_the_browser(app, client, letter):
    page = client.get(f"/language/es?next=/national/{letter.slug}")
    assert page.status_code == 303
    html = html_of(client.get(f"/national/{letter.slug}?lang=fr", headers=FRENCH_BROWSER))
    assert '<html lang="es" dir="ltr">' in html
    assert in_language(app, "es", "Endorse this letter") in visible_text(html)


def test_an_arabic_interface_is_right_to_left_and_names_each_language_in_itself(app, client, letter):
    html = html_of(client.get(f"/national/{letter.slug}", headers={"Accept-Language": "ar"}))
    assert '<html lang="ar" dir="rtl">' in html
    assert in_language(app, "ar", "Endorse this letter") in visible_text(html)
    switcher = html.split('class="wrap language-switcher"', 1)[1].split(">", 1)[1].split("</nav>", 1)[0]
    switcher = visible_text(switcher)
    assert switcher == "English Français Español العربية"
