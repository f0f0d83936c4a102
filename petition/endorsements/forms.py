from __future__ import annotations

import functools
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import LazyString, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..core.choices import ORGANISATION_TYPES, countries
from ..core.forms import Form, LongSelect, LongSelectField, Options, options, reject_blank_name
from ..core.i18n import current_language
from .submitting import EndorsementDetails


def valid_email(form, field) -> None:
    try:
        result = validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError as error:
        # email-validator explains in English only: its detail helps more than it jars.
        detail = str(error)
        raise ValidationError(_("Enter an email address like name@example.org: %(detail)s",
                                detail=detail[:1].lower() + detail[1:])) from None
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
        raise ValidationError(_("Enter the website's address, like www.example.org."))
    if len(field.data) > 500:  # checked again: "https://" was just added
        raise ValidationError(_("Keep the address under %(max)d characters.", max=500))


def _comment_too_long() -> str:
    # The limit written as the reader writes numbers: 1,000, 1 000, ١٬٠٠٠.
    return _("Keep the comment under %(max)s characters.", max=format_decimal(1000))


def _country_choices() -> list:
    # Called for each form, so the countries are named (and sorted) in the visitor's language.
    return _country_options(current_language())


@functools.cache
def _country_options(language: str) -> list:
    # Built once per process and language (the list never changes while it runs).
    return Options(options(countries(language), _("Choose a country")))


class EndorseForm(Form):
    organisation = StringField(
        _l("Name of your organisation"),
        description=_l("As it should appear on the letter, in full."),
        validators=[DataRequired(_l("Enter the name of your organisation.")),
                    Length(max=300, message=_l("Keep the name under %(max)d characters.")),
                    reject_blank_name],
    )
    organisation_type = SelectField(
        _l("Type of organisation"),
        choices=options(ORGANISATION_TYPES, _l("Choose one")),
        validators=[DataRequired(_l("Choose the type of organisation."))],
        validate_choice=True,
    )
    country = LongSelectField(
        _l("Country"),
        description=_l("Where your organisation is based."),
        choices=_country_choices,
        widget=LongSelect(),
        validators=[DataRequired(_l("Choose the country where your organisation is based."))],
    )
    city = StringField(_l("City or region (optional)"),
                       validators=[Optional(), Length(max=200, message=_l("Keep this under %(max)d characters."))])
    website = StringField(_l("Website (optional)"), description=_l("For example www.example.org"),
                          validators=[Optional(),
                                      Length(max=500, message=_l("Keep the address under %(max)d characters.")),
                                      valid_website])
    contact_name = StringField(
        _l("Your name"),
        description=_l("The person we can contact about this endorsement. Not shown publicly."),
        validators=[DataRequired(_l("Enter your name.")),
                    Length(max=200, message=_l("Keep your name under %(max)d characters.")),
                    reject_blank_name],
    )
    contact_role = StringField(_l("Your role in the organisation (optional)"),
                               description=_l("For example Director, Coordinator, Board member."),
                               validators=[Optional(),
                                           Length(max=200, message=_l("Keep this under %(max)d characters."))])
    email = EmailField(
        _l("Email address"),
        description=_l("We will send a link to this address to confirm the endorsement. Not shown publicly."),
        validators=[DataRequired(_l("Enter your email address.")),
                    Length(max=320, message=_l("This address is too long.")), valid_email],
    )
    comment = TextAreaField(
        _l("Public comment (optional)"),
        description=_l("A sentence on why your organisation endorses the letter. "
                       "Shown with your name if you are listed."),
        validators=[Optional(), Length(max=1000, message=LazyString(_comment_too_long))],
    )
    consent_public = BooleanField(
        _l("List our organisation publicly as an endorser"),
        description=_l("Without this, your endorsement is counted but your organisation's name is not shown."),
    )
    wants_updates = BooleanField(_l("Send us news about this campaign (optional)"))

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
        _l("Email address"),
        description=_l("The address you used when you endorsed."),
        validators=[DataRequired(_l("Enter your email address.")),
                    Length(max=320, message=_l("This address is too long.")), valid_email],
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
