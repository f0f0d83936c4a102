"""A platform's accent colour: whether white text can sit on it, and the small
stylesheet that carries it to the platform's pages (pages allow no inline styles)."""

from __future__ import annotations

import re

COLOUR_PATTERN = re.compile(r"#[0-9a-f]{6}")
# WCAG 2's minimum for normal text: the header's white text sits on the accent
# colour, and links and the letterhead are drawn in it on white.
MIN_CONTRAST = 4.5


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def contrast_with_white(colour: str) -> float:
    """WCAG 2 contrast ratio between white and this #rrggbb colour (1 to 21)."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * _linear(red) + 0.7152 * _linear(green) + 0.0722 * _linear(blue)
    return 1.05 / (luminance + 0.05)


def darker(colour: str, factor: float = 0.75) -> str:
    """The colour with each channel scaled down: for hover states."""
    return "#" + "".join(f"{round(int(colour[i:i + 2], 16) * factor):02x}" for i in (1, 3, 5))


def theme_css(accent_colour: str) -> str:
    """The stylesheet that gives a platform's pages its colour: it overrides the
    custom properties app.css and print.css draw with."""
    return f":root {{ --accent: {accent_colour}; --accent-dark: {darker(accent_colour)}; }}\n"
