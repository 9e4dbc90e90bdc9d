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
