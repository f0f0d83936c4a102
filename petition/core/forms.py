"""What every form of the project shares."""

from __future__ import annotations

import unicodedata

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto as FROM_REQUEST  # Flask-WTF's "read the request" default
from markupsafe import Markup, escape
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.widgets import Select, html_params

from .i18n import current_language

# Line breaks and tabs are fine in a text area; every other control character
# (NUL above all, which PostgreSQL refuses) is an error the person can fix.
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}
FILE_MESSAGE = _l("Enter text here, not a file.")


def _has_control_characters(value: str, multiline: bool) -> bool:
    for char in value:
        if unicodedata.category(char) == "Cc" and not (multiline and char in _ALLOWED_CONTROLS):
            return True
    return False


def _submitted_formdata(form: Form) -> MultiDict | None:
    """The submitted fields, as Flask-WTF would read them, except that a file part
    reaches only a FileField the form declares, and a JSON body is not read at all
    (no form here takes JSON: its numbers and lists would reach text fields as they are).
    The names of fields sent a file they do not take are kept for validate()."""
    file_fields = {field.name for field in form if isinstance(field, FileField)}
    text_fields = {field.name for field in form} - file_fields
    form.misplaced_files = frozenset(name for name in request.files if name in text_fields)
    files = MultiDict([(name, file) for name, file in request.files.items(multi=True) if name in file_fields])
    formdata = CombinedMultiDict([files, request.form]) if files else request.form
    return formdata or None


class Form(FlaskForm):
    """A Flask-WTF form (CSRF included) that strips surrounding spaces and refuses
    invisible control characters in every text field, and refuses a file sent to
    any field but a FileField."""

    misplaced_files: frozenset[str] = frozenset()

    class Meta:
        def wrap_formdata(self, form, formdata):
            if formdata is not FROM_REQUEST:
                return formdata
            return _submitted_formdata(form) if form.is_submitted() else None

        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, (StringField, TextAreaField)) and not issubclass(field_class, PasswordField):
                filters = list(unbound_field.kwargs.get("filters", ()))
                filters.append(lambda value: value.strip() if isinstance(value, str) else value)
                options["filters"] = filters
            return unbound_field.bind(form=form, **options)

        def render_field(self, field, render_kw):
            # A hidden CSRF field needs no id: two forms on a page would repeat it.
            if field.type == "CSRFTokenField":
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if field.name in self.misplaced_files:
                field.errors = [FILE_MESSAGE]  # what the field said of the missing text would mislead
                valid = False
            elif isinstance(field.data, str) and _has_control_characters(
                field.data, multiline=isinstance(field, TextAreaField)
            ):
                field.errors = [*field.errors, _("Remove the invisible control characters from this field.")]
                valid = False
        return valid


def reject_blank_name(form, field) -> None:
    """A name must contain at least one letter or digit, in any script."""
    if field.data and not any(unicodedata.category(c)[0] in "LN" for c in field.data):
        raise ValidationError(_("Enter a name with at least one letter or number."))


class ActionForm(Form):
    """A button that changes something: the form carries only the CSRF token."""


def options(pairs: list[tuple[str, str]], placeholder: str | None = None) -> list[SelectChoice]:
    """Select options from (value, label) pairs, with an empty first choice if given."""
    choices = [SelectChoice("", placeholder)] if placeholder else []
    return choices + [SelectChoice(value, label) for value, label in pairs]


class Options(list):
    """Select options that also hold their values as a set: for a long, fixed list."""

    def __init__(self, choices: list[SelectChoice]) -> None:
        super().__init__(choices)
        self.values = frozenset(choice.value for choice in choices)


class LongSelectField(SelectField):
    """A select over a long, fixed list of Options (the 250 countries): the value sent is
    looked up in their set, not compared with each option in turn, on every endorsement."""

    def pre_validate(self, form) -> None:
        values = getattr(self.choices, "values", None)
        if values is None or self.process_errors or not self.validate_choice or self.data not in values:
            super().pre_validate(form)  # WTForms' own checks and message


class LongSelect(Select):
    """A select for a long, fixed list (the 250 countries): its options are
    rendered once per process and language, then only the chosen one is marked.
    Rendering them one by one was half the cost of the public letter page."""

    def __init__(self) -> None:
        super().__init__()
        self._options: dict[str, str] = {}  # language code: the rendered options

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        language = current_language()
        options = self._options.get(language)
        if options is None:
            options = self._options[language] = "".join(
                f'<option value="{escape(choice.value)}">{escape(choice.label)}</option>'
                for choice in field.choices
            )
        if field.data:
            chosen = f'<option value="{escape(field.data)}">'
            options = options.replace(chosen, f'<option selected value="{escape(field.data)}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")
