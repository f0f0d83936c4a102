"""Properties of every public form and page, checked with generated input (Hypothesis).

Whatever a visitor sends — any Unicode (control characters, NUL, RTL and zero-width
marks), sizes at and beyond the field limits and MAX_CONTENT_LENGTH, bytes in other
encodings or not text at all, file parts where text belongs, a key given twice or
not at all, with or without a valid CSRF token — the answer is never a 500, and the
stored endorsements and emails change only as a valid submission intends. A valid
endorsement, in any script and with any address email-validator accepts, is stored
exactly as submitted (normalised) and its confirmation reaches that address.

One app and database serve all the examples of a test, so each example compares
snapshots taken just before and after its own request(s).
"""

from __future__ import annotations

import io
import itertools
import random
import string
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import quote_from_bytes, urlencode, urlsplit

import idna
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from petition.core.choices import ORGANISATION_TYPES, countries
from petition.core.clock import utcnow
from petition.core.extensions import db
from petition.core.names import email_key, organisation_key
from petition.core.tokens import Purpose, make_token
from petition.letters.rules import close_letter
from petition.models import Endorsement, EndorsementStatus, Letter, OutboxMessage
from petition.outbox.delivery import deliver_due

from conftest import (
    PASSWORD,
    VALID_ENDORSEMENT,
    Recorder,
    SMTPServer,
    add_endorsement,
    csrf_from,
    free_port,
    make_letter,
    post_multipart,
)

MAX_CONTENT_LENGTH = 1024 * 1024
ALLOWED_STATUSES = {200, 302, 400, 404, 405, 409, 410, 413, 429}
SETTINGS = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
TEXT_FIELDS = ("organisation", "city", "website", "contact_name", "contact_role", "email", "comment")
CHOICE_FIELDS = ("organisation_type", "country")
BOOLEAN_FIELDS = ("consent_public", "wants_updates")
ENDORSE_FIELDS = TEXT_FIELDS + CHOICE_FIELDS + BOOLEAN_FIELDS
PENDING_EMAIL = "waiting@pending.example.org"
_serial = itertools.count(1)


# -- what a visitor may send: descriptions with short reprs, made concrete per request ------


@dataclass(frozen=True)
class Repeated:
    """A long text: `unit` repeated to `size` characters (printed short in a failing example)."""

    unit: str
    size: int

    def text(self) -> str:
        return (self.unit * (self.size // len(self.unit) + 1))[:self.size]

    def __repr__(self) -> str:
        return f"Repeated({self.unit!r}, {self.size})"


@dataclass(frozen=True)
class FilePart:
    """A file part where the form expects text."""

    content: bytes
    filename: str
    content_type: str | None = None

    def part(self) -> FileStorage:
        return FileStorage(io.BytesIO(self.content), filename=self.filename, content_type=self.content_type)


Value = str | Repeated | FilePart


def concrete(value: Value) -> str | FilePart:
    return value.text() if isinstance(value, Repeated) else value


@dataclass(frozen=True)
class Submission:
    """Form fields in the order sent (a key may repeat or be missing), the CSRF token's
    fate, and the body's encoding."""

    fields: tuple[tuple[str, Value], ...]
    csrf: str
    encoding: str

    def texts(self, key: str) -> list[str]:
        """The text values sent for a key, in order (a form reads the first)."""
        return [concrete(value) for name, value in self.fields if name == key and not isinstance(value, FilePart)]

    def has_file(self, key: str) -> bool:
        return any(name == key and isinstance(value, FilePart) for name, value in self.fields)

    def data(self, token: str) -> MultiDict:
        pairs = [(name, value.part() if isinstance(value, FilePart) else concrete(value))
                 for name, value in self.fields]
        csrf = {
            "valid": [token],
            "missing": [],
            "wrong": [token[:-4] + "AAAA"],
            "other session": ["IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aaaa.bbbb"],
            "valid twice": [token, token],
            "wrong then valid": ["x", token],
            "as a file": [FilePart(token.encode(), "csrf.txt").part()],
        }[self.csrf]
        return MultiDict(pairs + [("csrf_token", value) for value in csrf])

    def post(self, client, path: str, token: str, query_string: str | None = None):
        data = self.data(token)
        if self.encoding == "multipart" or any(isinstance(v, FilePart) for _, v in self.fields) \
                or self.csrf == "as a file":
            return post_multipart(client, path, data, query_string=query_string)
        return client.post(path, data=data, query_string=query_string)


SIZES = [0, 1, 99, 100, 101, 199, 200, 201, 299, 300, 301, 319, 320, 321, 499, 500, 501, 999, 1000, 1001,
         10_000, 500_000, MAX_CONTENT_LENGTH - 200, MAX_CONTENT_LENGTH + 1]
ODD_CHARACTERS = [
    "\x00", "\x01", "\x07", "\x08", "\t", "\n", "\r", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\u061c",
    "\ufeff", "\u00ad", "\u2028", "\u2029", "\u00a0", "\u3000", "\ufffd", "\uffff", "\U0010ffff",
    "\U000e0001", "\u0301", "\ufdd0", "\U0001f600", "%", "&", "=", "+", ";", "<", ">", '"', "'", "\\", "/",
]
odd_text = st.lists(st.one_of(st.sampled_from(ODD_CHARACTERS), st.text(max_size=3)), max_size=8).map("".join)
long_text = st.builds(Repeated, st.one_of(st.sampled_from(["a", " ", "é", "\u200b", "中", "\U0001f600", "x\x00"]),
                                          st.text(min_size=1, max_size=3)),
                      st.sampled_from(SIZES))
file_parts = st.builds(
    FilePart,
    st.one_of(st.binary(max_size=30), st.sampled_from([b"", b"Coalition for Housing Rights", b"\xff\xfe\x00"])),
    st.one_of(st.sampled_from(["name.txt", "", "..\\..\\etc\\passwd", "r\u00e9sum\u00e9.pdf"]),
              st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters='"\\'), max_size=12)),
    st.sampled_from([None, "text/plain", "application/octet-stream", "text/plain; charset=shift_jis"]),
)
any_text = st.one_of(st.text(max_size=40), odd_text, long_text,
                     st.sampled_from(["", " ", "y", "false", "ngo", "MY", "XX", "siti@housing-rights.example.org",
                                      "www.example.org", "https://[::1", "http://a b.org", "@", "a@b"]))
field_values = st.one_of(any_text, any_text, file_parts)
# A field is replaced by 0 (missing), 1 or more (duplicate key) values.
field_value_lists = st.lists(field_values, max_size=3)
csrf_modes = st.one_of(st.just("valid"), st.sampled_from(["valid", "missing", "wrong", "other session", "valid twice",
                                                           "wrong then valid", "as a file"]))
encodings = st.sampled_from(["urlencoded", "multipart"])


def segment_bytes() -> st.SearchStrategy[bytes]:
    """A path segment as bytes: UTF-8 text, other encodings, or no text at all."""
    return st.one_of(
        st.text(max_size=30).map(lambda text: text.encode("utf-8")),
        st.binary(max_size=20),
        st.sampled_from([b"", b".", b"..", b"%", b"%00", b"\x00", b"\xed\xa0\x80", b"\xc0\xaf",
                         "ratify-op-icescr".encode("utf-16"), "caf\u00e9".encode("latin-1")]),
        st.integers(80, 5000).map(lambda size: b"a" * size),
    )


arbitrary_segments = segment_bytes().map(lambda raw: quote_from_bytes(raw, safe=""))


# -- stored state -------------------------------------------------------------------------


def new_example() -> None:
    """Start an example afresh: no session state left by the last one, and fresh
    randomness for Message-IDs (Hypothesis seeds `random` alike for every example,
    so two examples in one hundredth of a second would make the same Message-ID)."""
    random.seed()
    db.session.rollback()


def snapshot() -> dict[str, dict[int, dict]]:
    """Every column of every endorsement and outbox row, read afresh from the database."""
    db.session.rollback()
    tables = {}
    for model in (Endorsement, OutboxMessage):
        table = model.__table__
        tables[table.name] = {row.id: dict(row._mapping)
                              for row in db.session.execute(select(table).order_by(table.c.id))}
    db.session.rollback()
    return tables


@dataclass
class Changes:
    new: list[dict]
    changed: dict[int, tuple[dict, dict]]
    removed: list[int]

    @property
    def none(self) -> bool:
        return not (self.new or self.changed or self.removed)


def changes(before: dict, after: dict, table: str) -> Changes:
    old, now = before[table], after[table]
    return Changes(
        new=[now[key] for key in now if key not in old],
        changed={key: (old[key], now[key]) for key in old if key in now and old[key] != now[key]},
        removed=[key for key in old if key not in now],
    )


def changed_columns(pair: tuple[dict, dict]) -> set[str]:
    old, new = pair
    return {column for column in old if old[column] != new[column]}


def assert_allowed_status(response, case: object = "") -> None:
    event(f"status {response.status_code}")
    allowed = ALLOWED_STATUSES
    if "//" in response.request.path:  # an empty segment: Werkzeug redirects to the path with merged slashes
        allowed = allowed | {308}
    assert response.status_code in allowed, f"{response.status_code} for {case!r}"


def assert_nothing_changed(before: dict, after: dict, case: object = "") -> None:
    for table in before:
        found = changes(before, after, table)
        assert found.none, f"{table} changed for {case!r}: {found}"


# -- the world the forms act on -----------------------------------------------------------


@dataclass
class World:
    open_id: int
    open_slug: str
    revision_id: int
    closed_slug: str
    draft_slug: str
    pending_id: int


@pytest.fixture
def world(app, letter, coordinator) -> World:
    """An open letter with a published, an unlisted and a pending endorsement (and
    their emails), a closed letter, and a draft."""
    add_endorsement(letter, "Coalition for Housing Rights", email=VALID_ENDORSEMENT["email"], city="Kuala Lumpur",
                    comment="Housing is a human right.")
    add_endorsement(letter, "Quiet Foundation", consent_public=False)
    pending = add_endorsement(letter, "Still Pending Group", status=EndorsementStatus.PENDING, email=PENDING_EMAIL)
    _store_message(letter.id, pending.id, PENDING_EMAIL, "confirm")
    closed = make_letter(coordinator, title="A closed letter")
    add_endorsement(closed, "Closed Letter Endorser")
    close_letter(closed, coordinator)
    draft = make_letter(coordinator, title="A draft letter", publish=False)
    return World(letter.id, letter.slug, letter.current_revision.id, closed.slug, draft.slug, pending.id)


def _store_message(letter_id: int, endorsement_id: int | None, recipient: str, kind: str) -> None:
    db.session.add(OutboxMessage(kind=kind, recipient=recipient, subject=kind, text_body=kind, html_body=kind,
                                 message_id=make_msgid(domain="letters.example.org"), letter_id=letter_id,
                                 endorsement_id=endorsement_id, next_attempt_at=utcnow(), created_at=utcnow()))
    db.session.commit()


def fresh_endorsement(letter_id: int, status: str) -> tuple[int, str]:
    """A new endorsement of the letter, with an email kept about it: its id and address."""
    number = next(_serial)
    address = f"endorser{number}@fresh.example.org"
    endorsement = add_endorsement(db.session.get(Letter, letter_id), f"Fresh Organisation {number}",
                                  status=status, email=address)
    _store_message(letter_id, endorsement.id, address, "confirm" if status == EndorsementStatus.PENDING
                   else "thank_you")
    return endorsement.id, address


def page_token(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return csrf_from(response.get_data(as_text=True))


@pytest.fixture
def token(client) -> str:
    """The CSRF token of the test client's session (any form of the site takes it), read once."""
    return page_token(client, "/coordinator/sign-in")


# -- the endorse form ---------------------------------------------------------------------

NOT_AN_ADDRESS = object()


def expected_endorsement(submission: Submission) -> dict[str, object]:
    """The stored values a valid submission must produce: the first text sent for each
    key, stripped (a file part is no text: refusing it or ignoring it are both fine), the
    address as email-validator normalises it, https:// added to a bare website."""
    expected: dict[str, object] = {}
    for field in TEXT_FIELDS + CHOICE_FIELDS:
        texts = submission.texts(field)
        expected[field] = texts[0].strip() if texts else ""
    try:
        expected["email"] = validate_email(expected["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        expected["email"] = NOT_AN_ADDRESS
    if expected["website"] and "://" not in expected["website"]:
        expected["website"] = "https://" + expected["website"]
    for field in BOOLEAN_FIELDS:
        texts = submission.texts(field)
        if not submission.has_file(field):  # a file in a checkbox: any reading will do
            expected[field] = bool(texts) and texts[0] not in ("", "false")
    return expected


# Bookkeeping a repeat may update on the earlier endorsement: when its address was last answered.
REPEAT_BOOKKEEPING = {"last_answered_at"}


def check_endorse_outcome(world: World, before: dict, after: dict, response, submission: Submission | None,
                          case: object) -> None:
    """Nothing changed; or, after a redirect to "check your email", exactly what a valid
    submission does: one new pending endorsement holding the submitted values and one
    confirmation email to it, or (a repeat of an address) no new endorsement, the
    earlier one's bookkeeping only, and at most one email to that address."""
    endorsements, messages = changes(before, after, "endorsements"), changes(before, after, "outbox_messages")
    if endorsements.none and messages.none:
        event("endorse: nothing stored")
        return
    event("endorse: " + ("new endorsement" if endorsements.new else "repeat answered"))
    assert response.status_code == 302, f"stored changes with a {response.status_code} for {case!r}"
    assert response.headers["Location"].endswith(f"/national/{world.open_slug}/check-your-email"), case
    assert not endorsements.removed and not messages.changed and not messages.removed, case
    expected = expected_endorsement(submission) if submission is not None else {}
    if not endorsements.new:  # a repeat
        assert len(endorsements.changed) <= 1 and len(messages.new) <= 1, case
        for pair in endorsements.changed.values():
            assert changed_columns(pair) <= REPEAT_BOOKKEEPING, f"a repeat changed {changed_columns(pair)}: {case!r}"
        keys = {email_key(m["recipient"]) for m in messages.new} \
            | {new["email_key"] for _, new in endorsements.changed.values()}
        if "email" in expected and expected["email"] is not NOT_AN_ADDRESS:
            assert keys <= {email_key(expected["email"])}, case
        assert all(m["kind"] in ("confirm", "already_endorsed") for m in messages.new), case
        return
    assert not endorsements.changed and len(endorsements.new) == 1, case
    row = endorsements.new[0]
    assert row["status"] == EndorsementStatus.PENDING, case
    assert (row["letter_id"], row["revision_id"]) == (world.open_id, world.revision_id), case
    assert row["confirmed_at"] is None and row["published_at"] is None, case
    assert row["email_key"] == email_key(row["email"]), case
    assert row["organisation_key"] == organisation_key(row["organisation"]), case
    for field, value in expected.items():
        assert row[field] == value, f"{field}: stored {row[field]!r}, submitted {value!r}, for {case!r}"
    assert [(m["kind"], m["recipient"], m["endorsement_id"]) for m in messages.new] \
        == [("confirm", row["email"], row["id"])], case


def endorse_targets(world: World) -> dict[str, str]:
    return {"open": world.open_slug, "closed": world.closed_slug, "draft": world.draft_slug}


@st.composite
def endorse_submissions(draw) -> Submission:
    """The valid form with a few fields replaced, repeated, dropped or joined by unknown keys."""
    email = draw(st.one_of(st.sampled_from([VALID_ENDORSEMENT["email"], PENDING_EMAIL]),
                           st.integers(1, 10**6).map(lambda n: f"new{n}@fresh.example.org")))
    organisation = draw(st.sampled_from([VALID_ENDORSEMENT["organisation"], "Fresh Organisation"]))
    fields = {**VALID_ENDORSEMENT, "email": email, "organisation": organisation}
    fields = {key: [value] for key, value in fields.items()}
    replaced = draw(st.dictionaries(st.sampled_from(ENDORSE_FIELDS + ("", "organisation[]", "extra")),
                                    field_value_lists, max_size=4))
    fields.update(replaced)
    pairs = [(key, value) for key, values in fields.items() for value in values]
    pairs = draw(st.permutations(pairs)) if draw(st.booleans()) else pairs
    return Submission(tuple(pairs), draw(csrf_modes), draw(encodings))


@settings(max_examples=50, **SETTINGS)
@given(submission=endorse_submissions(), target=st.sampled_from(["open"] * 6 + ["closed", "draft", "arbitrary"]),
       arbitrary_slug=arbitrary_segments)
@example(  # a file part where the organisation's name belongs
    submission=Submission(tuple({**VALID_ENDORSEMENT, "organisation": FilePart(b"Coalition", "name.txt")}.items()),
                          "valid", "multipart"),
    target="open", arbitrary_slug="")
def test_endorse_form_answers_any_submission_without_a_500_or_an_unintended_change(
        client, world, token, submission, target, arbitrary_slug):
    new_example()
    slug = endorse_targets(world).get(target, arbitrary_slug)
    before = snapshot()

    response = submission.post(client, f"/national/{slug}", token)

    assert_allowed_status(response, submission)
    after = snapshot()
    if target == "open":
        check_endorse_outcome(world, before, after, response, submission, submission)
    else:
        assert_nothing_changed(before, after, (target, slug, submission))


# -- raw bodies: other encodings, malformed multipart, oversized --------------------------------

CHARSETS = ["utf-8", "latin-1", "cp1252", "shift_jis", "euc-kr", "gb18030", "koi8-r", "utf-16", "utf-16-be",
            "utf-32", "utf-7"]
RAW_ODDITIES = [b"\xed\xa0\x80", b"\xed\xbf\xbf\xed\xa0\x80", b"\xc0\xaf", b"\xc0\x80", b"\xff\xfe", b"\xef\xbb\xbf",
                b"\x00", b"\x80", b"\xf4\x90\x80\x80", b"%", b"%zz", b"%ff%fe", b"%ed%a0%80", b"&", b"=", b"+", b";"]


@st.composite
def encoded_bytes(draw) -> bytes:
    """Text in some encoding, raw bytes, or byte sequences no decoder likes (surrogates as UTF-8)."""
    kind = draw(st.sampled_from(["encoded", "encoded", "binary", "oddity"]))
    if kind == "encoded":
        text = draw(st.one_of(st.text(max_size=20), st.sampled_from(["Coalición", "Союз", "連合", "ائتلاف", "Ünïcödé"])))
        return text.encode(draw(st.sampled_from(CHARSETS)), errors="replace")
    if kind == "binary":
        return draw(st.binary(max_size=30))
    return b"".join(draw(st.lists(st.sampled_from(RAW_ODDITIES), min_size=1, max_size=4)))


@dataclass(frozen=True)
class RawBody:
    """A request body built from bytes, as a misbehaving client might send it."""

    kind: str  # "urlencoded", "urlencoded unquoted", "multipart", "multipart truncated"
    pairs: tuple[tuple[bytes | None, bytes | FilePart], ...]  # a key of None: a part without a name
    charset: str | None
    csrf: bool
    padding: int  # bytes added to one value, to reach and pass MAX_CONTENT_LENGTH
    valid_rest: int  # 0, or the valid form (with this number in its address) after the generated pairs

    def encode(self, token: str) -> tuple[bytes, str]:
        pairs = list(self.pairs)
        if self.valid_rest:
            valid = {**VALID_ENDORSEMENT, "email": f"raw{self.valid_rest}@fresh.example.org"}
            pairs += [(key.encode(), value.encode()) for key, value in valid.items()]
        if self.csrf:
            pairs.append((b"csrf_token", token.encode()))
        if self.padding:
            pairs.append((b"comment", b"x" * self.padding))
        charset = f"; charset={self.charset}" if self.charset else ""
        if self.kind.startswith("urlencoded"):
            if self.kind == "urlencoded":
                body = b"&".join(quote_from_bytes(k or b"").encode() + b"=" + quote_from_bytes(_bytes(v)).encode()
                                 for k, v in pairs)
            else:
                body = b"&".join((k or b"") + b"=" + _bytes(v) for k, v in pairs)
            return body, "application/x-www-form-urlencoded" + charset
        boundary = b"hypothesis-boundary-7c1d"
        parts = []
        for key, value in pairs:
            header = b"Content-Disposition: form-data" + (b"" if key is None else b'; name="' + key + b'"')
            if isinstance(value, FilePart):
                header += b'; filename="' + value.filename.encode("utf-8", "replace") + b'"'
                if value.content_type:
                    header += b"\r\nContent-Type: " + value.content_type.encode()
            elif self.charset:
                header += b"\r\nContent-Type: text/plain" + charset.encode()
            parts.append(b"--" + boundary + b"\r\n" + header + b"\r\n\r\n" + _bytes(value) + b"\r\n")
        body = b"".join(parts) + b"--" + boundary + b"--\r\n"
        if self.kind == "multipart truncated":
            body = body[: len(body) * 2 // 3]
        return body, f"multipart/form-data; boundary={boundary.decode()}" + charset


def _bytes(value: bytes | FilePart) -> bytes:
    return value.content if isinstance(value, FilePart) else value


FORM_KEYS = [key.encode() for key in ENDORSE_FIELDS] + [b"password", b"revision", b"csrf_token"]
ODD_KEYS = [None, b"", b"\xff", b"k\xc3", b"\n", b'a"b', b"a\r\nb", b"csrf_token\x00"]


@st.composite
def raw_bodies(draw) -> RawBody:
    pairs = draw(st.lists(st.tuples(st.one_of(st.sampled_from(FORM_KEYS), st.sampled_from(ODD_KEYS), encoded_bytes()),
                                    st.one_of(encoded_bytes(), encoded_bytes(), file_parts)), max_size=6))
    kind = draw(st.sampled_from(["urlencoded", "urlencoded unquoted", "multipart", "multipart truncated"]))
    if kind.startswith("urlencoded"):
        pairs = [(key, value) for key, value in pairs if not isinstance(value, FilePart)]
    padding = draw(st.sampled_from([0] * 8 + [MAX_CONTENT_LENGTH - 2000, MAX_CONTENT_LENGTH + 1]))
    return RawBody(kind, tuple(pairs), draw(st.sampled_from([None, None, "utf-8", "shift_jis", "utf-16", "bogus"])),
                   draw(st.booleans()), padding, draw(st.one_of(st.just(0), st.integers(1, 10**6))))


# Werkzeug leaves a file part's spooled file open when a later part of the same body is
# refused as too large (RequestEntityTooLarge): its warning is not the application's.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__:pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=50, **SETTINGS)
@given(body=raw_bodies(), target=st.sampled_from(["endorse", "new link", "sign-in", "confirm", "renew", "withdraw"]))
@example(  # a part without a name, and no CSRF token
    body=RawBody("multipart", ((None, b"x"),), charset=None, csrf=False, padding=0, valid_rest=0), target="sign-in")
def test_every_form_answers_bodies_of_raw_bytes_without_a_500_or_an_unintended_change(
        app, client, world, token, body, target):
    new_example()
    forms = {"endorse": f"/national/{world.open_slug}", "new link": f"/national/{world.open_slug}/new-link",
             "sign-in": "/coordinator/sign-in"}
    subject, path = None, forms.get(target)
    if path is None:  # a link from an email, for an endorsement of its own
        status = EndorsementStatus.PUBLISHED if target == "withdraw" else EndorsementStatus.PENDING
        subject = fresh_endorsement(world.open_id, status)
        if target == "withdraw":
            path = f"/withdraw/{make_token(Purpose.WITHDRAW, {'endorsement': subject[0]})}"
        elif target == "confirm":
            path = f"/confirm/{make_token(Purpose.CONFIRM, {'endorsement': subject[0]})}"
        else:
            path = f"/confirm/{expired_token(app, Purpose.CONFIRM, subject[0])}/renew"
    data, content_type = body.encode(token)
    before = snapshot()

    response = client.post(path, data=data, content_type=content_type)

    assert_allowed_status(response, body)
    after = snapshot()
    if target == "endorse":
        check_endorse_outcome(world, before, after, response, None, body)
    elif target == "new link":
        check_new_link_outcome(world, before, after, response, None, body)
    elif target == "confirm":
        check_confirm_outcome(world, before, after, response, subject, True, body)
    elif target == "renew":
        check_renew_outcome(before, after, response, subject, True, body)
    elif target == "withdraw":
        check_withdraw_outcome(before, after, response, subject, True, body)
    else:
        assert_nothing_changed(before, after, body)


# -- a valid endorsement, in any script, from any address email-validator accepts ------------------

LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZáéíóúñçãõâêôàèäöüßøåæœłńśźżčšžřěğışİ"
SCRIPTS = [
    LATIN,
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ",
    "αβγδεζηθικλμνξοπρστυφχψωςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώ",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإةى٠١٢٣٤٥٦٧٨٩",
    "אבגדהוזחטיכךלמםנןסעפףצץקרשת",
    "कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसहािीुूेैोौं्०१२",
    "กขคงจฉชซญดตถทนบปผพฟภมยรลวศษสหฬอฮะาำิีึืุู่้๊๋",
    "中国人民权利联盟协会基金会工会妇女青年大学社区",
    "한국인권연대협회시민사회노동조합",
    "あいうえおかきくけこアイウエオカキクケコ日本連合",
    "ሀለሐመሠረሰሸቀበተቸኀነኘአከኸወዐዘዠየደጀገጠጨጰጸፀፈፐ",
    "ქართულიენაასოციაცია",
    string.digits,
]
JOINERS = ["\u200c", "\u200d", "\u200e", "\u200f", "\u00ad"]  # ZWNJ and ZWJ belong in Persian and Indic names
SEPARATORS = [" ", " ", " ", "-", " & ", ", ", ". ", "'", " / ", " (", ") ", "\u00a0", "\u3000", "، "]


@st.composite
def words(draw, max_size: int = 12) -> str:
    alphabet = draw(st.sampled_from(SCRIPTS))
    word = draw(st.text(alphabet=alphabet, min_size=1, max_size=max_size).filter(
        lambda text: any(unicodedata.category(c)[0] in "LN" for c in text)))
    if draw(st.integers(0, 5)) == 5:
        position = draw(st.integers(1, len(word)))
        word = word[:position] + draw(st.sampled_from(JOINERS)) + word[position:]
    return word


@st.composite
def names(draw, max_length: int) -> str:
    """A name in one or several scripts, at most max_length characters once stripped."""
    if draw(st.integers(0, 7)) == 7:  # exactly at the limit
        word = draw(words())
        name = (word + " ") * (max_length // (len(word) + 1) + 1)
        name = name[:max_length].strip()
        if not name[-1:].isalnum():
            name = (name + word)[:max_length]
    else:
        parts = draw(st.lists(words(), min_size=1, max_size=6))
        name = parts[0]
        for part in parts[1:]:
            name += draw(st.sampled_from(SEPARATORS)) + part
        name = name[:max_length].strip()
    padding = draw(st.sampled_from(["", " ", "  ", "\u3000", "\t "]))
    return padding + name + padding


ATEXT = string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~"
TLDS = ["org", "net", "com", "africa", "ngo", "co", "my", "рф", "中国", "भारत", "عرب", "ישראל", "ελ", "укр",
        "xn--p1ai", "ORG", "Info"]
IDN_LABELS = ["bücher", "straße", "müller", "例え", "пример", "مثال", "δοκιμή", "उदाहरण", "테스트", "ตัวอย่าง",
              "xn--bcher-kva", "xn--strae-oqa", "faß", "ドメイン", "Ünion", "ĳssel", "ǆungla"]


@st.composite
def local_parts(draw) -> str:
    kind = draw(st.sampled_from(["ascii", "ascii", "unicode", "mixed"]))
    if kind == "ascii":
        atoms = draw(st.lists(st.text(ATEXT, min_size=1, max_size=10), min_size=1, max_size=3))
    elif kind == "unicode":
        atoms = draw(st.lists(words(8), min_size=1, max_size=3))
    else:
        atoms = [draw(st.text(ATEXT, min_size=1, max_size=6)), draw(words(6))]
    return ".".join(atom.replace("\u00ad", "").replace("\u200e", "").replace("\u200f", "") for atom in atoms)[:64]


@st.composite
def domains(draw) -> str:
    labels = draw(st.lists(st.one_of(
        st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
        st.sampled_from(IDN_LABELS),
        st.text(alphabet="".join(SCRIPTS[:3] + SCRIPTS[7:8]), min_size=1, max_size=10),
    ), min_size=1, max_size=3))
    return ".".join(labels + [draw(st.sampled_from(TLDS))])


def _accepted(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts(), domains()).filter(_accepted)


@st.composite
def valid_endorsements(draw) -> dict[str, str]:
    website = draw(st.one_of(
        st.just(""),
        st.builds(lambda scheme, host, path: f"{scheme}{host}{path}",
                  st.sampled_from(["", "https://", "http://", "HTTPS://"]), domains(),
                  st.sampled_from(["", "/", "/about", "/qui-sommes-nous?lang=fr", "/%E4%BE%8B"]))
        .filter(lambda url: len(url) <= 480 and all(not c.isspace() for c in url)),
    ))
    values = {
        "organisation": draw(names(300)),
        "organisation_type": draw(st.sampled_from([code for code, _ in ORGANISATION_TYPES])),
        "country": draw(st.sampled_from([code for code, _ in countries()])),
        "city": draw(st.one_of(st.just(""), names(200))),
        "website": website,
        "contact_name": draw(names(200)),
        "contact_role": draw(st.one_of(st.just(""), names(200))),
        "email": draw(st.sampled_from(["", " ", "\t"])) + draw(addresses) + draw(st.sampled_from(["", " "])),
        "comment": draw(st.one_of(st.just(""), names(1000),
                                  st.lists(names(200), min_size=2, max_size=4).map("\r\n".join))),
    }
    for field in BOOLEAN_FIELDS:
        choice = draw(st.sampled_from([None, "y", "on", "true", "false"]))
        if choice is not None:
            values[field] = choice
    return values


@pytest.fixture(scope="module")
def smtputf8_server():
    """A real SMTP server that accepts internationalised addresses (RFC 6531)."""
    from aiosmtpd.controller import Controller

    server = SMTPServer("127.0.0.1", free_port())
    controller = Controller(Recorder(server), hostname=server.host, port=server.port, enable_SMTPUTF8=True)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def app_config(app_config, smtputf8_server):
    """The testing config, with mail going to the SMTPUTF8 server (only when a test
    calls deliver_due: the testing config leaves delivery to the worker)."""
    return {**app_config, "MAIL_SERVER": smtputf8_server.host, "MAIL_PORT": smtputf8_server.port, "MAIL_TIMEOUT": 5}


def same_mailbox(envelope_address: str, stored: str) -> bool:
    """The envelope names the stored mailbox: the local part as is, the domain in
    Unicode or as its IDNA 2008 A-label."""
    local, _, domain = envelope_address.rpartition("@")
    stored_local, _, stored_domain = stored.rpartition("@")
    try:
        domain = idna.decode(domain)
    except idna.IDNAError:
        return False
    return local == stored_local and domain == stored_domain.lower()


@settings(max_examples=25, **SETTINGS)
@given(values=valid_endorsements())
@example(values={**VALID_ENDORSEMENT, "email": "jürgen@straße.example"})  # needs SMTPUTF8, and IDNA 2008 for ß
def test_a_valid_endorsement_is_stored_as_submitted_and_its_confirmation_reaches_the_address(
        client, coordinator, token, smtputf8_server, values):
    new_example()
    letter = make_letter(coordinator, title=f"Letter {next(_serial)}")
    slug, letter_id, revision_id = letter.slug, letter.id, letter.current_revision.id
    submission = Submission(tuple(values.items()), "valid", "urlencoded")
    expected = expected_endorsement(submission)
    before = snapshot()

    response = submission.post(client, f"/national/{slug}", token)

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"/national/{slug}/check-your-email")
    after = snapshot()
    endorsements, messages = changes(before, after, "endorsements"), changes(before, after, "outbox_messages")
    assert not endorsements.changed and not endorsements.removed and len(endorsements.new) == 1
    row = endorsements.new[0]
    assert {field: row[field] for field in expected} == expected
    assert (row["letter_id"], row["revision_id"], row["status"]) == (letter_id, revision_id, "pending")
    assert row["email_key"] == email_key(expected["email"])
    assert row["organisation_key"] == organisation_key(expected["organisation"])
    assert not messages.changed and [(m["kind"], m["recipient"], m["endorsement_id"]) for m in messages.new] \
        == [("confirm", expected["email"], row["id"])]

    smtputf8_server.received.clear()
    report = deliver_due("hypothesis", only_ids=[messages.new[0]["id"]])
    assert report.sent == [messages.new[0]["id"]], snapshot()["outbox_messages"][messages.new[0]["id"]]["last_error"]
    assert len(smtputf8_server.received) == 1
    envelope = smtputf8_server.received[0].envelope_to
    assert len(envelope) == 1 and same_mailbox(envelope[0], expected["email"]), (envelope, expected["email"])

    # The same address again, its local part in other case: a repeat, not a second
    # endorsement, and no second email within the quiet period.
    local, _, domain = values["email"].strip().rpartition("@")
    again = f"{local.swapcase()}@{domain.upper()}"
    if not _accepted(again) or email_key(validate_email(again, check_deliverability=False).normalized) \
            != email_key(expected["email"]):
        again = values["email"]
    repeat = Submission(tuple({**values, "email": again}.items()), "valid", "urlencoded")
    before = snapshot()

    response = repeat.post(client, f"/national/{slug}", token)

    assert response.status_code == 302
    after = snapshot()
    assert changes(before, after, "endorsements").none
    assert changes(before, after, "outbox_messages").none, f"a second email within minutes to {again!r}"


# -- the new-link form ---------------------------------------------------------------------------


def check_new_link_outcome(world: World, before: dict, after: dict, response, submission: Submission | None,
                           case: object) -> None:
    """At most one new confirmation email, to the pending endorsement whose address was
    submitted, after a redirect; no endorsement changes but that one's bookkeeping."""
    endorsements, messages = changes(before, after, "endorsements"), changes(before, after, "outbox_messages")
    assert not endorsements.new and not endorsements.removed, case
    assert set(endorsements.changed) <= {world.pending_id}, case
    assert all(changed_columns(pair) <= REPEAT_BOOKKEEPING for pair in endorsements.changed.values()), case
    if messages.none:
        event("new link: no email")
        return
    event("new link: email sent")
    assert response.status_code == 302, case
    assert not messages.changed and not messages.removed, case
    assert [(m["kind"], m["recipient"], m["endorsement_id"]) for m in messages.new] \
        == [("confirm", PENDING_EMAIL, world.pending_id)], case
    if submission is not None:
        texts = submission.texts("email")
        assert texts and email_key(texts[0].strip()) == email_key(PENDING_EMAIL), case


@st.composite
def new_link_submissions(draw) -> Submission:
    email = draw(st.one_of(st.sampled_from([PENDING_EMAIL, PENDING_EMAIL.upper(), f"  {PENDING_EMAIL} ",
                                            VALID_ENDORSEMENT["email"], "nobody@example.org"]), field_values))
    pairs = [("email", email)]
    if draw(st.booleans()):
        pairs += draw(st.lists(st.tuples(st.sampled_from(["email", "organisation", "x"]), field_values),
                               min_size=1, max_size=2))
    if draw(st.integers(0, 6)) == 6:
        pairs = pairs[1:]
    return Submission(tuple(pairs), draw(csrf_modes), draw(encodings))


@settings(max_examples=40, **SETTINGS)
@given(submission=new_link_submissions(), target=st.sampled_from(["open"] * 6 + ["closed", "draft", "arbitrary"]),
       arbitrary_slug=arbitrary_segments)
def test_new_link_form_answers_any_submission_without_a_500_or_an_unintended_change(
        client, world, token, submission, target, arbitrary_slug):
    new_example()
    slug = endorse_targets(world).get(target, arbitrary_slug)
    before = snapshot()

    response = submission.post(client, f"/national/{slug}/new-link", token)

    assert_allowed_status(response, submission)
    after = snapshot()
    if target == "open":
        check_new_link_outcome(world, before, after, response, submission, submission)
    else:
        assert_nothing_changed(before, after, (target, slug, submission))


# -- links from emails: confirm, renew, withdraw ---------------------------------------------------


@dataclass(frozen=True)
class TokenChoice:
    """Which token goes in the path: the genuine one for the fresh endorsement, or a
    spoilt, foreign, expired or made-up one."""

    kind: str
    detail: int = 0
    segment: str = ""

    def make(self, app, purpose: Purpose, endorsement_id: int) -> str:
        genuine = make_token(purpose, {"endorsement": endorsement_id})
        other = Purpose.WITHDRAW if purpose == Purpose.CONFIRM else Purpose.CONFIRM
        position = self.detail % len(genuine)
        return {
            "genuine": lambda: genuine,
            "expired": lambda: expired_token(app, purpose, endorsement_id),
            "truncated": lambda: genuine[:max(position, 1)],
            "extended": lambda: genuine + self.segment,
            "altered": lambda: genuine[:position] + _flipped(genuine[position]) + genuine[position + 1:],
            "other purpose": lambda: make_token(other, {"endorsement": endorsement_id}),
            "no such endorsement": lambda: make_token(purpose, {"endorsement": 2**31 - 1}),
            "made up": lambda: self.segment,
        }[self.kind]()


BASE64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def _flipped(char: str) -> str:
    """Another base64 character, differing in the top bit: the last character of a
    base64 text has unused low bits, so changing only those would keep the token genuine."""
    return BASE64[(BASE64.index(char) + 32) % 64] if char in BASE64 else "A"


def expired_token(app, purpose: Purpose, endorsement_id: int) -> str:
    """A genuine token made 400 days ago (older than either link's lifetime)."""
    app.extensions["frozen_now"] = utcnow() - timedelta(days=400)
    try:
        return make_token(purpose, {"endorsement": endorsement_id})
    finally:
        del app.extensions["frozen_now"]


token_choices = st.one_of(
    st.just(TokenChoice("genuine")),
    st.just(TokenChoice("genuine")),
    st.builds(TokenChoice, st.sampled_from(["expired", "other purpose", "no such endorsement"])),
    st.builds(TokenChoice, st.sampled_from(["truncated", "altered"]), st.integers(0, 200)),
    # Appended base64 characters spoil the signature (other characters are skipped by the decoder).
    st.builds(TokenChoice, st.just("extended"), st.just(0), st.text(string.ascii_letters + string.digits + "-_.",
                                                                    min_size=1, max_size=5)),
    st.builds(TokenChoice, st.just("made up"), st.just(0), arbitrary_segments),
)


@st.composite
def link_submissions(draw) -> Submission:
    """What a confirm, renew or withdraw button posts: the CSRF token, maybe the
    revision the endorser read, maybe anything else."""
    pairs = draw(st.lists(st.tuples(st.sampled_from(["revision", "revision", "x", "endorsement"]),
                                    st.one_of(field_values, st.sampled_from(["CURRENT", "1", "0", "-1", "١",
                                                                             " 1 ", "1_0", str(2**64)]))),
                          max_size=3))
    return Submission(tuple(pairs), draw(csrf_modes), draw(encodings))


def resolved(submission: Submission, current: int) -> Submission:
    return Submission(tuple((k, str(current) if v == "CURRENT" else v) for k, v in submission.fields),
                      submission.csrf, submission.encoding)


def body_size(submission: Submission) -> int:
    return sum(len(value.content) if isinstance(value, FilePart) else len(concrete(value).encode())
               for _, value in submission.fields)


@dataclass(frozen=True)
class Intent:
    """Whether an example's request may, and must, make the change its button is for."""

    may: bool
    must: bool


def link_intent(choice: TokenChoice, submission: Submission, genuine_kind: str, current: int | None = None) -> Intent:
    """A genuine link with a valid CSRF token may act; it must when the body is small and,
    for a confirmation, names no revision or the current one. One naming another
    revision (in plain ASCII digits) must not confirm."""
    may = choice.kind == genuine_kind and submission.csrf in ("valid", "valid twice")
    revisions = submission.texts("revision")
    named = revisions[0] if revisions and current is not None else None
    # (compared as text: Python refuses int() of a string over 4,300 digits)
    if named is not None and named.isascii() and named.isdigit() and named.lstrip("0") != str(current):
        may = False
    must = may and body_size(submission) < 100_000 and named in (None, str(current))
    return Intent(may, must)


def check_confirm_outcome(world: World, before: dict, after: dict, response, subject: tuple[int, str],
                          may_change: bool, case: object) -> None:
    """Nothing changed; or the fresh pending endorsement, and only it, confirmed against the
    current revision, with emails about it (a thank-you to its address) and nothing else."""
    endorsements, messages = changes(before, after, "endorsements"), changes(before, after, "outbox_messages")
    if endorsements.none and messages.none:
        return
    assert may_change, f"a confirmation happened for {case!r}"
    assert response.status_code == 302, case
    assert not endorsements.new and not endorsements.removed and list(endorsements.changed) == [subject[0]], case
    old, new = endorsements.changed[subject[0]]
    assert old["status"] == EndorsementStatus.PENDING, case
    assert new["status"] in (EndorsementStatus.CONFIRMED, EndorsementStatus.HELD, EndorsementStatus.PUBLISHED), case
    assert new["confirmed_at"] is not None and new["revision_id"] == world.revision_id, case
    assert changed_columns(endorsements.changed[subject[0]]) <= {
        "status", "confirmed_at", "published_at", "revision_id", "duplicate_of_id"}, case
    assert not messages.changed and not messages.removed, case
    assert all(m["letter_id"] == world.open_id for m in messages.new), case
    assert [m["recipient"] for m in messages.new if m["kind"] == "thank_you"] == [subject[1]], case


def check_renew_outcome(before: dict, after: dict, response, subject: tuple[int, str], may_change: bool,
                        case: object) -> None:
    """Endorsements never change; at most one fresh confirmation email, for an expired
    genuine link, to the endorsement's own address."""
    assert changes(before, after, "endorsements").none, case
    messages = changes(before, after, "outbox_messages")
    if messages.none:
        return
    assert may_change, f"a link was renewed for {case!r}"
    assert response.status_code == 200, case
    assert not messages.changed and not messages.removed, case
    assert [(m["kind"], m["recipient"], m["endorsement_id"]) for m in messages.new] \
        == [("confirm", subject[1], subject[0])], case


def check_withdraw_outcome(before: dict, after: dict, response, subject: tuple[int, str], may_change: bool,
                           case: object) -> None:
    """Nothing changed; or the endorsement, and only it, withdrawn with its private fields
    erased, the emails about it blanked, and one email saying so."""
    endorsements, messages = changes(before, after, "endorsements"), changes(before, after, "outbox_messages")
    if endorsements.none and messages.none:
        return
    assert may_change, f"a withdrawal happened for {case!r}"
    assert response.status_code == 200, case
    assert not endorsements.new and not endorsements.removed and list(endorsements.changed) == [subject[0]], case
    new = endorsements.changed[subject[0]][1]
    assert new["status"] == EndorsementStatus.WITHDRAWN and new["withdrawn_at"] is not None, case
    assert all(new[field] is None for field in ("contact_name", "contact_role", "email", "email_key")), case
    assert changed_columns(endorsements.changed[subject[0]]) <= {
        "status", "withdrawn_at", "decided_at", "contact_name", "contact_role", "email", "email_key",
        "organisation_key", "organisation_skeleton", "comment"}, case
    assert not messages.removed, case
    for key, (old, now) in messages.changed.items():
        assert old["endorsement_id"] == subject[0] and subject[1] not in (now["recipient"], now["text_body"]), case
    assert [m["kind"] for m in messages.new] == ["withdrawn"], case


@settings(max_examples=40, **SETTINGS)
@given(choice=token_choices, submission=link_submissions())
def test_confirm_link_answers_any_token_and_body_without_a_500_or_an_unintended_change(
        app, client, world, token, choice, submission):
    new_example()
    subject = fresh_endorsement(world.open_id, EndorsementStatus.PENDING)
    path = f"/confirm/{choice.make(app, Purpose.CONFIRM, subject[0])}"
    submission = resolved(submission, world.revision_id)
    intent = link_intent(choice, submission, "genuine", world.revision_id)
    before = snapshot()

    response = submission.post(client, path, token)

    assert_allowed_status(response, (choice, submission))
    after = snapshot()
    check_confirm_outcome(world, before, after, response, subject, intent.may, (choice, submission))
    if intent.must:
        assert response.status_code == 302 and not changes(before, after, "endorsements").none, (choice, submission)


@settings(max_examples=30, **SETTINGS)
@given(choice=token_choices, submission=link_submissions())
def test_renew_link_answers_any_token_and_body_without_a_500_or_an_unintended_change(
        app, client, world, token, choice, submission):
    new_example()
    subject = fresh_endorsement(world.open_id, EndorsementStatus.PENDING)
    path = f"/confirm/{choice.make(app, Purpose.CONFIRM, subject[0])}/renew"
    intent = link_intent(choice, submission, "expired")
    before = snapshot()

    response = submission.post(client, path, token)

    assert_allowed_status(response, (choice, submission))
    after = snapshot()
    check_renew_outcome(before, after, response, subject, intent.may, (choice, submission))
    if intent.must:
        assert len(changes(before, after, "outbox_messages").new) == 1, (choice, submission)


@settings(max_examples=40, **SETTINGS)
@given(choice=token_choices, submission=link_submissions())
def test_withdraw_link_answers_any_token_and_body_without_a_500_or_an_unintended_change(
        app, client, world, token, choice, submission):
    new_example()
    subject = fresh_endorsement(world.open_id, EndorsementStatus.PUBLISHED)
    path = f"/withdraw/{choice.make(app, Purpose.WITHDRAW, subject[0])}"
    intent = link_intent(choice, submission, "genuine")
    before = snapshot()

    response = submission.post(client, path, token)

    assert_allowed_status(response, (choice, submission))
    after = snapshot()
    check_withdraw_outcome(before, after, response, subject, intent.may, (choice, submission))
    if intent.must:
        assert response.status_code == 200 and not changes(before, after, "endorsements").none, (choice, submission)


# -- coordinator sign-in ---------------------------------------------------------------------

NEXT_TARGETS = ["/coordinator/", "/coordinator/letters/1", "//evil.example", "https://evil.example/",
                "/\\evil.example", "/\t/evil.example", "\\\\evil.example", "/ok\nLocation: https://evil.example",
                "/ok\r\nSet-Cookie: x=1", "javascript:alert(1)", "/%0d%0aX: y", "", "/\x00", "/\u2028",
                "/caf\u00e9", "http:/evil.example", "/.//evil.example"]


def browser_target(location: str) -> tuple[str, str]:
    """The scheme and host a browser would go to: WHATWG URL parsing drops tabs and
    newlines and reads a backslash as a slash."""
    cleaned = location.strip().replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    parts = urlsplit(cleaned)
    return parts.scheme, parts.netloc


@st.composite
def sign_in_submissions(draw) -> Submission:
    email = draw(st.one_of(st.sampled_from(["coord@example.org", "COORD@example.org ", "other@example.org"]),
                           field_values))
    password = draw(st.one_of(st.just(PASSWORD), field_values))
    pairs = [("email", email), ("password", password)]
    if draw(st.booleans()):
        pairs += draw(st.lists(st.tuples(st.sampled_from(["email", "password", "remember", "next"]), field_values),
                               max_size=2))
    return Submission(tuple(pairs), draw(csrf_modes), draw(encodings))


next_targets = st.one_of(st.sampled_from(NEXT_TARGETS), st.text(max_size=20).map(lambda text: "/" + text),
                        st.text(max_size=20), segment_bytes())


def assert_stays_on_this_site(response) -> None:
    scheme, host = browser_target(response.headers["Location"])
    assert scheme in ("", "http") and host in ("", "localhost"), response.headers["Location"]


@settings(max_examples=40, **SETTINGS)
@given(submission=sign_in_submissions(), next_target=st.one_of(st.none(), next_targets))
def test_sign_in_answers_any_submission_without_a_500_a_change_or_a_redirect_off_the_site(
        app, world, submission, next_target):
    new_example()
    client = app.test_client()  # signed out before each example
    token = page_token(client, "/coordinator/sign-in")
    query = None if next_target is None else urlencode({"next": next_target})
    before = snapshot()

    response = submission.post(client, "/coordinator/sign-in", token, query_string=query)

    assert_allowed_status(response, (submission, next_target))
    assert_nothing_changed(before, snapshot(), (submission, next_target))
    if response.status_code == 302:
        assert_stays_on_this_site(response)


@settings(max_examples=30, **SETTINGS)
@given(next_target=next_targets)
@example(next_target="/ok\nLocation: https://evil.example")
@example(next_target="/\\evil.example")
def test_signing_in_leads_to_a_page_on_this_site_whatever_next_says(app, coordinator, next_target):
    new_example()
    client = app.test_client()
    token = page_token(client, "/coordinator/sign-in")

    response = client.post("/coordinator/sign-in", query_string=urlencode({"next": next_target}),
                           data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token})

    assert response.status_code == 302, next_target
    assert_stays_on_this_site(response)


# -- public pages with any query string and any path segment ------------------------------------

QUERY_KEYS = ["q", "country", "page", "group", "paper", "pending", "next", "status", ""]
PAGES = ["/", "/national/{slug}", "/national/{slug}/endorsements.json", "/national/{slug}/signed",
         "/national/{slug}/check-your-email", "/national/{slug}/thank-you", "/national/{slug}/new-link",
         "/confirm/{token}", "/confirm/{token}/renew", "/withdraw/{token}", "/coordinator/sign-in"]


QUERY_VALUES = [b"1", b"0", b"-1", b"2147483648", b"99999999999999999999", "١".encode(), b"1e3", b"a4", b"letter",
                b"country", b"type", b"MY", b"my", b"%", b"_", b"\\"]


@st.composite
def query_strings(draw) -> str:
    """Keys repeated or unknown, values in any encoding, or a query no encoder would write."""
    if draw(st.integers(0, 5)) == 5:
        # What a request line can carry: visible ASCII, no fragment.
        return draw(st.text(string.printable.replace("#", "").strip(), max_size=30))
    pairs = draw(st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), st.sampled_from(QUERY_KEYS),
                                              segment_bytes()),
                                    st.one_of(segment_bytes(), st.sampled_from(QUERY_VALUES))),
                          max_size=5))
    return urlencode([(k if isinstance(k, bytes) else k.encode(), v) for k, v in pairs])


@settings(max_examples=50, **SETTINGS)
@given(page=st.sampled_from(PAGES), slug=st.one_of(st.just(None), st.just(None), arbitrary_segments),
       token_choice=token_choices, query=query_strings())
def test_public_pages_answer_any_path_segment_and_query_string_without_a_500_or_a_change(
        app, client, world, page, slug, token_choice, query):
    new_example()
    purpose = Purpose.WITHDRAW if page.startswith("/withdraw") else Purpose.CONFIRM
    path = page.format(slug=world.open_slug if slug is None else slug,
                       token=token_choice.make(app, purpose, world.pending_id))
    before = snapshot()

    response = client.get(path, query_string=query)

    assert_allowed_status(response, (path, query))
    assert_nothing_changed(before, snapshot(), (path, query))
