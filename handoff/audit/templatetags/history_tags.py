"""How History shows a stored value on a page."""

import datetime
import re

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


@register.filter
def history_value(value):
    """History stores dates as ISO (`display_value`; the exports keep them so); a page shows
    them in its one format, "5 Jan 2027" or "5 Jan 2027, 14:05". Anything else is unchanged."""
    if not isinstance(value, str):
        return value
    try:
        if _ISO_DATE.fullmatch(value):
            return date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
        if _ISO_DATETIME.fullmatch(value):
            moment = datetime.datetime.fromisoformat(value)
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return date_format(moment, "DATETIME_FORMAT")
    except ValueError:  # looks like a date but is not one (2026-13-40): show it as written
        pass
    return value
