"""CSV downloads of the logs, safe to open in a spreadsheet."""

import csv
import datetime
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils.text import slugify

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Sheets
# (CSV / formula injection, OWASP): "=HYPERLINK(...)" in an issue title would run on opening.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_response(*, account, log: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    filename = f"{slugify(account.name) or 'account'}-{log}-{datetime.date.today():%Y%m%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response
