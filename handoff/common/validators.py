import unicodedata
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

INVALID_URL_MESSAGE = "Enter a valid link, such as https://example.com/page."

_url_validator = URLValidator(schemes=["http", "https"], message=INVALID_URL_MESSAGE)


def validate_http_url(value: str) -> None:
    """Only http(s) links: a javascript: or data: URL stored here would run in a reader's
    browser when clicked."""
    if not value:
        return
    try:
        scheme = urlsplit(value).scheme.lower()
    except ValueError:
        # urlsplit refuses some hosts outright ("http://[x]/", "http://[::1"): a typo, not a 500.
        raise ValidationError(INVALID_URL_MESSAGE, code="invalid") from None
    if scheme not in ("http", "https"):
        raise ValidationError("Enter a link that starts with http:// or https://.", code="scheme")
    _url_validator(value)


class HttpURLFormField(forms.URLField):
    """A link field for forms: http(s) only, "example.com" read as https://example.com."""

    default_validators = [validate_http_url]
    default_error_messages = {"invalid": INVALID_URL_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)


class HttpURLField(models.URLField):
    """A stored link that can only be http(s): never javascript:, data: or file:."""

    default_validators = [validate_http_url]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": HttpURLFormField, **kwargs})


# --- Plain text ---------------------------------------------------------------------------------
# Explicit bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). They reorder
# what the reader sees ("Invoice \u202egpj.exe" shows as "Invoice exe.jpg"): in a name, a title,
# or a signed-off override reason that must read as it was written; left unclosed, also the text
# after it in a heading, an e-mail subject or a CSV cell. Right-to-left scripts need none of
# them: the browser orders Arabic or Hebrew letters by itself.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line breaks and tabs belong in multi-line text; every other control character (NUL, which
# PostgreSQL refuses in text, BEL, ESC, DEL, C1…) has no place in anything people type.
_MULTI_LINE_ALLOWED = frozenset("\t\n\r")

# The messages name what people can recognise (a line break, a tab), and the code point of the
# rest, which is invisible on the page.
LINE_BREAK_MESSAGE = "Remove the line break: this field takes one line."
TAB_MESSAGE = "Remove the tab: this field takes one line."
CONTROL_MESSAGE = "Remove the invisible control character (%(char)s)."
BIDI_MESSAGE = "Remove the invisible text-direction character (%(char)s)."


def _single_line_message(char: str) -> str | None:
    # U+2028/U+2029 are line breaks too (Python's e-mail headers split on them).
    if char in "\n\r\x0b\x0c\x85\u2028\u2029":
        return LINE_BREAK_MESSAGE
    if char == "\t":
        return TAB_MESSAGE
    return _multi_line_message(char)


def _multi_line_message(char: str) -> str | None:
    if char in _BIDI_CONTROLS:
        return BIDI_MESSAGE
    if unicodedata.category(char) == "Cc" and char not in _MULTI_LINE_ALLOWED:
        return CONTROL_MESSAGE
    return None


def _check(value, message_for) -> None:
    if not isinstance(value, str):
        return
    for char in value:
        if message := message_for(char):
            # The code point, because the character itself is invisible on the page.
            raise ValidationError(
                message, code="control_character", params={"char": f"U+{ord(char):04X}"}
            )


def validate_single_line_text(value) -> None:
    """A name, title or other one-line value: no line break, tab or other control character
    (a CR/LF in an account name makes Django refuse every e-mail header that quotes it)."""
    _check(value, _single_line_message)


def validate_multi_line_text(value) -> None:
    """A description or note: line breaks and tabs are fine; other control characters and bidi
    overrides are not."""
    _check(value, _multi_line_message)
