"""The signed letter as a PDF, end to end: a coordinator asks for it, a worker makes it
in the background (its progress on the page), it is kept and given again until the
list or the text changes; a delivery keeps the exact PDF delivered, which anyone can
download and check a copy against. Real databases, real PDFs."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from petition.accounts.rules import create_coordinator
from petition.core.extensions import db
from petition.exports.models import Document
from petition.jobs.models import Job, JobStatus
from petition.jobs.runner import run_due_jobs
from petition.letters.delivery import DeliveryDetails, DeliveryError, add_addressee, record_delivery
from petition.letters.rules import close_letter
from petition.models import Delivery, Endorsement, EndorsementStatus
from petition.platforms.rules import PlatformDetails, create_platform

from conftest import PASSWORD, add_endorsement, csrf_from, field_error, html_of, make_letter, post_multipart, \
    sign_in_with_password, visible_text


def pdf_page(letter, **options) -> str:
    query = "&".join(f"{name}={value}" for name, value in options.items())
    return f"/coordinator/letters/{letter.id}/pdf" + (f"?{query}" if query else "")


def ask_for_pdf(client, letter, **options):
    page = html_of(client.get(pdf_page(letter, **options)))
    return client.post(pdf_page(letter, **options), data={"csrf_token": csrf_from(page)})


def documents(letter) -> list[Document]:
    db.session.expire_all()
    return list(db.session.scalars(select(Document).where(Document.letter_id == letter.id).order_by(Document.id)))


def text_of(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def endorsed(letter):
    for name in ("Asian Forum for Human Rights", "Coalition for Housing Rights", "Women's Aid Organisation"):
        add_endorsement(letter, name)
    add_endorsement(letter, "Unlisted Union", consent_public=False)
    return letter


def test_a_coordinator_asks_for_the_pdf_and_a_worker_makes_it(client, signed_in, endorsed):
    asked = ask_for_pdf(client, endorsed)
    assert asked.status_code == 302 and asked.headers["Location"].endswith(pdf_page(endorsed))
    waiting = visible_text(html_of(client.get(pdf_page(endorsed))))
    assert "Waiting for a worker" in waiting and "Download the PDF" not in waiting
    status = client.get(pdf_page(endorsed).replace("/pdf", "/pdf/status")).get_json()
    assert status == {"state": "waiting", "progress": 0, "stage": "Waiting for a worker"}

    [job] = db.session.scalars(select(Job)).all()
    assert run_due_jobs("worker-1") == [job.id]

    [document] = documents(endorsed)
    ready = html_of(client.get(pdf_page(endorsed)))
    assert "Download the PDF" in ready and document.sha256 in ready
    status = client.get(pdf_page(endorsed).replace("/pdf", "/pdf/status")).get_json()
    assert status["state"] == "ready" and status["progress"] == 100
    download = client.get(status["download"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert hashlib.sha256(download.data).hexdigest() == document.sha256 == download.headers["X-Content-SHA256"]
    text = text_of(download.data)
    assert "Ratify the OP-ICESCR" in text and "Coalition for Housing Rights" in text
    assert "Unlisted Union" not in text
    assert (document.listed, document.endorsed_by, document.pages) == (3, 4, len(PdfReader(io.BytesIO(download.data)).pages))


def test_the_pdf_is_given_again_until_the_list_changes(client, signed_in, endorsed):
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    [first] = documents(endorsed)
    first_id = first.id
    ask_for_pdf(client, endorsed)  # nothing changed: no new job, the same file
    assert run_due_jobs("w") == [] and [d.id for d in documents(endorsed)] == [first_id]

    add_endorsement(endorsed, "Newly Published Network")
    page = visible_text(html_of(client.get(pdf_page(endorsed))))
    assert "No PDF was made yet" in page  # the kept one is of the list before
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    [second] = documents(endorsed)  # the older one, never delivered, is gone
    assert second.id != first_id and second.listed == 4
    assert "Newly Published Network" in text_of(second.content)


def test_each_choice_of_options_is_its_own_pdf(client, signed_in, endorsed):
    ask_for_pdf(client, endorsed)
    ask_for_pdf(client, endorsed, paper="letter")
    assert len(run_due_jobs("w")) == 2
    a4, letter_paper = documents(endorsed)
    assert a4.key != letter_paper.key
    width, height = PdfReader(io.BytesIO(letter_paper.content)).pages[0].mediabox.upper_right
    assert (round(float(width)), round(float(height))) == (612, 792)


def test_bad_options_and_drafts_have_no_pdf(client, signed_in, coordinator, letter):
    assert client.get(pdf_page(letter, paper="tabloid")).status_code == 400
    assert client.get(pdf_page(letter, columns="many")).status_code == 400
    assert client.get(pdf_page(letter, text="fr")).status_code == 404  # no public French version
    token = csrf_from(html_of(client.get(pdf_page(letter))))
    assert client.post(pdf_page(letter, text="fr"), data={"csrf_token": token}).status_code == 404
    draft = make_letter(coordinator, publish=False, title="Not yet")
    assert client.get(pdf_page(draft)).status_code == 404
    assert db.session.scalars(select(Job)).all() == []


def test_another_platforms_coordinator_cannot_see_or_ask_for_the_pdf(client, app, letter):
    other = create_platform(PlatformDetails(name="Plataforma Nacional", slug="plataforma", country="AR"))
    create_coordinator("otra@example.org", "Otra", PASSWORD, platform=other)
    sign_in_with_password(client, "otra@example.org")
    assert client.get(pdf_page(letter)).status_code == 404
    assert client.post(pdf_page(letter), data={}).status_code in (400, 404)
    assert db.session.scalars(select(Job)).all() == []


def test_asking_without_the_form_token_is_refused(client, signed_in, letter):
    assert client.post(pdf_page(letter), data={}).status_code == 400
    assert db.session.scalars(select(Job)).all() == []


def test_a_failed_pdf_says_why_and_can_be_asked_for_again(client, signed_in, app, letter):
    app.config["JOB_MAX_ATTEMPTS"] = 1
    ask_for_pdf(client, letter)
    [job] = db.session.scalars(select(Job)).all()
    job.details = {**job.details, "options": {"paper": "tabloid"}}  # as if the options had become invalid
    db.session.commit()
    run_due_jobs("w")
    page = visible_text(html_of(client.get(pdf_page(letter))))
    assert "Making the PDF failed." in page and "Options no longer valid" in page
    ask_for_pdf(client, letter)
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == JobStatus.QUEUED


# -- delivered --------------------------------------------------------------------------------


def closed_with_an_addressee(letter, coordinator, clock, days: int = 1):
    """The letter closed, some days on, with the addressee a delivery is recorded to."""
    close_letter(letter, coordinator)
    clock.advance(days=days)
    return add_addressee(letter, "H.E. the President", coordinator)


def hand_delivered(letter, president, coordinator, clock, document_id: int | None = None) -> Delivery:
    return record_delivery(letter, president, DeliveryDetails(delivered_on=clock.now.date(), method="hand",
                                                              document_id=document_id), coordinator)


@pytest.fixture
def delivered(client, signed_in, coordinator, endorsed, clock):
    """The letter closed, its PDF made, and delivered with it to the President."""
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    [document] = documents(endorsed)
    president = closed_with_an_addressee(endorsed, coordinator, clock, days=2)
    delivery = hand_delivered(endorsed, president, coordinator, clock, document.id)
    return delivery, document


def pdf_file(content: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename="letter.pdf", content_type="application/pdf")


def public(letter, path: str = "") -> str:
    return f"/national/{letter.slug}{path}"


def test_the_delivery_keeps_the_pdf_delivered_unchanged_after_later_changes(client, delivered, endorsed, coordinator):
    delivery, document = delivered
    before = document.content
    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).document_id == document.id
    # Later: an endorsement withdrawn, a new PDF asked for with the same options.
    add_endorsement(endorsed, "Late Network")
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    assert len(documents(endorsed)) == 2  # the delivered one stays beside the new one
    served = client.get(public(endorsed, f"/delivered/{delivery.id}.pdf"))
    assert served.status_code == 200 and served.data == before
    assert hashlib.sha256(served.data).hexdigest() == document.sha256
    assert "Late Network" not in text_of(served.data)


def test_the_public_page_links_the_pdf_delivered_and_the_check(client, delivered, endorsed):
    delivery, _document = delivered
    client.get("/coordinator/sign-out")
    html = html_of(client.get(public(endorsed)))
    assert f"/delivered/{delivery.id}.pdf" in html
    assert public(endorsed, "/check") in html


def test_a_copy_is_checked_by_its_file_or_its_fingerprint(client, delivered, endorsed):
    _delivery, document = delivered
    check = public(endorsed, "/check")
    form = html_of(client.get(check))
    assert document.sha256 in form
    same = post_multipart(client, check, {"csrf_token": csrf_from(form),
                                          "copy": pdf_file(document.content)})
    assert same.status_code == 200
    assert "Identical to the letter delivered on" in visible_text(html_of(same))
    changed = bytearray(document.content)
    changed[len(changed) // 2] ^= 0x01
    other = post_multipart(client, check, {"csrf_token": csrf_from(form),
                                           "copy": pdf_file(bytes(changed))})
    assert "Not identical to any PDF delivered" in visible_text(html_of(other))
    pasted = client.post(check, data={"csrf_token": csrf_from(form),
                                      "sha256": " ".join(document.sha256.upper()[i:i + 8] for i in range(0, 64, 8))})
    assert "Identical to the letter delivered on" in visible_text(html_of(pasted))


def test_a_check_without_a_file_or_with_a_malformed_fingerprint_says_what_to_fix(client, delivered, endorsed):
    check = public(endorsed, "/check")
    token = csrf_from(html_of(client.get(check)))
    empty = client.post(check, data={"csrf_token": token})
    assert empty.status_code == 400
    assert field_error(html_of(empty), "copy") == "Choose the PDF file, or paste its SHA-256 fingerprint."
    malformed = client.post(check, data={"csrf_token": token, "sha256": "not-a-hash"})
    assert malformed.status_code == 400
    assert field_error(html_of(malformed), "sha256") == "A SHA-256 fingerprint is 64 characters from 0-9 and a-f."
    assert client.post(check, data={"sha256": "0" * 64}).status_code == 400  # no form token


def test_a_delivery_cannot_name_another_letters_pdf(client, signed_in, coordinator, endorsed, clock):
    other = make_letter(coordinator, title="Another letter")
    ask_for_pdf(client, other)
    run_due_jobs("w")
    [theirs] = documents(other)
    president = closed_with_an_addressee(endorsed, coordinator, clock)
    with pytest.raises(DeliveryError) as refused:
        hand_delivered(endorsed, president, coordinator, clock, theirs.id)
    assert refused.value.field == "document"
    assert db.session.scalars(select(Delivery)).all() == []


def test_the_delivery_form_offers_the_letters_pdfs_newest_first(client, signed_in, coordinator, endorsed, clock):
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    [document] = documents(endorsed)
    president = closed_with_an_addressee(endorsed, coordinator, clock)
    path = f"/coordinator/letters/{endorsed.id}/addressees/{president.id}/delivery"
    form = html_of(client.get(path))
    assert f'<option selected value="{document.id}">' in form or f'value="{document.id}" selected' in form
    sent = client.post(path, data={"csrf_token": csrf_from(form), "delivered_on": clock.now.date().isoformat(),
                                   "method": "post", "document": str(document.id)})
    assert sent.status_code == 302
    db.session.expire_all()
    [delivery] = db.session.scalars(select(Delivery)).all()
    assert delivery.document_id == document.id
    record = html_of(client.get(f"/coordinator/letters/{endorsed.id}/addressees/{president.id}/delivered"))
    assert document.sha256 in record


def test_a_delivered_pdf_of_a_delivery_without_one_is_not_found(client, signed_in, coordinator, letter, clock):
    president = closed_with_an_addressee(letter, coordinator, clock)
    delivery = hand_delivered(letter, president, coordinator, clock)
    assert client.get(public(letter, f"/delivered/{delivery.id}.pdf")).status_code == 404
    assert client.get(public(letter, "/delivered/999999.pdf")).status_code == 404


def test_with_a_platform_key_the_pdf_delivered_is_signed_and_a_changed_byte_shows(client, signed_in, endorsed):
    from petition.signing.pdf import verify_pdf
    from petition.signing.keys import generate_key

    key = generate_key()
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    [document] = documents(endorsed)
    assert document.signer and key.certificate.subject.rfc4514_string().split(",")[0].split("=")[1] in document.signer
    assert "Not signed" not in visible_text(html_of(client.get(pdf_page(endorsed))))
    verified = verify_pdf(document.content)
    assert verified.valid and verified.platform_key == "current"
    assert hashlib.sha256(document.content).hexdigest() == document.sha256  # the hash is of the signed file
    changed = bytearray(document.content)
    changed[len(changed) // 3] ^= 0x01  # in the letter itself: the signature is appended after it
    assert not verify_pdf(bytes(changed)).valid


def test_without_a_platform_key_the_page_says_the_pdf_is_not_signed(client, signed_in, endorsed):
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    [document] = documents(endorsed)
    assert document.signer is None
    assert "Not signed: the platform has no signing key" in visible_text(html_of(client.get(pdf_page(endorsed))))


def test_a_viewer_downloads_the_pdf_made_but_cannot_have_one_made(client, app, endorsed, platform):
    from petition.accounts.models import Role

    create_coordinator("viewer@example.org", "Vera Viewer", PASSWORD, platform=platform, role=Role.VIEWER)
    sign_in_with_password(client, "viewer@example.org")
    page = html_of(client.get(pdf_page(endorsed)))
    assert "A coordinator of the platform can make it." in visible_text(page) and "Make the PDF" not in page
    token = csrf_from(html_of(client.get("/coordinator/")))
    assert client.post(pdf_page(endorsed), data={"csrf_token": token}).status_code == 403
    assert db.session.scalars(select(Job)).all() == []


def test_a_pdf_made_before_an_organisation_withdrew_cannot_be_named_as_delivered(
        client, signed_in, coordinator, endorsed, clock):
    """Else the name of an organisation that left would be published with the delivered letter."""
    ask_for_pdf(client, endorsed)
    run_due_jobs("w")
    [stale] = documents(endorsed)
    leaving = db.session.scalar(select(Endorsement).where(Endorsement.organisation == "Women's Aid Organisation"))
    leaving.status = EndorsementStatus.WITHDRAWN
    db.session.commit()
    president = closed_with_an_addressee(endorsed, coordinator, clock)
    path = f"/coordinator/letters/{endorsed.id}/addressees/{president.id}/delivery"
    form = html_of(client.get(path))
    assert f'value="{stale.id}"' not in form  # not even offered
    with pytest.raises(DeliveryError) as refused:
        hand_delivered(endorsed, president, coordinator, clock, stale.id)
    assert refused.value.field == "document" and "make it again" in refused.value.message
    assert db.session.scalars(select(Delivery)).all() == []


def test_a_pdf_whose_letter_changed_while_it_was_asked_for_is_not_kept(client, signed_in, endorsed):
    ask_for_pdf(client, endorsed)
    add_endorsement(endorsed, "Arrived Meanwhile")  # before a worker took the job
    run_due_jobs("w")
    assert documents(endorsed) == []
    [job] = db.session.scalars(select(Job)).all()
    assert job.status == JobStatus.FAILED and "changed since this PDF was asked for" in job.last_error
    page = visible_text(html_of(client.get(pdf_page(endorsed))))
    assert "No PDF was made yet" in page  # for the letter as it is now: ask again


def test_a_copy_larger_than_other_forms_allow_is_checked_and_one_past_the_limit_refused(client, app, delivered,
                                                                                          endorsed):
    _delivery, document = delivered
    check = public(endorsed, "/check")
    token = csrf_from(html_of(client.get(check)))
    large = document.content + b"%" + b"0" * (3 * 1024 * 1024)  # 3 MB: a long list's PDF, changed
    answer = post_multipart(client, check, {"csrf_token": token, "copy": pdf_file(large)})
    assert answer.status_code == 200
    assert "Not identical to any PDF delivered" in visible_text(html_of(answer))
    app.config["CHECK_MAX_MEGABYTES"] = 2
    assert post_multipart(client, check, {"csrf_token": token, "copy": pdf_file(large)}).status_code == 413
