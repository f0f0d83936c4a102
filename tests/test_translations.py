"""Every word a person reads is marked for translation, and every catalogue
(English, French, Spanish, Arabic) translates every marked string.

A string that is not for people (a log line, an error only a developer sees)
is left unmarked with a ``# not for people`` comment on its line.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment
from jinja2.lexer import TOKEN_NAME, TOKEN_STRING

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CODE = ROOT / "petition"

_spec = importlib.util.spec_from_file_location("catalogues", ROOT / "scripts" / "catalogues.py")
catalogues = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogues)

TRANSLATING_CALLS = {"_", "gettext", "ngettext", "lazy_gettext", "_l", "lazy_ngettext", "pgettext", "npgettext"}
WORD = re.compile(r"[^\W\d_]{2,}")
# Attributes whose values people read or hear.
READ_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description", "content"}


def looks_like_words(text: str) -> bool:
    """Prose, as opposed to code: two words or more (``"tag tag--held"``,
    ``"DZ AO BJ"`` and ``"ix_%(name)s"`` are code), or one capitalised word."""
    words = text.split()
    if len(words) == 1:
        return bool(re.fullmatch(r"[A-Z][a-z]{2,}[.!?]?", words[0]))
    alphabetic = [word for word in words if re.fullmatch(r"[^\W\d_]{2,}[.,:;!?]?", word)]
    if len(alphabetic) < 2 or all(word.isupper() for word in alphabetic):
        return False
    return not (all(re.fullmatch(r"[a-z0-9_-]+", word) for word in words)
                and any("--" in word or "_" in word for word in words))


# Templates ---------------------------------------------------------------------------------

JINJA = Environment(extensions=["jinja2.ext.i18n"])
COMMENT = re.compile(r"\{#.*?#\}", re.S)
TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def unmarked_in_expressions(source: str) -> list[str]:
    """String literals inside {{ }} and {% %} that read as words but are not
    an argument of _() or ngettext()."""
    found, depth_of_call, depth = [], [], 0
    previous = None
    for _lineno, kind, value in JINJA.lex(source):
        if kind == "operator" and value == "(":
            depth += 1
            if previous is not None and previous[0] == TOKEN_NAME and previous[1] in TRANSLATING_CALLS:
                depth_of_call.append(depth)
        elif kind == "operator" and value == ")":
            if depth_of_call and depth_of_call[-1] == depth:
                depth_of_call.pop()
            depth -= 1
        elif kind == TOKEN_STRING and not depth_of_call and looks_like_words(value[1:-1]):
            found.append(value[1:-1])
        if kind != "whitespace":
            previous = (kind, value)
    return found


class TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        attributes = dict(attrs)
        for name, value in attributes.items():
            if name == "content" and tag == "meta" and attributes.get("name") not in ("description",):
                continue
            if name in READ_ATTRIBUTES and value and WORD.search(value):
                self.found.append(f'{name}="{value}"')
        if tag == "input" and attributes.get("type") in ("submit", "button") and WORD.search(attributes.get("value") or ""):
            self.found.append(f'value="{attributes["value"]}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and WORD.search(data):
            self.found.append(data.strip())


def unmarked_in_template(path: Path) -> list[str]:
    source = COMMENT.sub("", path.read_text(encoding="utf-8"))
    source = TRANS_BLOCK.sub(" ", source)
    found = unmarked_in_expressions(source)
    markup = TAG.sub(" ", source)
    if path.suffix == ".txt":
        found += [line.strip() for line in markup.splitlines() if WORD.search(line)]
    else:
        parser = TextNodes()
        parser.feed(markup)
        found += parser.found
    return found


TEMPLATE_FILES = sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_word_in_a_template_is_marked_for_translation(path):
    assert unmarked_in_template(path) == []


# Python ------------------------------------------------------------------------------------

# Calls whose string arguments people read: their first argument and these keywords.
CALLS_FOR_PEOPLE = {
    "flash", "ValidationError", "DataRequired", "InputRequired", "Length", "NumberRange", "Regexp", "EqualTo",
    "AnyOf", "NoneOf", "Email", "URL", "echo", "secho", "ClickException", "BadParameter", "UsageError", "Abort",
}
KEYWORDS_FOR_PEOPLE = {"message", "label", "description", "placeholder", "default_label"}
NOT_FOR_PEOPLE_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log", "warn",
                        "RuntimeError", "ValueError", "TypeError", "KeyError", "AssertionError", "NotImplementedError",
                        "LookupError", "text", "execute", "option", "argument", "command", "group", "route", "get",
                        "post", "add_url_rule", "relationship", "mapped_column", "Column", "String", "limit",
                        "getLogger", "Formatter", "strftime", "strptime", "compile", "match", "search", "sub",
                        "fullmatch", "split", "join", "replace", "startswith", "endswith", "format_date",
                        "format_datetime", "Index", "CheckConstraint", "UniqueConstraint", "ForeignKey"}


class PythonStrings(ast.NodeVisitor):
    def __init__(self, source: str) -> None:
        self.lines = source.splitlines()
        self.found: list[tuple[int, str]] = []
        self.stack: list[str] = []

    def _name(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return ""

    def _exempt(self, node: ast.AST) -> bool:
        line = self.lines[node.lineno - 1]
        end = self.lines[(getattr(node, "end_lineno", None) or node.lineno) - 1]
        return "# not for people" in line or "# not for people" in end

    def _report(self, node: ast.AST, text: str) -> None:
        if not self._exempt(node):
            self.found.append((node.lineno, text))

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring or a bare comment string
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
        if self._reading(strict=False) and len(text.split()) > 1 and looks_like_words(text):
            self._report(node, "f" + repr(text))
        # what is inside an f-string's braces is code

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and self._reading(strict=self._in_call_for_people()) and (
                (len(node.value.split()) > 1 and looks_like_words(node.value))
                or (self._in_call_for_people() and WORD.search(node.value))):
            self._report(node, repr(node.value))

    def _in_call_for_people(self) -> bool:
        return bool(self.stack) and self.stack[-1] == "people"

    def _reading(self, strict: bool) -> bool:
        return not any(frame in ("translated", "not people") for frame in self.stack)

    def visit_Call(self, node: ast.Call) -> None:
        name = self._name(node.func)
        self.visit(node.func)
        if name in TRANSLATING_CALLS:
            self.stack.append("translated")
            self.generic_visit(node)
            self.stack.pop()
            return
        if name in NOT_FOR_PEOPLE_CALLS:
            self.stack.append("not people")
            for child in [*node.args, *node.keywords]:
                self.visit(child)
            self.stack.pop()
            return
        for_people = name in CALLS_FOR_PEOPLE or name.endswith("Field")
        for position, argument in enumerate(node.args):
            self.stack.append("people" if for_people and position == 0 else "code")
            self.visit(argument)
            self.stack.pop()
        for keyword in node.keywords:
            self.stack.append("people" if keyword.arg in KEYWORDS_FOR_PEOPLE else "code")
            self.visit(keyword.value)
            self.stack.pop()

    def visit_FunctionDef(self, node):
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef


def unmarked_in_python(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    visitor = PythonStrings(source)
    visitor.visit(ast.parse(source))
    return visitor.found


# The demo's letters are content, written in each platform's language; the map builder is a tool.
NOT_INTERFACE = {"demo.py", "overview/build_map_data.py"}
PYTHON_FILES = sorted(p for p in CODE.rglob("*.py") if str(p.relative_to(CODE)) not in NOT_INTERFACE)


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: str(p.relative_to(CODE)))
def test_every_sentence_in_the_code_is_marked_for_translation(path):
    assert unmarked_in_python(path) == []


# Catalogues --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wanted():
    return catalogues.extract()


@pytest.mark.parametrize("language", catalogues.LANGUAGES)
def test_every_catalogue_translates_every_marked_string(wanted, language):
    assert len(wanted) > 0
    assert catalogues.gaps(language, wanted) == []


# The check itself finds what it must --------------------------------------------------------

def test_the_template_check_finds_unmarked_words(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<h1>Endorse</h1>{{ _("Marked") }}<img alt="A map">{{ "Not marked" if x }}'
                    '<p class="tag tag--held">{% trans %}Also marked{% endtrans %}</p>'
                    "{{ url_for('public.index') }}", encoding="utf-8")
    assert unmarked_in_template(page) == ["Not marked", "Endorse", 'alt="A map"']


def test_the_code_check_finds_unmarked_sentences(tmp_path):
    module = tmp_path / "views.py"
    module.write_text(
        'flash("Saved.")\n'
        'flash(_("Marked."))\n'
        'name = StringField("Name")\n'
        'log.info("Sent the message to the server")\n'
        'message = "The letter is closed for now."\n'
        'raise RuntimeError("Set the BASE_URL first please")\n'
        'key = "endorsement-confirm"\n'
        'other = "Not for the screen at all"  # not for people\n', encoding="utf-8")
    assert unmarked_in_python(module) == [(1, "'Saved.'"), (3, "'Name'"), (5, "'The letter is closed for now.'")]
