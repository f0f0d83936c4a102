"""The coordinators' forms for a letter's translations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..core.forms import Form, options
from .translations import TranslationText


class TranslationForm(Form):
    """The text of a translation: the same parts, and the same limits, as the original's."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")),
                                                 Length(max=200, message=_l("Keep the title under 200 characters."))])
    addressee = StringField(
        _l("Addressed to"),
        description=_l("As the addressee is named in this language."),
        validators=[DataRequired(_l("Enter who the letter is addressed to.")),
                    Length(max=300, message=_l("Keep this under 300 characters."))],
    )
    body = TextAreaField(
        _l("Text of the letter"),
        description=_l("Markdown, as in the original: a blank line between paragraphs, **bold**, *italic*, "
                       "[link](https://…), lists with - or 1."),
        validators=[DataRequired(_l("Write the text of the letter.")),
                    Length(max=50_000, message=_l("Keep the letter under 50,000 characters."))],
        render_kw={"rows": 18},
    )
    closing = TextAreaField(_l("Closing"), validators=[
        Optional(), Length(max=500, message=_l("Keep the closing under 500 characters."))], render_kw={"rows": 2})
    signature = TextAreaField(
        _l("Signature block"),
        validators=[Optional(), Length(max=2000, message=_l("Keep the signature block under 2,000 characters."))],
        render_kw={"rows": 4},
    )
    revision_note = StringField(
        _l("What changed (optional)"),
        description=_l("Kept with the new revision of the text, for the record."),
        validators=[Optional(), Length(max=500, message=_l("Keep the note under 500 characters."))],
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
