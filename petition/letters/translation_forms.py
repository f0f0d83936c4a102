"""The coordinators' forms for a letter's translations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from ..core.forms import Form, options
from .forms import TEXT_CHECKS
from .translations import TranslationText


class TranslationForm(Form):
    """The text of a translation: the same parts, and the same limits, as the original's."""

    title = StringField(_l("Title"), validators=TEXT_CHECKS["title"])
    addressee = StringField(_l("Addressed to"), description=_l("As the addressee is named in this language."),
                            validators=TEXT_CHECKS["addressee"])
    body = TextAreaField(
        _l("Text of the letter"),
        description=_l("Markdown, as in the original: a blank line between paragraphs, **bold**, *italic*, "
                       "[link](https://…), lists with - or 1."),
        validators=TEXT_CHECKS["body"],
        render_kw={"rows": 18},
    )
    closing = TextAreaField(_l("Closing"), validators=TEXT_CHECKS["closing"], render_kw={"rows": 2})
    signature = TextAreaField(_l("Signature block"), validators=TEXT_CHECKS["signature"], render_kw={"rows": 4})
    revision_note = StringField(
        _l("What changed (optional)"),
        description=_l("Kept with the new revision of the text, for the record."),
        validators=TEXT_CHECKS["revision_note"],
    )
    # The fingerprint of the text the form was opened with: a save over someone
    # else's change made in the meantime is refused, not silently lost.
    base = HiddenField()
    save = SubmitField(_l("Save translation"))

    def text(self) -> TranslationText:
        return TranslationText(title=self.title.data, addressee=self.addressee.data, body=self.body.data,
                               closing=self.closing.data or "", signature=self.signature.data or "")


class NewTranslationForm(TranslationForm):
    """A new translation also says its language: any known one but the original's
    and those the letter has already."""

    language = SelectField(_l("Language of the translation"), validate_choice=False,
                           validators=[DataRequired(_l("Choose the language of the translation."))])

    def offer(self, languages: list[tuple[str, str]]) -> NewTranslationForm:
        self.language.choices = options(languages, _l("Choose a language"))
        return self

    def validate_language(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices if choice.value}:
            raise ValidationError(_l("Choose one of the languages offered."))
