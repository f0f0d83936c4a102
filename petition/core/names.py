"""How organisation names and email addresses are compared.

Two names that a reader cannot tell apart must not count as two organisations.
``organisation_key`` is the exact rule (the database holds one confirmed
organisation per key and letter); ``organisation_skeleton`` is the looser,
look-alike rule, used only to flag a name for coordinators.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt):
# characters that render as nothing, such as the zero-width space, the soft
# hyphen and the word joiner. Python's unicodedata does not expose the property.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
_IGNORABLE_PATTERN = re.compile(
    "[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _DEFAULT_IGNORABLE) + "]"
)


def strip_ignorable(text: str) -> str:
    """The text without its invisible (default-ignorable) code points."""
    return _IGNORABLE_PATTERN.sub("", text)


def organisation_key(name: str) -> str:
    """The form of a name used to spot the same organisation twice.

    Case, accents, punctuation, spacing and invisible characters are ignored, in
    any script: "Coalición  Pro-Derechos", "coalicion pro derechos" and
    "Coali\u200bcion Pro Derechos" give the same key.
    """
    decomposed = unicodedata.normalize("NFKD", strip_ignorable(name).casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):  # accents and other combining marks
            continue
        kept.append(char if category[0] in "LN" else " ")
    return re.sub(r"\s+", " ", "".join(kept)).strip()


@lru_cache(maxsize=1)
def _confusable_prototypes() -> dict[str, str]:
    """Each non-ASCII character of Unicode's confusables data mapped to one member
    of its look-alike class: the ASCII letter or digit it imitates if there is one
    (Cyrillic "С" and Greek "Ϲ" give "C"), otherwise the class's lowest code point.
    The data is Unicode's confusables.txt as shipped by confusable-homoglyphs."""
    import json
    from importlib.resources import files

    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    prototypes = {}
    for char, homoglyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        single = sorted({entry["c"] for entry in homoglyphs if len(entry["c"]) == 1} | {char})
        ascii_like = [c for c in single if c.isascii() and c.isalnum()]
        prototypes[char] = (ascii_like or single)[0]
    return prototypes


def organisation_skeleton(name: str) -> str:
    """The key of the name with every look-alike character replaced by the one it
    imitates, in the spirit of Unicode's confusables skeleton (UTS #39):
    "Coalition" written with a Cyrillic "о" or "С" has another key but the same
    skeleton. Case is kept until the mapping is done (Greek "Η" imitates "H", its
    lower case "η" does not imitate "h")."""
    prototypes = _confusable_prototypes()
    decomposed = unicodedata.normalize("NFD", strip_ignorable(name))
    return organisation_key("".join(prototypes.get(char, char) for char in decomposed))


def email_key(address: str) -> str:
    """The form of an address used to spot the same sender twice, everywhere
    (endorsements and outbox alike store it, so SQL compares keys, never lower())."""
    return unicodedata.normalize("NFC", address.strip()).casefold()
