from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
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
from ..core.forms import Form, options, reject_blank_name
from .delivery import (
    MAX_ATTACHMENT_BYTES,
    METHOD_LABELS,
    Attachment,
    DeliveryDetails,
    DeliveryError,
    ResponseDetails,
    attachment_from,
    future_date_problem,
)
from .models import Notify
from .rules import LetterDraft, is_valid_slug

NOTIFY_CHOICES = [
    (Notify.NONE, "No emails"),
    (Notify.EACH, "An email for each new confirmed endorsement"),
    (Notify.DIGEST, "A daily digest"),
]


def valid_slug(form, field) -> None:
    if field.data and not is_valid_slug(field.data):
        raise ValidationError("Use lower-case letters, digits and hyphens only, like op-icescr-2027.")


class LetterForm(Form):
    title = StringField("Title", validators=[DataRequired("Enter a title."),
                                             Length(max=200, message="Keep the title under 200 characters.")])
    slug = StringField(
        "Web address (optional)",
        description="The end of the letter's public link, /<platform>/… Leave empty to make one from the title. "
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
    notify = SelectField("Tell me about new endorsements", choices=options(NOTIFY_CHOICES), default=Notify.NONE)
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
        self.platform.choices = [SelectChoice(platform.id, platform.name) for platform in platforms]
        if len(platforms) == 1 and self.platform.data is None:
            self.platform.data = platforms[0].id
        return self


# -- addressees, deliveries, responses ----------------------------------------------------


def not_in_the_future(form, field) -> None:
    problem = field.data and future_date_problem(field.data)
    if problem:
        raise ValidationError(problem)


class AddresseeForm(Form):
    name = StringField(
        "Name",
        description='As on the envelope, for example "Chair, National Human Rights Commission".',
        validators=[DataRequired("Enter who the letter is delivered to."),
                    Length(max=300, message="Keep this under 300 characters."), reject_blank_name],
    )


class MoveForm(Form):
    direction = SelectField(choices=options([("up", "Up"), ("down", "Down")]), validate_choice=True)


class DeliveryForm(Form):
    delivered_on = DateField("Date of delivery", description="For example 2026-12-03.",
                             validators=[DataRequired("Enter the date of the delivery, like 2026-12-03."),
                                         not_in_the_future])
    method = SelectField("How it was delivered", choices=options(list(METHOD_LABELS.items()), "Choose one"),
                         validators=[DataRequired("Choose how the letter was delivered.")], validate_choice=False)
    delivered_by = StringField("Delivered by (optional)", description="Who handed it over, for the record.",
                               validators=[Optional(), Length(max=200, message="Keep this under 200 characters.")])
    reference = StringField(
        "Reference (optional)",
        description="A receipt or registry number, a tracking number, the meeting it was handed over at.",
        validators=[Optional(), Length(max=300, message="Keep the reference under 300 characters.")],
    )

    def validate_method(self, field) -> None:
        if field.data and field.data not in METHOD_LABELS:
            raise ValidationError("Choose how the letter was delivered.")

    def details(self) -> DeliveryDetails:
        return DeliveryDetails(delivered_on=self.delivered_on.data, method=self.method.data,
                               delivered_by=self.delivered_by.data or "", reference=self.reference.data or "")

    def show(self, error: DeliveryError) -> None:
        """Put a refusal of the rules beside the field it is about."""
        getattr(self, error.field or "delivered_on").errors.append(str(error))


class ResponseForm(Form):
    addressee = SelectField("From", validate_choice=False, validators=[DataRequired("Choose who responded.")])
    received_on = DateField("Date of the response", description="For example 2027-01-20.",
                            validators=[DataRequired("Enter the date of the response, like 2027-01-20."),
                                        not_in_the_future])
    summary = TextAreaField(
        "Summary",
        description="What they said, in a few sentences. It is shown on the letter's public page.",
        validators=[DataRequired("Write a summary of the response."),
                    Length(max=5000, message="Keep the summary under 5,000 characters.")],
        render_kw={"rows": 6},
    )
    checked_attachment: Attachment | None = None
    attachment = FileField(
        "The response itself (optional)",
        description="A PDF, PNG or JPEG file of at most 1 MB. It can be downloaded from the public page.",
    )

    def offer(self, addressees) -> ResponseForm:
        self.addressee.choices = [SelectChoice(str(a.id), a.name) for a in addressees]
        if len(addressees) == 1 and not self.is_submitted():
            self.addressee.data = str(addressees[0].id)
        return self

    def validate_addressee(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose one of the addressees the letter was delivered to.")

    def validate_attachment(self, field) -> None:
        self.checked_attachment = None
        if field.data:
            try:
                content = field.data.read(MAX_ATTACHMENT_BYTES + 1)  # one byte more tells it is too large
                self.checked_attachment = attachment_from(content, field.data.filename or "")
            except DeliveryError as error:
                raise ValidationError(str(error)) from None

    def details(self) -> ResponseDetails:
        return ResponseDetails(addressee_id=int(self.addressee.data), received_on=self.received_on.data,
                               summary=self.summary.data, attachment=self.checked_attachment)

    def show(self, error: DeliveryError) -> None:
        getattr(self, error.field or "summary").errors.append(str(error))
