"""The signed letter ready to print for a head of state, and the coordinators' CSV of
every endorsement."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from html import unescape

import pytest

from petition.letters.rules import LetterDraft, close_letter, update_letter
from petition.core.extensions import db
from petition.models import EndorsementStatus, Revision

from werkzeug.datastructures import MultiDict

from conftest import add_endorsement, make_letter, visible_text
from petition.exports.options import DocumentOptions, InvalidOptions
from querycount import counting_queries

PLATFORM = "Malaysian Platform for ESCR"


@pytest.fixture(autouse=True)
def malaysian_platform(platform):
    """The letters here belong to a platform with a name of its own: its letterhead."""
    platform.name = PLATFORM
    db.session.commit()
    return platform



def entry_names(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'<b class="entry__name"[^>]*>(.*?)</b>', html, re.S)]


def groups_of(html: str) -> dict[str, list[str]]:
    """Each group heading of the signed letter with the names listed under it."""
    found = {}
    for block in html.split('<h3 class="endorsers__group">')[1:]:
        heading, rest = block.split("</h3>", 1)
        found[unescape(heading)] = entry_names(rest.split("</ol>", 1)[0])
    return found


def signed(client, letter, **query) -> str:
    response = client.get(f"/national/{letter.slug}/signed", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def revise(letter, coordinator, **changes) -> Revision:
    draft = LetterDraft(**{**letter.text_parts(), "language": letter.language, "goal": letter.goal,
                           "deadline": letter.deadline, "requires_approval": letter.requires_approval,
                           "notify": letter.notify, **changes})
    revision = update_letter(letter, draft, coordinator, note="Clarified the request")
    assert revision is not None
    return revision


# -- the signed letter -----------------------------------------------------------------


def test_signed_letter_has_letterhead_date_addressee_text_closing_and_signature(client, clock, letter):
    html = signed(client, letter)

    assert f'<p class="letterhead__name" dir="auto">{PLATFORM}</p>' in html
    assert '<p class="letterhead__date">28 November 2026</p>' in html
    assert '<p class="addressee">H.E. the President of the Republic</p>' in html
    assert '<h1 class="subject">Ratify the OP-ICESCR</h1>' in html
    assert "We urge you to <strong>ratify</strong> the Optional Protocol." in html
    assert "Respectfully," in html.split('class="closing"')[1].split("</p>")[0]
    assert "The National Platform" in html.split('class="signature"')[1].split("</p>")[0]
    assert 'href="/static/css/print.css"' in html


def test_closed_letter_is_dated_the_day_it_closed(client, clock, coordinator):
    letter = make_letter(coordinator)
    clock.advance(days=20)
    close_letter(letter, coordinator)
    clock.advance(days=30)

    html = signed(client, letter)

    assert '<p class="letterhead__date">18 December 2026</p>' in html


def test_signed_letter_counts_every_published_endorsement_and_says_how_many_are_unnamed(client, letter):
    add_endorsement(letter, "Alpha Rights")
    add_endorsement(letter, "Beta Union")
    add_endorsement(letter, "Gamma Network")
    add_endorsement(letter, "Quiet Foundation", consent_public=False)
    add_endorsement(letter, "Not Yet Confirmed", status=EndorsementStatus.PENDING)
    add_endorsement(letter, "Awaiting Approval", status=EndorsementStatus.CONFIRMED)
    add_endorsement(letter, "Turned Down", status=EndorsementStatus.REJECTED)
    add_endorsement(letter, "Changed Their Mind", status=EndorsementStatus.WITHDRAWN)

    html = signed(client, letter)

    assert "Endorsed by 4 organisations</h2>" in html
    assert "3 organisations are listed below. 1 organisation asked not to be named publicly." in html
    assert entry_names(html) == ["Alpha Rights", "Beta Union", "Gamma Network"]
    for absent in ("Quiet Foundation", "Not Yet Confirmed", "Awaiting Approval", "Turned Down", "Changed Their Mind"):
        assert absent not in html


def test_signed_letter_with_one_endorsement_uses_the_singular_and_no_note(client, letter):
    add_endorsement(letter, "Alpha Rights")

    html = signed(client, letter)

    assert "Endorsed by 1 organisation</h2>" in html
    assert "asked not to be named" not in html


def test_signed_letter_lists_endorsers_alphabetically_with_type_city_and_country(client, letter):
    add_endorsement(letter, "Zenith Workers' Union", organisation_type="trade_union", city="Penang")
    add_endorsement(letter, "asociación derechos ya", country="UY", city="Montevideo")
    add_endorsement(letter, "Coalition for Housing Rights", organisation_type="network")

    html = signed(client, letter)

    assert entry_names(html) == ["asociación derechos ya", "Coalition for Housing Rights", "Zenith Workers' Union"]
    assert "\nNon-governmental organisation (NGO), Montevideo, Uruguay</li>" in html
    assert "Network, coalition or federation, Malaysia" in html
    assert 'class="endorsers__group"' not in html


def test_signed_letter_can_group_endorsers_by_type(client, letter):
    add_endorsement(letter, "Zenith Workers' Union", organisation_type="trade_union")
    add_endorsement(letter, "Beta Union", organisation_type="trade_union")
    add_endorsement(letter, "Alpha Rights", organisation_type="ngo")

    html = signed(client, letter, group="type")

    assert groups_of(html) == {
        "Non-governmental organisation (NGO) (1)": ["Alpha Rights"],
        "Trade union or workers' organisation (2)": ["Beta Union", "Zenith Workers' Union"],
    }
    assert list(groups_of(html)) == ["Non-governmental organisation (NGO) (1)",
                                     "Trade union or workers' organisation (2)"]


def test_signed_letter_can_group_endorsers_by_country(client, letter):
    add_endorsement(letter, "Women's Land Rights Collective", country="KE")
    add_endorsement(letter, "Coalition for Housing Rights", country="MY")
    add_endorsement(letter, "Asociación Derechos Ya", country="UY")
    add_endorsement(letter, "Alpha Rights", country="MY")

    html = signed(client, letter, group="country")

    assert groups_of(html) == {
        "Kenya (1)": ["Women's Land Rights Collective"],
        "Malaysia (2)": ["Alpha Rights", "Coalition for Housing Rights"],
        "Uruguay (1)": ["Asociación Derechos Ya"],
    }
    assert list(groups_of(html)) == ["Kenya (1)", "Malaysia (2)", "Uruguay (1)"]


def test_signed_letter_is_a4_unless_letter_paper_is_asked_for(client, letter):
    a4 = signed(client, letter)
    us_letter = signed(client, letter, paper="letter")

    assert "paper-letter.css" not in a4
    assert "css/paper-letter.css" in us_letter
    assert '<option value="letter" selected>' in us_letter


@pytest.mark.parametrize("query", [{"group": "colour"}, {"group": "TYPE"}, {"paper": "a3"}, {"paper": ""},
                                   {"group": "type", "paper": "legal"}])
def test_signed_letter_refuses_an_unknown_grouping_or_paper_size(client, letter, query):
    response = client.get(f"/national/{letter.slug}/signed", query_string=query)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Error 400" in html and "Bad request" in html
    assert 'class="site-header"' in html


def test_signed_letter_shows_the_revision_and_the_fingerprint_of_its_text(client, clock, letter):
    html = signed(client, letter)
    revision = letter.current_revision

    assert revision.number == 1
    assert "Text: revision 1 of 28 November 2026." in html
    assert f"<code>{revision.fingerprint}</code>" in html
    assert "earlier revision" not in html


def test_fingerprint_is_the_sha256_of_the_canonical_text_anyone_can_recompute(client, letter):
    canonical = ("title:\nRatify the OP-ICESCR\n\n"
                 "addressee:\nH.E. the President of the Republic\n\n"
                 "body:\nWe urge you to **ratify** the Optional Protocol.\n\n"
                 "closing:\nRespectfully,\n\n"
                 "signature:\nThe National Platform")
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    html = signed(client, letter)

    assert letter.current_revision.fingerprint == expected
    assert re.findall(r"<code>([0-9a-f]{64})</code>", html) == [expected]


def test_a_revised_text_shows_the_new_revision_and_counts_endorsements_of_earlier_ones(client, coordinator, letter):
    first = letter.current_revision
    add_endorsement(letter, "Alpha Rights", revision=first)
    add_endorsement(letter, "Quiet Foundation", revision=first, consent_public=False)
    add_endorsement(letter, "Pending Forever", revision=first, status=EndorsementStatus.PENDING)
    second = revise(letter, coordinator, body="We urge you to **ratify** the Optional Protocol this year.")
    add_endorsement(letter, "Beta Union", revision=second)

    html = signed(client, letter)

    assert second.number == 2
    assert "Text: revision 2 of" in html
    assert f"<code>{second.fingerprint}</code>" in html
    assert first.fingerprint not in html
    assert second.fingerprint == letter.fingerprint != first.fingerprint
    assert "We urge you to <strong>ratify</strong> the Optional Protocol this year." in html
    assert "2 of these endorsements were given to an earlier revision of the text." in html


def test_signed_letter_has_a_toolbar_for_screen_only_and_a_link_back(client, letter):
    html = signed(client, letter)

    toolbar = html.split('<nav class="toolbar"', 1)[1].split("</nav>", 1)[0]
    assert f'href="/national/{letter.slug}"' in toolbar
    assert 'name="group"' in toolbar and 'name="paper"' in toolbar
    assert "toolbar" not in html.split('<main class="document">', 1)[1]
    assert f"Public list: https://letters.example.org/national/{letter.slug}" in html


def _css_blocks(css: str) -> dict[str, str]:
    """Top-level selectors (and at-rules) of a stylesheet with their bodies."""
    blocks, depth, start, selector = {}, 0, 0, ""
    for i, char in enumerate(css):
        if char == "{":
            if depth == 0:
                selector = re.sub(r"/\*.*?\*/", "", css[start:i], flags=re.S).strip()
                start = i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks[selector] = blocks.get(selector, "") + css[start:i]
                start = i + 1
    return blocks


def test_print_stylesheet_sets_the_page_numbers_and_keeps_entries_whole(client):
    response = client.get("/static/css/print.css")
    assert response.status_code == 200
    css = response.get_data(as_text=True)
    response.close()
    blocks = _css_blocks(css)

    def rules_for(selector: str) -> str:
        return "".join(body for selectors, body in blocks.items()
                       if selector in (s.strip() for s in selectors.split(",")))

    assert re.search(r"size:\s*A4", blocks["@page"])
    assert "counter(page)" in blocks["@page"]
    assert re.search(r"break-inside:\s*avoid", rules_for(".entry"))
    assert re.search(r"\.toolbar\s*\{\s*display:\s*none", blocks["@media print"])
    assert re.search(r"columns:\s*[2-9]", rules_for(".endorser-columns"))


# -- the document's options (the same for the print page and the PDF) ------------------------


def test_options_read_from_a_query_and_written_back_in_one_order():
    options = DocumentOptions.from_args(MultiDict([("versions", "1"), ("fields", "comment"), ("fields", "type"),
                                                   ("order", "date"), ("paper", "letter"), ("columns", "3"),
                                                   ("asof", "1"), ("text", "fr,en"), ("group", "country")]))

    assert options == DocumentOptions(paper="letter", columns=3, order="date", group="country",
                                      fields=("type", "comment"), asof=True, text=("fr", "en"), versions=True)
    assert list(options.as_args().items()) == [
        ("paper", "letter"), ("columns", "3"), ("order", "date"), ("group", "country"), ("fields", "type,comment"),
        ("asof", "1"), ("text", "fr,en"), ("versions", "1")]
    assert DocumentOptions.from_args(options.as_args()) == options, "what a job stores gives the same options back"
    assert DocumentOptions.from_args({}) == DocumentOptions() and DocumentOptions().as_args() == {}
    assert DocumentOptions.from_args({"fields": "type,city,country", "group": ""}).as_args() == {}
    assert DocumentOptions.from_args({"fields": ""}).as_args() == {"fields": ""}, "no field at all is said"


def test_the_key_of_the_options_names_every_value_the_same_way_every_time():
    default = DocumentOptions()
    widest = DocumentOptions.from_args({"paper": "letter", "columns": "3", "order": "country", "group": "type",
                                        "fields": "type,country,city,website,comment", "asof": "1",
                                        "text": ",".join(f"zh-Hant-{n:04d}" for n in range(8)), "versions": "1"})

    assert default.key == "paper=a4;columns=2;order=name;group=;fields=type,city,country;asof=;text=;versions="
    assert DocumentOptions.from_args({"fields": "country,type,city"}).key == default.key
    assert DocumentOptions.from_args({"order": "date"}).key != default.key
    assert len(widest.key) <= 400


@pytest.mark.parametrize("query", [{"columns": "two"}, {"columns": "4"}, {"columns": "0"}, {"order": "random"},
                                   {"order": "NAME"}, {"fields": "type,email"}, {"fields": "contact_name"},
                                   {"fields": "organisation_key"}, {"asof": "yes"}, {"versions": "true"},
                                   {"paper": "a3"}, {"text": "<script>"},
                                   {"text": ",".join(f"l{c}{c}" for c in "abcdefghi")}])  # nine languages
def test_options_refuse_any_value_they_do_not_know(query):
    with pytest.raises(InvalidOptions):
        DocumentOptions.from_args(query)


@pytest.mark.parametrize("query", [{"columns": "two"}, {"order": "random"}, {"fields": "type,email"},
                                   {"fields": "contact_name"}, {"asof": "yes"}, {"columns": ["2", "3"]}])
def test_the_signed_letter_refuses_a_bad_option_with_400(client, letter, query):
    add_endorsement(letter, "Alpha Rights", email="private@alpha.example.org")

    response = client.get(f"/national/{letter.slug}/signed", query_string=query)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Bad request" in html and "private@alpha.example.org" not in html and "Alpha Rights" not in html


def endorse_on(clock, letter, organisation: str, days: int, **fields):
    clock.advance(days=days)
    return add_endorsement(letter, organisation, **fields)


def test_the_list_in_the_order_asked_for(client, clock, letter):
    endorse_on(clock, letter, "Zenith Workers' Union", 0, country="UY", organisation_type="trade_union")
    endorse_on(clock, letter, "Beta Union", 1, country="KE", organisation_type="trade_union")
    endorse_on(clock, letter, "Alpha Rights", 0, country="MY", organisation_type="network")
    endorse_on(clock, letter, "Coalition for Housing", 2, country="KE", organisation_type="ngo")

    assert entry_names(signed(client, letter)) == [
        "Alpha Rights", "Beta Union", "Coalition for Housing", "Zenith Workers' Union"]
    assert entry_names(signed(client, letter, order="date")) == [
        "Zenith Workers' Union", "Alpha Rights", "Beta Union", "Coalition for Housing"], "oldest first, ties by name"
    assert entry_names(signed(client, letter, order="country")) == [
        "Beta Union", "Coalition for Housing", "Alpha Rights", "Zenith Workers' Union"], "Kenya, Malaysia, Uruguay"
    assert entry_names(signed(client, letter, order="type")) == [
        "Alpha Rights", "Coalition for Housing", "Beta Union", "Zenith Workers' Union"], "network, NGO, trade union"
    # Grouped, each group keeps the order asked for.
    assert groups_of(signed(client, letter, group="country", order="date")) == {
        "Kenya (2)": ["Beta Union", "Coalition for Housing"], "Malaysia (1)": ["Alpha Rights"],
        "Uruguay (1)": ["Zenith Workers' Union"]}


def test_the_list_in_one_two_or_three_columns(client, letter):
    add_endorsement(letter, "Alpha Rights")

    assert 'class="endorser-columns endorser-columns--2"' in signed(client, letter)
    assert 'class="endorser-columns endorser-columns--1"' in signed(client, letter, columns="1")
    assert 'class="endorser-columns endorser-columns--3"' in signed(client, letter, columns="3")
    response = client.get("/static/css/print.css")
    css = _css_blocks(response.get_data(as_text=True))
    response.close()
    assert re.search(r"columns:\s*1\b", css[".endorser-columns--1"])
    assert re.search(r"columns:\s*3\b", css[".endorser-columns--3"])


def entry_of(html: str, name: str) -> str:
    """What an entry says after the organisation's name: its lines, one per field shown."""
    return html.split(f">{name}</b>", 1)[1].split("</li>", 1)[0]


def test_each_entry_shows_the_public_fields_asked_for_and_never_a_private_one(client, letter):
    add_endorsement(letter, "Alpha Rights", city="Penang", website="https://alpha.example.org",
                    comment="Housing is a right.", email="private@alpha.example.org", contact_name="Siti Rahman",
                    contact_role="Director")

    usual = entry_of(signed(client, letter), "Alpha Rights")
    chosen = entry_of(signed(client, letter, fields="website,comment"), "Alpha Rights")
    names_only = signed(client, letter, fields="")
    everything = signed(client, letter, fields="type,country,city,website,comment")

    assert usual == "\nNon-governmental organisation (NGO), Penang, Malaysia"  # each field a line of its own
    assert chosen == "\nhttps://alpha.example.org\nHousing is a right."
    assert entry_of(names_only, "Alpha Rights") == ""
    assert entry_of(everything, "Alpha Rights") == \
        "\nNon-governmental organisation (NGO), Penang, Malaysia\nhttps://alpha.example.org\nHousing is a right."
    for html in (usual, chosen, names_only, everything):
        assert "private@alpha.example.org" not in html and "Siti Rahman" not in html and "Director" not in html


def test_on_request_the_list_says_when_it_was_taken_in_utc(client, clock, letter):
    add_endorsement(letter, "Alpha Rights")
    clock.advance(hours=5, minutes=7)

    html = signed(client, letter, asof="1")

    assert '<p class="endorsers__as-of">Signatories as of 28 November 2026, 14:07 UTC</p>' in html
    assert "Signatories as of" not in signed(client, letter)


@pytest.mark.words
def test_the_as_of_line_is_written_in_the_documents_language(client, clock, coordinator):
    letter = make_letter(coordinator, language="fr", title="Ratifiez le PIDESC")

    html = signed(client, letter, asof="1")

    assert html.split('class="endorsers__as-of">', 1)[1].split("</p>")[0] == \
        "Signataires au 28 novembre 2026, à 09:00 UTC"


def test_the_toolbar_offers_every_option_with_the_current_ones_chosen(client, letter):
    html = signed(client, letter, order="date", columns="3", fields="type,website", asof="1", paper="letter")

    toolbar = html.split('<nav class="toolbar"', 1)[1].split("</nav>", 1)[0]
    for name in ("group", "order", "columns", "paper"):
        assert f'<label for="{name}">' in toolbar and f'<select id="{name}" name="{name}">' in toolbar
    assert '<option value="date" selected>' in toolbar and '<option value="3" selected>' in toolbar
    fieldset = toolbar.split("<fieldset", 1)[1].split("</fieldset>", 1)[0]
    assert "<legend>Show for each organisation</legend>" in fieldset
    assert re.findall(r'name="fields" value="(\w+)" (checked)?', fieldset) == [
        ("type", "checked"), ("city", ""), ("country", ""), ("website", "checked"), ("comment", "")]
    assert "email" not in fieldset and "contact" not in fieldset
    assert '<input type="checkbox" name="asof" value="1" checked>' in toolbar
    assert "PDF…" not in toolbar and "/coordinator/" not in toolbar, "no PDF link for the public"


def test_the_checkboxes_of_the_toolbar_give_the_same_page_as_a_link(client, letter):
    add_endorsement(letter, "Alpha Rights", website="https://alpha.example.org")

    from_the_form = client.get(f"/national/{letter.slug}/signed?fields=&fields=type&fields=website")
    none_ticked = client.get(f"/national/{letter.slug}/signed?fields=")

    assert from_the_form.get_data(as_text=True) == signed(client, letter, fields="type,website")
    assert entry_of(none_ticked.get_data(as_text=True), "Alpha Rights").strip() == ""


def test_a_coordinator_gets_a_link_to_the_pdf_with_the_same_options(client, signed_in, letter):
    html = signed(client, letter, order="date", paper="letter", fields="type,website")

    toolbar = html.split('<nav class="toolbar"', 1)[1].split("</nav>", 1)[0]
    link = re.search(r'<a class="toolbar__pdf" href="([^"]+)">PDF…</a>', toolbar).group(1)
    assert unescape(link) == f"/coordinator/letters/{letter.id}/pdf?paper=letter&order=date&fields=type,website"


def test_the_signed_letter_with_options_is_cached_and_with_an_unknown_parameter_is_not(app, letter):
    add_endorsement(letter, "Alpha Rights")
    query = "?order=date&columns=3&fields=type,country,city,website&asof=1&paper=letter"
    first = app.test_client().get(f"/national/{letter.slug}/signed{query}").get_data(as_text=True)

    with counting_queries() as cached:
        second = app.test_client().get(f"/national/{letter.slug}/signed{query}").get_data(as_text=True)
    with counting_queries() as uncached:
        app.test_client().get(f"/national/{letter.slug}/signed{query}&colour=red")

    assert second == first
    assert len(cached.statements) <= 1
    assert len(uncached.statements) > 2


# -- the coordinators' CSV ---------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_export_needs_a_signed_in_coordinator(client, letter):
    add_endorsement(letter, "Alpha Rights", email="private@alpha.example.org")

    response = client.get(f"/coordinator/letters/{letter.id}/endorsements.csv")

    assert response.status_code == 302
    assert "/coordinator/sign-in" in response.headers["Location"]
    assert b"private@alpha.example.org" not in response.get_data()


def test_csv_export_has_every_endorsement_of_the_letter_with_the_private_fields(client, signed_in, letter):
    add_endorsement(letter, "Asociación Derechos Ya", country="UY", city="Montevideo", contact_name="Lucía Pérez",
                    contact_role="Coordinadora", email="lucia@derechos.example.org", comment="¡Sí!")
    add_endorsement(letter, "Quiet Foundation", consent_public=False, email="quiet@example.org")
    add_endorsement(letter, "Not Yet Confirmed", status=EndorsementStatus.PENDING)
    add_endorsement(letter, "Turned Down", status=EndorsementStatus.REJECTED)
    other = make_letter(signed_in, title="Another letter")
    add_endorsement(other, "Other Letter Endorser", email="other@example.org")

    response = client.get(f"/coordinator/letters/{letter.id}/endorsements.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{letter.slug}-endorsements.csv"'
    rows = read_csv(response)
    assert [row["Organisation"] for row in rows] == [
        "Asociación Derechos Ya", "Quiet Foundation", "Not Yet Confirmed", "Turned Down"]
    assert [row["Status"] for row in rows] == ["published", "published", "pending", "rejected"]
    first = rows[0]
    assert first["Email address"] == "lucia@derechos.example.org"
    assert first["Contact name"] == "Lucía Pérez"
    assert first["Contact role"] == "Coordinadora"
    assert first["Comment"] == "¡Sí!"
    assert first["Country"] == "Uruguay" and first["Country code"] == "UY"
    assert first["City"] == "Montevideo"
    assert first["Listed publicly"] == "yes" and rows[1]["Listed publicly"] == "no"
    assert first["Revision"] == "1"
    assert "Other Letter Endorser" not in response.get_data(as_text=True)


def test_csv_export_of_a_letter_without_endorsements_has_just_the_header(client, signed_in, letter):
    response = client.get(f"/coordinator/letters/{letter.id}/endorsements.csv")

    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].split(",")[:3] == ["ID", "Status", "Organisation"]
    assert read_csv(response) == []


def test_csv_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, signed_in, letter):
    add_endorsement(letter, '=HYPERLINK("http://evil.example","Click")', city="+60 Kuala Lumpur",
                    contact_name="-2+3", contact_role="@SUM(A1:A9)", comment="=1+1 is two")
    add_endorsement(letter, "Plain Name", city="Penang - Island", comment="a = b")

    rows = read_csv(client.get(f"/coordinator/letters/{letter.id}/endorsements.csv"))

    risky, plain = rows
    assert risky["Organisation"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert risky["City"] == "'+60 Kuala Lumpur"
    assert risky["Contact name"] == "'-2+3"
    assert risky["Contact role"] == "'@SUM(A1:A9)"
    assert risky["Comment"] == "'=1+1 is two"
    assert plain["Organisation"] == "Plain Name"
    assert plain["City"] == "Penang - Island"
    assert plain["Comment"] == "a = b"


def test_csv_keeps_commas_quotes_and_line_breaks_inside_their_cells(client, signed_in, letter):
    add_endorsement(letter, 'Union "Solidarity", Penang', comment="First line,\nsecond \"line\"")

    rows = read_csv(client.get(f"/coordinator/letters/{letter.id}/endorsements.csv"))

    assert rows[0]["Organisation"] == 'Union "Solidarity", Penang'
    assert rows[0]["Comment"] == 'First line,\nsecond "line"'


def test_csv_export_of_an_unknown_letter_is_not_found(client, signed_in):
    assert client.get("/coordinator/letters/9999/endorsements.csv").status_code == 404


# -- the signed letter's languages ----------------------------------------------------------


def test_the_signed_letter_is_written_in_the_letters_language_and_its_toolbar_in_the_visitors(
        client, clock, coordinator):
    letter = make_letter(coordinator, language="fr", title="Ratifiez le PIDESC")

    html = client.get(f"/national/{letter.slug}/signed", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert '<html lang="fr" dir="ltr">' in html
    assert '<p class="letterhead__date">28 novembre 2026</p>' in html, "the date as the letter's readers write it"
    assert '<section class="endorsers">' in html, "its fixed words are in the letter's language: no lang of their own"
    toolbar = html.split('<nav class="toolbar"', 1)[1].split(">", 1)[0]
    assert 'lang="en" dir="ltr"' in toolbar


def test_an_arabic_visitor_gets_a_right_to_left_toolbar_on_an_english_letter(client, clock, letter):
    html = client.get(f"/national/{letter.slug}/signed", headers={"Accept-Language": "ar"}).get_data(as_text=True)

    assert '<html lang="en" dir="ltr">' in html
    toolbar = html.split('<nav class="toolbar"', 1)[1].split(">", 1)[0]
    assert 'lang="ar" dir="rtl"' in toolbar
    assert '<p class="letterhead__date">28 November 2026</p>' in html


def test_a_letter_in_a_language_the_interface_does_not_speak_keeps_its_fixed_words_in_the_visitors(
        client, clock, coordinator):
    letter = make_letter(coordinator, language="pt", title="Ratifiquem o PIDESC")
    add_endorsement(letter, "Associação Direitos Já")

    html = client.get(f"/national/{letter.slug}/signed", headers={"Accept-Language": "es"}).get_data(as_text=True)

    assert '<html lang="pt" dir="ltr">' in html
    assert '<section class="endorsers" lang="es" dir="ltr">' in html
    assert '<footer class="integrity" lang="es" dir="ltr">' in html
    assert '<p class="letterhead__date" lang="es" dir="ltr">28 de noviembre de 2026</p>' in html
