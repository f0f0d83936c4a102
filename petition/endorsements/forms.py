from __future__ import annotations

from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..core.choices import ORGANISATION_TYPES, countries
from ..core.forms import Form, LongSelect, options, reject_blank_name
from .submitting import EndorsementDetails


def valid_email(form, field) -> None:
    try:
        result = validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError as error:
        detail = str(error)
        raise ValidationError(f"Enter an email address like name@example.org: {detail[:1].lower()}{detail[1:]}") from None
    field.data = result.normalized


def valid_website(form, field) -> None:
    if not field.data:
        return
    if "://" not in field.data:
        field.data = "https://" + field.data
    try:
        parts = urlsplit(field.data)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed [IPv6 bracket
        hostname = None
    if hostname is None or parts.scheme not in ("http", "https") or "." not in hostname \
            or any(c.isspace() for c in field.data):
        raise ValidationError("Enter the website's address, like www.example.org.")
    if len(field.data) > 500:  # checked again: "https://" was just added
        raise ValidationError("Keep the address under 500 characters.")


class EndorseForm(Form):
    organisation = StringField(
        "Name of your organisation",
        description="As it should appear on the letter, in full.",
        validators=[DataRequired("Enter the name of your organisation."),
                    Length(max=300, message="Keep the name under 300 characters."), reject_blank_name],
    )
    organisation_type = SelectField(
        "Type of organisation",
        choices=options(ORGANISATION_TYPES, "Choose one"),
        validators=[DataRequired("Choose the type of organisation.")],
        validate_choice=True,
    )
    country = SelectField(
        "Country",
        description="Where your organisation is based.",
        choices=options(countries(), "Choose a country"),
        widget=LongSelect(),
        validators=[DataRequired("Choose the country where your organisation is based.")],
    )
    city = StringField("City or region (optional)",
                       validators=[Optional(), Length(max=200, message="Keep this under 200 characters.")])
    website = StringField("Website (optional)", description="For example www.example.org",
                          validators=[Optional(), Length(max=500, message="Keep the address under 500 characters."),
                                      valid_website])
    contact_name = StringField(
        "Your name",
        description="The person we can contact about this endorsement. Not shown publicly.",
        validators=[DataRequired("Enter your name."), Length(max=200, message="Keep your name under 200 characters."),
                    reject_blank_name],
    )
    contact_role = StringField("Your role in the organisation (optional)",
                               description="For example Director, Coordinator, Board member.",
                               validators=[Optional(), Length(max=200, message="Keep this under 200 characters.")])
    email = EmailField(
        "Email address",
        description="We will send a link to this address to confirm the endorsement. Not shown publicly.",
        validators=[DataRequired("Enter your email address."), Length(max=320, message="This address is too long."),
                    valid_email],
    )
    comment = TextAreaField(
        "Public comment (optional)",
        description="A sentence on why your organisation endorses the letter. Shown with your name if you are listed.",
        validators=[Optional(), Length(max=1000, message="Keep the comment under 1,000 characters.")],
    )
    consent_public = BooleanField(
        "List our organisation publicly as an endorser",
        description="Without this, your endorsement is counted but your organisation's name is not shown.",
    )
    wants_updates = BooleanField("Send us news about this campaign (optional)")

    def details(self) -> EndorsementDetails:
        return EndorsementDetails(
            organisation=self.organisation.data,
            organisation_type=self.organisation_type.data,
            country=self.country.data,
            email=self.email.data,
            contact_name=self.contact_name.data,
            contact_role=self.contact_role.data or "",
            city=self.city.data or "",
            website=self.website.data or "",
            comment=self.comment.data or "",
            consent_public=self.consent_public.data,
            wants_updates=self.wants_updates.data,
        )


class NewLinkForm(Form):
    email = EmailField(
        "Email address",
        description="The address you used when you endorsed.",
        validators=[DataRequired("Enter your email address."), Length(max=320, message="This address is too long."),
                    valid_email],
    )


class ModerationForm(Form):
    """Approve or reject endorsements: the selected ones ("action" button), or one
    row's own button ("single" = "approve:<id>")."""

    def decision(self, formdata) -> tuple[str, list[int]] | None:
        single = formdata.get("single", "")
        if single:
            action, _, endorsement_id = single.partition(":")
            ids = _ids([endorsement_id])
        else:
            action, ids = formdata.get("action", ""), _ids(formdata.getlist("endorsement"))
        if action not in ("approve", "reject"):
            return None
        return action, ids


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10][:1000]
