"""Translations of a letter: the coordinators' pages, and what the public pages
need to show one language version (or two, side by side on the signed letter)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..accounts.permissions import Permission, can
from ..coordinator import bp as coordinator
from ..core.choices import LANGUAGE_LABELS
from ..core.extensions import db
from ..core.forms import ActionForm
from ..core.i18n import LINK_PARAMETER, current_language
from ..core.links import public_url
from ..core.text import render_markdown
from . import rules, translations
from .models import Letter, LetterTranslation, Revision
from .translation_forms import NewTranslationForm, TranslationForm
from .translations import Version

# -- the coordinators' pages --------------------------------------------------------------------


def _letter_or_404(letter_id: int) -> Letter:
    letter = db.get_or_404(Letter, letter_id)
    rules.close_if_due(letter)  # a letter past its deadline shows as closed here too
    return letter


def _translation_or_404(letter: Letter, language: str) -> LetterTranslation:
    if language not in LANGUAGE_LABELS:
        abort(404)
    translation = translations.find_translation(letter, language)
    if translation is None:
        abort(404)
    return translation


@dataclass
class TranslationRow:
    """One line of the Translations page."""

    translation: LetterTranslation
    revision: Revision | None  # its current public text, if it was ever published
    ever_published: bool
    original_revised_since: bool  # the original changed after this text was last published
    untranslated: bool  # still the original's text, as the form prefilled it
    endorsements: int  # published endorsements that confirmed this language version
    body: Markup | None = None  # a draft's text, rendered for review before publishing


@coordinator.get("/letters/<id:letter_id>/translations")
def translations_page(letter_id: int):
    letter = _letter_or_404(letter_id)
    current = translations.current_revisions(letter)
    original = current.get(letter.language)
    endorsed = translations.endorsements_by_version(letter)
    rows = []
    for translation in translations.translations_of(letter):
        revision = current.get(translation.language)
        rows.append(TranslationRow(
            translation=translation, revision=revision, ever_published=revision is not None,
            original_revised_since=bool(revision and original and original.created_at > revision.created_at),
            untranslated=translation.fingerprint == letter.fingerprint,
            endorsements=endorsed.get(translation.language, 0),
            body=None if translation.is_published else render_markdown(translation.body)))
    return render_template("coordinator/translations.html", letter=letter, original=original, rows=rows,
                           original_endorsements=endorsed.get(letter.language, 0),
                           can_add=bool(translations.languages_to_add(letter)),
                           can_edit=can(current_user, Permission.EDIT, letter.platform_id))


@coordinator.route("/letters/<id:letter_id>/translations/new", methods=["GET", "POST"])
def add_translation(letter_id: int):
    letter = _letter_or_404(letter_id)
    languages = translations.languages_to_add(letter)
    # The original's text, for the translator to overwrite part by part.
    form = NewTranslationForm(data=letter.text_parts()).offer(languages)
    if form.validate_on_submit():
        try:
            translation = translations.add_translation(letter, form.language.data, form.text(), current_user)
        except translations.TranslationError as refusal:
            form.language.errors.append(str(refusal))
        else:
            flash(_("Translation into %(language)s saved as a draft. Publish it once it is reviewed.",
                    language=translation_name(translation)), "success")
            return redirect(url_for(".translations_page", letter_id=letter.id))
    status = 400 if form.errors else 200
    return render_template("coordinator/translation_form.html", form=form, letter=letter, translation=None,
                           no_language_left=not languages), status


@coordinator.route("/letters/<id:letter_id>/translations/<language>/edit", methods=["GET", "POST"])
def edit_translation(letter_id: int, language: str):
    letter = _letter_or_404(letter_id)
    translation = _translation_or_404(letter, language)
    form = TranslationForm(obj=translation)
    if not form.is_submitted():
        form.base.data = translation.fingerprint
    if form.validate_on_submit():
        try:
            revision = translations.edit_translation(translation, form.text(), current_user,
                                                     note=form.revision_note.data or "",
                                                     base_fingerprint=form.base.data or None)
        except translations.TranslationChanged as clash:
            flash(str(clash), "error")
            return redirect(url_for(".edit_translation", letter_id=letter.id, language=language))
        if revision is not None:
            flash(_("Saved as revision %(number)d of the %(language)s text.", number=revision.number,
                    language=translation_name(translation)), "success")
        else:
            flash(_("Translation saved."), "success")
        return redirect(url_for(".translations_page", letter_id=letter.id))
    status = 400 if form.errors else 200
    current = translations.latest_revision(letter.id, language) if translation.is_published else None
    return render_template("coordinator/translation_form.html", form=form, letter=letter, translation=translation,
                           next_number=(current.number if current else 0) + 1, no_language_left=False), status


def _translation_action(letter_id: int, language: str, action, done):
    """Run ``action`` on the translation; ``done(language name)`` is what to tell on success."""
    letter = _letter_or_404(letter_id)
    translation = _translation_or_404(letter, language)
    if not ActionForm().validate():
        abort(400)
    name = translation_name(translation)
    try:
        action(translation)
    except translations.TranslationError as refusal:
        flash(str(refusal), "error")
    else:
        flash(done(name), "success")
    return redirect(url_for(".translations_page", letter_id=letter.id))


@coordinator.post("/letters/<id:letter_id>/translations/<language>/publish")
def publish_translation(letter_id: int, language: str):
    # The fingerprint of the text the coordinator read on the page: a change since is refused.
    reviewed = request.form.get("fingerprint") or None
    return _translation_action(
        letter_id, language,
        lambda translation: translations.publish_translation(translation, current_user, reviewed),
        lambda name: _("Published: the %(language)s version is on the public page.", language=name))


@coordinator.post("/letters/<id:letter_id>/translations/<language>/unpublish")
def unpublish_translation(letter_id: int, language: str):
    return _translation_action(
        letter_id, language, lambda translation: translations.unpublish_translation(translation, current_user),
        lambda name: _("Unpublished: the %(language)s version is a draft again. Its revisions are kept.",
                       language=name))


@coordinator.post("/letters/<id:letter_id>/translations/<language>/delete")
def delete_translation(letter_id: int, language: str):
    return _translation_action(
        letter_id, language, lambda translation: translations.delete_translation(translation, current_user),
        lambda name: _("The %(language)s draft is deleted.", language=name))


@coordinator.get("/letters/<id:letter_id>/translations/<language>/revisions")
def translation_revisions(letter_id: int, language: str):
    letter = _letter_or_404(letter_id)
    translation = _translation_or_404(letter, language)
    return render_template("coordinator/translation_revisions.html", letter=letter, translation=translation,
                           revisions=translations.revisions_in(letter, language), listed_parts=rules.listed_parts)


def translation_name(translation: LetterTranslation) -> str:
    return translations.language_name(translation.language)


# -- the public pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionLink:
    """An entry of "Read this letter in: English (original) · Français"."""

    code: str
    name: str
    href: str
    original: bool
    current: bool


def version_links(versions: list[Version], shown: Version | None, endpoint: str, **values) -> list[VersionLink]:
    """Links to each version of the letter on the same page (``?text=<language>``)."""
    return [VersionLink(code=version.language, name=version.name, original=version.is_original,
                        current=shown is not None and version.language == shown.language,
                        href=url_for(endpoint, text=version.language, **values))
            for version in versions]


def letter_version(letter: Letter, requested: str | None = None, read_before: int | None = None,
                   endpoint: str = "public.letter", **values) -> dict:
    """What a public page needs to show the letter in one language: the version
    (``?text=`` asked for, else the one an endorser read before, else the
    reader's interface language, else the original), its rendered body, every
    version, and the links between them. ``endpoint`` and ``values``: the page
    the links lead to (the letter page by default)."""
    versions = translations.published_versions(letter)
    preferred = None
    if read_before is not None:
        earlier = translations.version_read_with(letter, read_before)
        preferred = earlier.language if earlier else None
    version = translations.choose_version(versions, requested or preferred, current_language())
    if endpoint == "public.letter" and not values:
        values = letter.route
    if request.args.get(LINK_PARAMETER):  # an emailed link's language stays with the reader
        values = {**values, LINK_PARAMETER: request.args[LINK_PARAMETER]}
    return {
        "version": version,
        "versions": versions,
        "body": render_markdown(version.body if version else letter.body),
        "version_links": version_links(versions, version, endpoint, **values),
        "alternates": [(v.language, public_url("public.letter", text=v.language, **letter.route))
                       for v in versions] if len(versions) > 1 else [],
    }


@dataclass(frozen=True)
class Column:
    """One language version printed on the signed letter."""

    version: Version
    body: Markup


def requested_languages() -> list[str]:
    """``?text=en,fr`` or ``?text=en&text=fr`` (what the toolbar's two selects send)."""
    return [code.strip() for value in request.args.getlist("text") for code in value.split(",") if code.strip()]


def signed_letter_columns(letter: Letter) -> dict:
    """What the signed letter needs beyond its endorsers: the one or two versions
    it prints (404 if one asked for is not public), and whether to say, per
    endorser, which version they confirmed (``?versions=1``: not private, but
    only on request, so the usual list stays simple)."""
    chosen = translations.signed_versions(letter, ",".join(requested_languages()))
    if not chosen:
        abort(404)
    versions = translations.published_versions(letter)
    return {
        "columns": [Column(version, render_markdown(version.body)) for version in chosen],
        "versions": versions,
        "show_versions": request.args.get("versions") == "1",
        "endorsed_in": translations.endorsements_by_version(letter, listed_only=True),
    }
