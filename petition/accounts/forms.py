from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..core.forms import Form, options, reject_blank_name
from ..endorsements.forms import valid_email
from .models import Role
from .rules import MIN_PASSWORD_LENGTH

ROLE_CHOICES = [(role.value, _l("%(role)s. %(description)s", role=role.label, description=role.description))
                for role in Role]
ROLE_NAMES = [(role.value, role.label) for role in Role]
PASSWORD_HINT = _l("At least %(num)d characters. A few unrelated words make a good one.", num=MIN_PASSWORD_LENGTH)
ADDRESS_TOO_LONG = _l("Keep the address under 320 characters.")
NAME_TOO_LONG = _l("Keep the name under 200 characters.")
PASSWORD_TOO_LONG = _l("Keep the password under 200 characters.")


class SignInForm(Form):
    email = EmailField(_l("Email address"),
                       validators=[DataRequired(_l("Enter your email address.")),
                                   Length(max=320, message=ADDRESS_TOO_LONG)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(_l("Enter your password.")),
                                         Length(max=200, message=PASSWORD_TOO_LONG)])


class EmailAddressForm(Form):
    """Forgot your password: the address the account uses."""

    email = EmailField(_l("Email address"), description=_l("The address you sign in with."),
                       validators=[DataRequired(_l("Enter your email address.")),
                                   Length(max=320, message=ADDRESS_TOO_LONG), valid_email])


def _new_password(label: str) -> PasswordField:
    return PasswordField(label, description=PASSWORD_HINT, validators=[
        DataRequired(_l("Choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH,
               message=_l("Choose a password of at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)),
        Length(max=200, message=PASSWORD_TOO_LONG),
    ])


def _repeated_password() -> PasswordField:
    return PasswordField(_l("Type the password again"), validators=[
        DataRequired(_l("Type the password again.")),
        EqualTo("password", _l("The two passwords are not the same."))])  # not for people: "password" is the field


class NewPasswordForm(Form):
    password = _new_password(_l("New password"))
    password_again = _repeated_password()


class AcceptInvitationForm(Form):
    name = StringField(_l("Your name"),
                       description=_l("As your colleagues know you; shown to the people you work with."),
                       validators=[DataRequired(_l("Enter your name.")), Length(max=200, message=NAME_TOO_LONG),
                                   reject_blank_name])
    password = _new_password(_l("Choose a password"))
    password_again = _repeated_password()


class InviteForm(Form):
    email = EmailField(_l("Email address"), validators=[
        DataRequired(_l("Enter the email address of the person to invite.")),
        Length(max=320, message=ADDRESS_TOO_LONG), valid_email])
    name = StringField(_l("Their name (optional)"), description=_l("They can change it when they accept."),
                       validators=[Optional(), Length(max=200, message=NAME_TOO_LONG), reject_blank_name])
    # The empty first choice: a required select starts with one (HTML), read as None.
    platform = SelectField(_l("Platform"), coerce=lambda value: int(value) if value not in ("", None) else None,
                           validate_choice=True, validators=[DataRequired(_l("Choose the platform."))])
    role = RadioField(_l("Role"), choices=options(ROLE_CHOICES), validators=[DataRequired(_l("Choose a role."))])

    def offer(self, platforms: list) -> "InviteForm":
        """Only the platforms whose people the inviter manages."""
        self.platform.choices = options([(platform.id, platform.name) for platform in platforms],
                                        _("Choose the platform"))
        if len(platforms) == 1 and not self.is_submitted():
            self.platform.data = platforms[0].id
        return self


class ShownRoleForm(Form):
    """Remove one person's role on one platform. ``shown`` is the role the page
    showed, so a change made meanwhile by someone else is not undone unseen."""

    shown = SelectField(choices=options(ROLE_NAMES), validators=[DataRequired()])


class RoleForm(ShownRoleForm):
    """Change one person's role on one platform."""

    role = SelectField(_l("Role"), choices=options(ROLE_NAMES), validators=[DataRequired()])
