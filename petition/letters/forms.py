from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
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
from ..core.i18n import date_time, number
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
    (Notify.NONE, _l("No emails")),
    (Notify.EACH, _l("An email for each new confirmed endorsement")),
    (Notify.DIGEST, _l("A daily digest")),
]


def valid_slug(form, field) -> None:
    if field.data and not is_valid_slug(field.data):
        raise ValidationError(_l("Use lower-case letters, digits and hyphens only, like op-icescr-2027."))


# What each part of a letter's text must hold, in the original and in every
# translation alike (the limits are the columns' own).
TEXT_CHECKS = {
    "title": [DataRequired(_l("Enter a title.")), Length(max=200, message=_l("Keep the title under 200 characters."))],
    "addressee": [DataRequired(_l("Enter who the letter is addressed to.")),
                  Length(max=300, message=_l("Keep this under 300 characters."))],
    "body": [DataRequired(_l("Write the text of the letter.")),
             Length(max=50_000, message=_l("Keep the letter under 50,000 characters."))],
    "closing": [Optional(), Length(max=500, message=_l("Keep the closing under 500 characters."))],
    "signature": [Optional(), Length(max=2000, message=_l("Keep the signature block under 2,000 characters."))],
    "revision_note": [Optional(), Length(max=500, message=_l("Keep the note under 500 characters."))],
}


class LetterForm(Form):
    title = StringField(_l("Title"), validators=TEXT_CHECKS["title"])
    slug = StringField(
        _l("Web address (optional)"),
        description=_l("The end of the letter's public link, /<platform>/… Leave empty to make one from the "
                       "title. It cannot change once the letter is published."),
        validators=[Optional(), Length(max=80, message=_l("Keep it under 80 characters.")), valid_slug],
    )
    addressee = StringField(
        _l("Addressed to"),
        description=_l('For example "H.E. the President of the Republic".'),
        validators=TEXT_CHECKS["addressee"],
    )
    body = TextAreaField(
        _l("Text of the letter"),
        description=_l("Markdown: a blank line between paragraphs, **bold**, *italic*, [link](https://…), "
                       "lists with - or 1."),
        validators=TEXT_CHECKS["body"],
        render_kw={"rows": 18},
    )
    closing = TextAreaField(_l("Closing"), description=_l('For example "Respectfully,"'),
                            validators=TEXT_CHECKS["closing"], render_kw={"rows": 2})
    signature = TextAreaField(
        _l("Signature block"),
        description=_l("Who sends the letter: names, roles and the platform, one per line."),
        validators=TEXT_CHECKS["signature"],
        render_kw={"rows": 4},
    )
    language = SelectField(_l("Language of the letter"), choices=options(LANGUAGES), default="en")
    goal = IntegerField(_l("Endorsement goal (optional)"), description=_l("The number of organisations you aim for."),
                        validators=[Optional(), NumberRange(min=1, max=1_000_000,
                                                           message=_l("Enter a number between 1 and 1,000,000."))])
    deadline = DateField(_l("Deadline (optional)"), description=_l("Endorsements close at the end of this day (UTC)."),
                         validators=[Optional()])
    requires_approval = BooleanField(_l("Approve each endorsement before it is listed publicly"))
    notify = SelectField(_l("Tell me about new endorsements"), choices=options(NOTIFY_CHOICES), default=Notify.NONE)
    revision_note = StringField(
        _l("What changed (optional)"),
        description=_l("Kept with the new revision of the text, for the record."),
        validators=TEXT_CHECKS["revision_note"],
    )
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save letter"))

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


def platform_id(value) -> int | None:
    """A platform's id from the form; None for the empty choice."""
    return None if value in ("", None) else int(value)


class NewLetterForm(LetterForm):
    """A new letter also says which platform it belongs to (among those the person may edit)."""

    platform = SelectField(_l("Platform"), coerce=platform_id, validate_choice=True,
                           validators=[DataRequired(_l("Choose the platform of this letter."))])

    def offer(self, platforms) -> NewLetterForm:
        # Among several, a required select starts with an empty choice (HTML's rule); one goes in a hidden field.
        empty = [SelectChoice("", _("Choose one"))] if len(platforms) > 1 else []
        self.platform.choices = empty + [SelectChoice(platform.id, platform.name) for platform in platforms]
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
        _l("Name"),
        description=_l('As on the envelope, for example "Chair, National Human Rights Commission".'),
        validators=[DataRequired(_l("Enter who the letter is delivered to.")),
                    Length(max=300, message=_l("Keep this under 300 characters.")), reject_blank_name],
    )


class MoveForm(Form):
    direction = SelectField(choices=options([("up", _l("Up")), ("down", _l("Down"))]), validate_choice=True)


class DeliveryForm(Form):
    delivered_on = DateField(_l("Date of delivery"), description=_l("For example 2026-12-03."),
                             validators=[DataRequired(_l("Enter the date of the delivery, like 2026-12-03.")),
                                         not_in_the_future])
    method = SelectField(_l("How it was delivered"),
                         choices=options(list(METHOD_LABELS.items()), _l("Choose one")),
                         validators=[DataRequired(_l("Choose how the letter was delivered."))], validate_choice=False)
    delivered_by = StringField(_l("Delivered by (optional)"), description=_l("Who handed it over, for the record."),
                               validators=[Optional(), Length(max=200, message=_l("Keep this under 200 characters."))])
    reference = StringField(
        _l("Reference (optional)"),
        description=_l("A receipt or registry number, a tracking number, the meeting it was handed over at."),
        validators=[Optional(), Length(max=300, message=_l("Keep the reference under 300 characters."))],
    )

    document = SelectField(
        _l("The PDF delivered"),
        description=_l("Kept byte for byte with its SHA-256: anyone can download it from the public page and "
                       "check a copy against it. Make the PDF first from the letter's page."),
        validate_choice=False)

    def offer(self, documents) -> DeliveryForm:
        """The PDFs made of the letter, newest first and chosen by default, or none."""
        self.document.choices = [
            *(SelectChoice(str(d.id), ngettext("PDF made on %(date)s: %(count)s organisation listed, SHA-256 %(start)s…",
                                               "PDF made on %(date)s: %(count)s organisations listed, SHA-256 %(start)s…",
                                               d.listed, date=date_time(d.created_at), count=number(d.listed),
                                               start=d.sha256[:12])) for d in documents),
            SelectChoice("", _("No PDF kept (delivered on paper printed from the browser, say)")),
        ]
        if not self.is_submitted():
            self.document.data = str(documents[0].id) if documents else ""
        return self

    def validate_method(self, field) -> None:
        if field.data and field.data not in METHOD_LABELS:
            raise ValidationError(_("Choose how the letter was delivered."))

    def validate_document(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose one of the PDFs made of this letter."))

    def details(self) -> DeliveryDetails:
        return DeliveryDetails(delivered_on=self.delivered_on.data, method=self.method.data,
                               delivered_by=self.delivered_by.data or "", reference=self.reference.data or "",
                               document_id=int(self.document.data) if self.document.data else None)

    def show(self, error: DeliveryError) -> None:
        """Put a refusal of the rules beside the field it is about."""
        getattr(self, error.field or "delivered_on").errors.append(error.message)


class ResponseForm(Form):
    addressee = SelectField(_l("From"), validate_choice=False, validators=[DataRequired(_l("Choose who responded."))])
    received_on = DateField(_l("Date of the response"), description=_l("For example 2027-01-20."),
                            validators=[DataRequired(_l("Enter the date of the response, like 2027-01-20.")),
                                        not_in_the_future])
    summary = TextAreaField(
        _l("Summary"),
        description=_l("What they said, in a few sentences. It is shown on the letter's public page."),
        validators=[DataRequired(_l("Write a summary of the response.")),
                    Length(max=5000, message=_l("Keep the summary under 5,000 characters."))],
        render_kw={"rows": 6},
    )
    checked_attachment: Attachment | None = None
    attachment = FileField(
        _l("The response itself (optional)"),
        description=_l("A PDF, PNG or JPEG file of at most 1 MB. It can be downloaded from the public page."),
    )

    def offer(self, addressees) -> ResponseForm:
        # A required select starts with an empty choice (HTML's rule), chosen already when there is only one.
        self.addressee.choices = [SelectChoice("", _("Choose one")),
                                  *(SelectChoice(str(a.id), a.name) for a in addressees)]
        if len(addressees) == 1 and not self.is_submitted():
            self.addressee.data = str(addressees[0].id)
        return self

    def validate_addressee(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices if choice.value}:
            raise ValidationError(_("Choose one of the addressees the letter was delivered to."))

    def validate_attachment(self, field) -> None:
        self.checked_attachment = None
        if field.data:
            try:
                content = field.data.read(MAX_ATTACHMENT_BYTES + 1)  # one byte more tells it is too large
                self.checked_attachment = attachment_from(content, field.data.filename or "")
            except DeliveryError as error:
                raise ValidationError(error.message) from None

    def details(self) -> ResponseDetails:
        return ResponseDetails(addressee_id=int(self.addressee.data), received_on=self.received_on.data,
                               summary=self.summary.data, attachment=self.checked_attachment)

    def show(self, error: DeliveryError) -> None:
        getattr(self, error.field or "summary").errors.append(error.message)
