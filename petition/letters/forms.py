from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..core.choices import LANGUAGES
from ..core.forms import Form, options
from .rules import LetterDraft, is_valid_slug

NOTIFY_CHOICES = [
    ("none", "No emails"),
    ("each", "An email for each new confirmed endorsement"),
    ("digest", "A daily digest"),
]


def valid_slug(form, field) -> None:
    if field.data and not is_valid_slug(field.data):
        raise ValidationError("Use lower-case letters, digits and hyphens only, like op-icescr-2027.")


class LetterForm(Form):
    title = StringField("Title", validators=[DataRequired("Enter a title."),
                                             Length(max=200, message="Keep the title under 200 characters.")])
    slug = StringField(
        "Web address (optional)",
        description="The end of the letter's public link, /letters/… Leave empty to make one from the title. "
                    "It cannot change once the letter is published.",
        validators=[Optional(), Length(max=80, message="Keep it under 80 characters."), valid_slug],
    )
    addressee = StringField(
        "Addressed to",
        description='For example "H.E. the President of the Republic".',
        validators=[DataRequired("Enter who the letter is addressed to."),
                    Length(max=300, message="Keep this under 300 characters.")],
    )
    body = TextAreaField(
        "Text of the letter",
        description="Markdown: a blank line between paragraphs, **bold**, *italic*, [link](https://…), "
                    "lists with - or 1.",
        validators=[DataRequired("Write the text of the letter."),
                    Length(max=50_000, message="Keep the letter under 50,000 characters.")],
        render_kw={"rows": 18},
    )
    closing = TextAreaField("Closing", description='For example "Respectfully,"',
                            validators=[Optional(), Length(max=500, message="Keep the closing under 500 characters.")],
                            render_kw={"rows": 2})
    signature = TextAreaField(
        "Signature block",
        description="Who sends the letter: names, roles and the platform, one per line.",
        validators=[Optional(), Length(max=2000, message="Keep the signature block under 2,000 characters.")],
        render_kw={"rows": 4},
    )
    language = SelectField("Language of the letter", choices=options(LANGUAGES), default="en")
    goal = IntegerField("Endorsement goal (optional)", description="The number of organisations you aim for.",
                        validators=[Optional(), NumberRange(min=1, max=1_000_000,
                                                           message="Enter a number between 1 and 1,000,000.")])
    deadline = DateField("Deadline (optional)", description="Endorsements close at the end of this day (UTC).",
                         validators=[Optional()])
    requires_approval = BooleanField("Approve each endorsement before it is listed publicly")
    notify = SelectField("Tell me about new endorsements", choices=options(NOTIFY_CHOICES), default="none")
    revision_note = StringField(
        "What changed (optional)",
        description="Kept with the new revision of the text, for the record.",
        validators=[Optional(), Length(max=500, message="Keep the note under 500 characters.")],
    )
    preview = SubmitField("Preview")
    save = SubmitField("Save letter")

    def draft(self) -> LetterDraft:
        return LetterDraft(
            title=self.title.data,
            addressee=self.addressee.data,
            body=self.body.data,
            closing=self.closing.data or "",
            signature=self.signature.data or "",
            language=self.language.data,
            slug=self.slug.data or "",
            goal=self.goal.data,
            deadline=self.deadline.data,
            requires_approval=self.requires_approval.data,
            notify=self.notify.data,
        )


class NewLetterForm(LetterForm):
    """A new letter also says which platform it belongs to (among those the person may edit)."""

    platform = SelectField("Platform", coerce=int, validate_choice=True,
                           validators=[DataRequired("Choose the platform of this letter.")])

    def offer(self, platforms) -> NewLetterForm:
        self.platform.choices = [(platform.id, platform.name) for platform in platforms]
        if len(platforms) == 1 and self.platform.data is None:
            self.platform.data = platforms[0].id
        return self
