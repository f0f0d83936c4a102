"""The forms that create a platform and change its settings."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..core.choices import LANGUAGES, countries
from ..core.forms import Form, LongSelect, options, reject_blank_name
from ..endorsements.forms import valid_email
from .logos import MAX_BYTES, Logo, LogoError, clean_logo
from .models import RESERVED_SLUGS, Platform
from .rules import SLUG_PATTERN, PlatformDetails
from .theme import COLOUR_PATTERN, MIN_CONTRAST, contrast_with_white


def valid_platform_slug(form, field) -> None:
    if not field.data:
        return
    if not SLUG_PATTERN.match(field.data):
        raise ValidationError("Use lower-case letters, digits and hyphens only, like kenya or costa-rica.")
    if field.data in RESERVED_SLUGS:
        raise ValidationError(f"The site uses /{field.data}/ itself. Choose another web address.")


def readable_colour(form, field) -> None:
    field.data = (field.data or "").lower()
    if not COLOUR_PATTERN.fullmatch(field.data):
        raise ValidationError("Enter a colour as # and six hexadecimal digits, like #1d4f91.")
    ratio = contrast_with_white(field.data)
    if ratio < MIN_CONTRAST:
        raise ValidationError(f"This colour is too light: white text on it has a contrast of {ratio:.1f} to 1, "
                              f"and needs at least {MIN_CONTRAST:g} to 1. Choose a darker colour.")


class PlatformForm(Form):
    name = StringField(
        "Name", description="As it should appear on the letterhead and at the top of its pages.",
        validators=[DataRequired("Enter the platform's name."),
                    Length(max=200, message="Keep the name under 200 characters."), reject_blank_name])
    slug = StringField(
        "Web address",
        description="The first part of its public addresses, as in /kenya/letter-name: lower-case letters, "
                    "digits and hyphens. It cannot change once one of its letters is public.",
        validators=[DataRequired("Enter the web address."),
                    Length(max=60, message="Keep it under 60 characters."), valid_platform_slug])
    country = SelectField("Country", choices=options(countries(), "Choose a country"), widget=LongSelect(),
                          validators=[DataRequired("Choose the platform's country.")])
    description = TextAreaField(
        "Short description (optional)", description="One or two sentences, shown on the platform's public page.",
        validators=[Optional(), Length(max=500, message="Keep the description under 500 characters.")],
        render_kw={"rows": 3})
    contact_email = EmailField(
        "Contact email", description="Shown on its pages and letterhead; replies to its emails go here.",
        validators=[DataRequired("Enter the platform's contact email address."),
                    Length(max=320, message="This address is too long."), valid_email])
    default_language = SelectField("Default language", description="Of its new letters.",
                                   choices=options(LANGUAGES), default="en")
    address_line = StringField(
        "Postal address (optional)", description="One line on the letterhead, for example: "
                                                 "12 Jalan Ampang, 50450 Kuala Lumpur, Malaysia.",
        validators=[Optional(), Length(max=300, message="Keep the address under 300 characters.")])
    accent_colour = StringField(
        "Accent colour",
        description="Of the page header, buttons and letterhead: # and six hexadecimal digits, like #1d4f91. "
                    "White text sits on it, so choose a dark colour.",
        default="#1d4f91", validators=[DataRequired("Enter the accent colour."), readable_colour])
    logo = FileField("Logo (optional)",
                     description="A PNG, JPEG or SVG image of at most 1 MB, shown on the letterhead and the "
                                 "platform's pages. Larger than 1000 pixels, it is scaled down.",
                     render_kw={"accept": "image/png,image/jpeg,image/svg+xml"})
    save = SubmitField("Create the platform")

    cleaned_logo: Logo | None = None

    def validate_logo(self, field) -> None:
        upload = field.data
        if not upload or not getattr(upload, "filename", None):
            return
        data = upload.stream.read(MAX_BYTES + 1)  # one byte more than allowed tells it is too much
        if not data:
            raise ValidationError("The file is empty. Choose the logo's file again.")
        try:
            self.cleaned_logo = clean_logo(data)
        except LogoError as error:
            raise ValidationError(str(error)) from None

    def details(self) -> PlatformDetails:
        return PlatformDetails(
            name=self.name.data, slug=self.slug.data, country=self.country.data,
            contact_email=self.contact_email.data, description=self.description.data or "",
            default_language=self.default_language.data, address_line=self.address_line.data or "",
            accent_colour=self.accent_colour.data)


class PlatformSettingsForm(PlatformForm):
    """The settings of an existing platform: its logo may also be removed."""

    remove_logo = BooleanField("Remove the current logo")
    save = SubmitField("Save the settings")

    def lock_slug(self, platform: Platform) -> None:
        """Its letters are public: the slug stays what it is, whatever was sent."""
        self.slug.data = platform.slug
        self.slug.validators = ()
