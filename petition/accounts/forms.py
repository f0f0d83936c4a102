from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..core.forms import Form


class SignInForm(Form):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])
