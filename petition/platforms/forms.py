"""The forms that create a platform and change its settings."""

from __future__ import annotations

from flask_babel import format_decimal, gettext as _, lazy_gettext as _l
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
        raise ValidationError(_("Use lower-case letters, digits and hyphens only, like kenya or costa-rica."))
    if field.data in RESERVED_SLUGS:
        raise ValidationError(_("The site uses /%(slug)s/ itself. Choose another web address.", slug=field.data))


def readable_colour(form, field) -> None:
    field.data = (field.data or "").lower()
    if not COLOUR_PATTERN.fullmatch(field.data):
        raise ValidationError(_("Enter a colour as # and six hexadecimal digits, like #1d4f91."))
    ratio = contrast_with_white(field.data)
    if ratio < MIN_CONTRAST:
        raise ValidationError(_("This colour is too light: white text on it has a contrast of %(ratio)s to 1, "
                                "and needs at least %(minimum)s to 1. Choose a darker colour.",
                                ratio=format_decimal(ratio, "0.0"), minimum=format_decimal(MIN_CONTRAST)))


class PlatformForm(Form):
    name = StringField(
        _l("Name"), description=_l("As it should appear on the letterhead and at the top of its pages."),
        validators=[DataRequired(_l("Enter the platform's name.")),
                    Length(max=200, message=_l("Keep the name under 200 characters.")), reject_blank_name])
    slug = StringField(
        _l("Web address"),
        description=_l("The first part of its public addresses, as in /kenya/letter-name: lower-case letters, "
                       "digits and hyphens. It cannot change once one of its letters is public."),
        validators=[DataRequired(_l("Enter the web address.")),
                    Length(max=60, message=_l("Keep it under 60 characters.")), valid_platform_slug])
    # The countries' names are in the reader's language: the choices are set in __init__.
    country = SelectField(_l("Country"), widget=LongSelect(),
                          validators=[DataRequired(_l("Choose the platform's country."))])
    description = TextAreaField(
        _l("Short description (optional)"),
        description=_l("One or two sentences, shown on the platform's public page."),
        validators=[Optional(), Length(max=500, message=_l("Keep the description under 500 characters."))],
        render_kw={"rows": 3})
    contact_email = EmailField(
        _l("Contact email"), description=_l("Shown on its pages and letterhead; replies to its emails go here."),
        validators=[DataRequired(_l("Enter the platform's contact email address.")),
                    Length(max=320, message=_l("This address is too long.")), valid_email])
    # Each language named in itself: its speakers look for their own name.
    default_language = SelectField(_l("Default language"), description=_l("Of its new letters."),
                                   choices=options(LANGUAGES), default="en")
    address_line = StringField(
        _l("Postal address (optional)"),
        description=_l("One line on the letterhead, for example: 12 Jalan Ampang, 50450 Kuala Lumpur, Malaysia."),
        validators=[Optional(), Length(max=300, message=_l("Keep the address under 300 characters."))])
    accent_colour = StringField(
        _l("Accent colour"),
        description=_l("Of the page header, buttons and letterhead: # and six hexadecimal digits, like #1d4f91. "
                       "White text sits on it, so choose a dark colour."),
        default="#1d4f91", validators=[DataRequired(_l("Enter the accent colour.")), readable_colour])
    logo = FileField(_l("Logo (optional)"),
                     description=_l("A PNG, JPEG or SVG image of at most 1 MB, shown on the letterhead and the "
                                    "platform's pages. Larger than 1000 pixels, it is scaled down."),
                     render_kw={"accept": "image/png,image/jpeg,image/svg+xml"})
    save = SubmitField(_l("Create the platform"))

    cleaned_logo: Logo | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read now, in this request: countries() names them in the reader's language.
        self.country.choices = options(countries(), _("Choose a country"))

    def validate_logo(self, field) -> None:
        upload = field.data
        if not upload or not getattr(upload, "filename", None):
            return
        data = upload.stream.read(MAX_BYTES + 1)  # one byte more than allowed tells it is too much
        if not data:
            raise ValidationError(_("The file is empty. Choose the logo's file again."))
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

    remove_logo = BooleanField(_l("Remove the current logo"))
    save = SubmitField(_l("Save the settings"))

    def lock_slug(self, platform: Platform) -> None:
        """Its letters are public: the slug stays what it is, whatever was sent."""
        self.slug.data = platform.slug
        self.slug.validators = ()
