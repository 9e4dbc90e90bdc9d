"""The logs' URLs are generated from their LogSpecs (logs/views/generic.py): every name and
path that templates, other apps and bookmarks use stays what it was."""

import pytest
from django.urls import get_resolver, resolve, reverse

URLS = {
    "journal_list": "/accounts/1/notes/",
    "journal_create": "/accounts/1/notes/new/",
    "journal_export": "/accounts/1/notes/export.csv",
    "journal_entry": "/accounts/1/notes/2/",
    "journal_edit": "/accounts/1/notes/2/edit/",
    "issue_list": "/accounts/1/issues/",
    "issue_create": "/accounts/1/issues/new/",
    "issue_export": "/accounts/1/issues/export.csv",
    "issue_detail": "/accounts/1/issues/2/",
    "issue_row": "/accounts/1/issues/2/row/",
    "issue_edit": "/accounts/1/issues/2/edit/",
    "issue_status": "/accounts/1/issues/2/status/",
    "issue_note_add": "/accounts/1/issues/2/updates/",
    "risk_list": "/accounts/1/risks/",
    "risk_create": "/accounts/1/risks/new/",
    "risk_export": "/accounts/1/risks/export.csv",
    "risk_detail": "/accounts/1/risks/2/",
    "risk_row": "/accounts/1/risks/2/row/",
    "risk_edit": "/accounts/1/risks/2/edit/",
    "risk_status": "/accounts/1/risks/2/status/",
    "risk_occurred": "/accounts/1/risks/2/occurred/",
    "opportunity_list": "/accounts/1/opportunities/",
    "opportunity_create": "/accounts/1/opportunities/new/",
    "opportunity_export": "/accounts/1/opportunities/export.csv",
    "opportunity_detail": "/accounts/1/opportunities/2/",
    "opportunity_row": "/accounts/1/opportunities/2/row/",
    "opportunity_edit": "/accounts/1/opportunities/2/edit/",
    "opportunity_stage": "/accounts/1/opportunities/2/stage/",
    "issue_overview": "/issues/",
    "risk_heatmap": "/risks/",
}


@pytest.mark.parametrize(("name", "url"), URLS.items())
def test_every_log_url_keeps_its_name_and_path(name, url):
    args = [int(part) for part in url.split("/") if part.isdigit()]
    assert reverse(f"logs:{name}", args=args) == url
    assert resolve(url).url_name == name


def test_the_logs_have_no_other_url():
    names = {p.name for p in get_resolver("logs.urls").url_patterns}
    assert names == set(URLS)
