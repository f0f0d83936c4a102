from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..core.forms import Form, options, reject_blank_name
from ..endorsements.forms import valid_email
from .models import Role
from .rules import MIN_PASSWORD_LENGTH

ROLE_CHOICES = [(role.value, f"{role.value.capitalize()}. {role.description}") for role in Role]
ROLE_NAMES = [(role.value, role.value.capitalize()) for role in Role]
PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good one."


class SignInForm(Form):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])


class EmailAddressForm(Form):
    """Forgot your password: the address the account uses."""

    email = EmailField("Email address", description="The address you sign in with.",
                       validators=[DataRequired("Enter your email address."),
                                   Length(max=320, message="Keep the address under 320 characters."), valid_email])


def _new_password(label: str) -> PasswordField:
    return PasswordField(label, description=PASSWORD_HINT, validators=[
        DataRequired("Choose a password."),
        Length(min=MIN_PASSWORD_LENGTH, message=f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."),
        Length(max=200, message="Keep the password under 200 characters."),
    ])


def _repeated_password() -> PasswordField:
    return PasswordField("Type the password again", validators=[
        DataRequired("Type the password again."), EqualTo("password", "The two passwords are not the same.")])


class NewPasswordForm(Form):
    password = _new_password("New password")
    password_again = _repeated_password()


class AcceptInvitationForm(Form):
    name = StringField("Your name", description="As your colleagues know you; shown to the people you work with.",
                       validators=[DataRequired("Enter your name."),
                                   Length(max=200, message="Keep the name under 200 characters."), reject_blank_name])
    password = _new_password("Choose a password")
    password_again = _repeated_password()


class InviteForm(Form):
    email = EmailField("Email address", validators=[
        DataRequired("Enter the email address of the person to invite."),
        Length(max=320, message="Keep the address under 320 characters."), valid_email])
    name = StringField("Their name (optional)", description="They can change it when they accept.",
                       validators=[Optional(), Length(max=200, message="Keep the name under 200 characters."),
                                   reject_blank_name])
    platform = SelectField("Platform", coerce=int, validate_choice=True,
                           validators=[DataRequired("Choose the platform.")])
    role = RadioField("Role", choices=options(ROLE_CHOICES), validators=[DataRequired("Choose a role.")])

    def offer(self, platforms: list) -> "InviteForm":
        """Only the platforms whose people the inviter manages."""
        self.platform.choices = options([(platform.id, platform.name) for platform in platforms])
        if len(platforms) == 1 and not self.is_submitted():
            self.platform.data = platforms[0].id
        return self


class ShownRoleForm(Form):
    """Remove one person's role on one platform. ``shown`` is the role the page
    showed, so a change made meanwhile by someone else is not undone unseen."""

    shown = SelectField(choices=options(ROLE_NAMES), validators=[DataRequired()])


class RoleForm(ShownRoleForm):
    """Change one person's role on one platform."""

    role = SelectField("Role", choices=options(ROLE_NAMES), validators=[DataRequired()])
