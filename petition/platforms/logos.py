"""A platform's logo: an upload checked by its content, never by its name, and
made safe to show anywhere.

PNG and JPEG are opened by Pillow (its PNG and JPEG decoders only), verified,
and encoded afresh: no metadata survives (EXIF, text chunks, colour profiles),
and no side is longer than MAX_SIDE pixels.

SVG is kept as a vector, so the letterhead prints sharp at any size, and is
cleaned by a strict allow-list: the standard library's expat parser reads it
with entity declarations refused (so no entity tricks, no external entities), and only
the drawing elements and presentation attributes listed below are written back.
A file with a script, an event handler or a reference to anything outside
itself is refused with a message saying so: the person can export it again. No
rasteriser is needed, so no system library either. Browsers never run scripts
in an SVG shown by <img>; the logo's own address also sends a Content-Security-
Policy that forbids them when the file is opened directly (see views.py).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 1024 * 1024  # what an upload may weigh
MAX_UPLOAD_SIDE = 4000  # pixels: larger images are refused before they are decoded
MAX_SIDE = 1000  # pixels: what is kept; a larger logo is scaled down to this
MAX_SVG_ELEMENTS = 20_000

PNG, JPEG, SVG = "image/png", "image/jpeg", "image/svg+xml"

# Lazy, like every message below: translated when the form shows it, in the reader's language.
NOT_AN_IMAGE = _l("The file is not a PNG, JPEG or SVG image. Upload the logo in one of these formats.")
TOO_HEAVY = _l("The file is larger than 1 MB. Upload a smaller image: 1000 pixels wide is plenty for a logo.")
UNREADABLE = _l("The image could not be read: the file may be damaged. Save it again, or upload another format.")


class LogoError(ValueError):
    """An upload that cannot be a logo; the message is for people (str() it in a request)."""


@dataclass(frozen=True)
class Logo:
    """A logo ready to store and serve: cleaned bytes and their media type."""

    data: bytes
    content_type: str


def clean_logo(data: bytes) -> Logo:
    """The upload as a safe logo, or LogoError saying what is wrong with it."""
    if len(data) > MAX_BYTES:
        raise LogoError(TOO_HEAVY)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _clean_raster(data, "PNG")
    if data.startswith(b"\xff\xd8\xff"):
        return _clean_raster(data, "JPEG")
    if _looks_like_xml(data):
        return Logo(clean_svg(data), SVG)
    raise LogoError(NOT_AN_IMAGE)


# -- PNG and JPEG -------------------------------------------------------------------------------


def _clean_raster(data: bytes, kind: str) -> Logo:
    try:
        with warnings.catch_warnings():
            # Pillow's own guard against decompression bombs warns first: refuse there already.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as probe:
                _check_dimensions(*probe.size)
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                image.load()
                clean = _encoded_afresh(image, kind)
    except LogoError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise LogoError(_too_many_pixels()) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise LogoError(UNREADABLE) from None
    return Logo(clean, PNG if kind == "PNG" else JPEG)


def _check_dimensions(width: int, height: int) -> None:
    if width > MAX_UPLOAD_SIDE or height > MAX_UPLOAD_SIDE:
        raise LogoError(_too_many_pixels(width, height))


def _too_many_pixels(width: int | None = None, height: int | None = None) -> str:
    if width:
        return _l("The image is too large (%(width)d × %(height)d pixels). Upload one at most %(most)d pixels "
                  "on each side: %(plenty)d is plenty for a logo.",
                  width=width, height=height, most=MAX_UPLOAD_SIDE, plenty=MAX_SIDE)
    return _l("The image is too large. Upload one at most %(most)d pixels on each side: "
              "%(plenty)d is plenty for a logo.", most=MAX_UPLOAD_SIDE, plenty=MAX_SIDE)


def _encoded_afresh(image: Image.Image, kind: str) -> bytes:
    """The pixels alone, upright, at most MAX_SIDE on each side, in a new file."""
    upright = ImageOps.exif_transpose(image)  # the camera's rotation, before EXIF goes
    if kind == "PNG":
        pixels = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
    else:
        pixels = upright.convert("RGB")
    if max(pixels.size) > MAX_SIDE:
        pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    pixels.info.clear()  # Pillow would write a colour profile or text kept here back into the file
    out = io.BytesIO()
    if kind == "PNG":
        pixels.save(out, "PNG", optimize=True)
    else:
        pixels.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue()


# -- SVG ----------------------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# What a logo draws with. Anything else (metadata, editors' own elements, links,
# animation, foreignObject) is left out of the cleaned file.
ELEMENTS = frozenset({
    "svg", "g", "defs", "symbol", "use", "switch", "title", "desc", "style",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image",
    "text", "tspan", "textPath",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask",
    "filter", "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feComposite", "feFlood",
    "feMerge", "feMergeNode", "feMorphology", "feDropShadow",
})
ATTRIBUTES = frozenset({
    "id", "class", "style", "transform", "viewBox", "preserveAspectRatio", "version", "width", "height",
    "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "d", "points", "pathLength",
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity", "color",
    "display", "visibility", "overflow", "vector-effect", "paint-order", "isolation", "mix-blend-mode",
    "clip-path", "clip-rule", "clipPathUnits", "mask", "maskUnits", "maskContentUnits",
    "gradientUnits", "gradientTransform", "spreadMethod", "offset", "stop-color", "stop-opacity",
    "patternUnits", "patternContentUnits", "patternTransform",
    "font-family", "font-size", "font-weight", "font-style", "font-variant", "font-stretch", "letter-spacing",
    "word-spacing", "text-anchor", "dominant-baseline", "alignment-baseline", "baseline-shift",
    "text-decoration", "writing-mode", "direction", "dx", "dy", "rotate", "textLength", "lengthAdjust",
    "startOffset", "filter", "filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation", "mode",
    "operator", "k1", "k2", "k3", "k4", "values", "type", "flood-color", "flood-opacity", "radius",
    "href", f"{{{XLINK_NS}}}href", f"{{{XML_NS}}}space",
})
# An embedded raster image is allowed, as long as it is a PNG or JPEG inside the file.
_EMBEDDED_RASTER = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]*", re.I)
# In CSS and attribute values, url() may only point into the file itself: url(#gradient).
_URL = re.compile(r"url\s*\(\s*(['\"]?)\s*([^'\")\s]*)", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _looks_like_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def clean_svg(data: bytes) -> bytes:
    """The SVG with only allow-listed elements and attributes, or LogoError."""
    root = _parse(data)
    if root.tag != f"{{{SVG_NS}}}svg":
        raise LogoError(NOT_AN_IMAGE)
    if sum(1 for _ in root.iter()) > MAX_SVG_ELEMENTS:
        raise LogoError(_l("This SVG is too complex for a logo. Simplify it, or upload it as a PNG."))
    _refuse_code(root)
    clean = _copy_allowed(root)
    # Every kept element is in the SVG namespace: written with local names under one xmlns.
    clean.attrib = {"xmlns": SVG_NS, **clean.attrib}
    return ElementTree.tostring(clean, encoding="utf-8", xml_declaration=False)


class _Refused(Exception):
    pass


def _parse(data: bytes) -> ElementTree.Element:
    """Read the XML with expat, refusing entity declarations: a logo needs none, and
    entities are how XML files reach for other files or swell to gigabytes. A plain
    DOCTYPE line, as many editors write, is fine: expat never fetches its DTD."""
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")

    def doctype(_name, _system_id, _public_id, has_internal_subset):
        if has_internal_subset:
            raise _Refused

    def refuse(*_args):
        raise _Refused

    def start(name, attributes):
        builder.start(_qualified(name), {_qualified(key): value for key, value in attributes.items()})

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(_qualified(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        return builder.close()
    except _Refused:
        raise LogoError(_l("This SVG declares entities in its DOCTYPE, which a logo does not need. "
                           "Save the logo again without it, or upload it as a PNG.")) from None
    except (expat.ExpatError, AssertionError, ValueError):
        # AssertionError: the tree builder's answer to a document it could not close.
        raise LogoError(_l("This SVG could not be read: it is not well-formed XML. "
                           "Save it again, or upload the logo as a PNG.")) from None


def _qualified(name: str) -> str:
    """expat's "namespace}local" as ElementTree's "{namespace}local"."""
    return "{" + name if "}" in name else name


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _refuse_code(root: ElementTree.Element) -> None:
    """Scripts and event handlers anywhere in the file are refused outright, even
    inside parts the cleaning would drop: a logo has no reason to carry them."""
    for element in root.iter():
        if _local(element.tag).lower() == "script":
            raise LogoError(_l("This SVG contains a script. Save the logo again without it, or upload it as a PNG."))
        for name in element.attrib:
            if _local(name).lower().startswith("on"):
                raise LogoError(_l("This SVG contains an event handler (%(attribute)s), a kind of script. "
                                   "Save the logo again without it, or upload it as a PNG.",
                                   attribute=_local(name)))


def _copy_allowed(element: ElementTree.Element) -> ElementTree.Element:
    copy = ElementTree.Element(_local(element.tag))
    for name, value in element.attrib.items():
        if name not in ATTRIBUTES:
            continue
        if _local(name) == "href":
            _check_reference(element, value)
            copy.set("href", value.strip())  # SVG 2's plain href: no xlink prefix to declare
        elif name == "style":
            _check_css(value)
            copy.set(name, value)
        else:
            _check_urls(value)
            copy.set(name, value)
    copy.text = element.text
    if _local(element.tag) == "style":
        _check_css(element.text or "")
    for child in element:
        if child.tag.startswith(f"{{{SVG_NS}}}") and _local(child.tag) in ELEMENTS:
            kept = _copy_allowed(child)
            kept.tail = child.tail
            copy.append(kept)
        elif child.tail:  # the text after a dropped element still belongs to its parent
            if len(copy):
                copy[-1].tail = (copy[-1].tail or "") + child.tail
            else:
                copy.text = (copy.text or "") + child.tail
    return copy


def _check_reference(element: ElementTree.Element, value: str) -> None:
    value = value.strip()
    if value.startswith("#"):
        return
    if _local(element.tag) == "image" and _EMBEDDED_RASTER.fullmatch(value):
        return
    raise _external(value)


def _check_urls(value: str) -> None:
    for _quote, target in _URL.findall(value):
        if not target.startswith("#"):
            raise _external(target)


def _check_css(css: str) -> None:
    css = _CSS_COMMENT.sub("", css)
    # Escapes could spell url( or @import in a way no check sees; a logo's styles need none.
    if "\\" in css or "@" in css or "expression" in css.lower() or "javascript:" in css.lower():
        raise LogoError(_l("This SVG's styles contain imports or escapes that a logo does not need. "
                           "Save the logo again without them, or upload it as a PNG."))
    _check_urls(css)


def _external(target: str) -> LogoError:
    shown = target if len(target) <= 60 else target[:57] + "…"
    return LogoError(_l("This SVG refers to a file outside itself (%(target)s). "
                        "Save it with everything embedded, or upload the logo as a PNG.", target=shown))
