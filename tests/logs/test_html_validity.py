"""The Nu HTML checker (vnu.jar from npm, run with Java) finds no errors on the logs' pages,
full pages and the htmx partials alike (a partial is checked inside a minimal document)."""

import pytest
from django.urls import reverse

from logs.services import issue_create, journal_entry_create, opportunity_create, risk_create
from tests.test_html_validity import _vnu_errors

pytestmark = pytest.mark.django_db


def _document(fragment: str) -> str:
    head = '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
    return f"{head}<body>{fragment}</body></html>"


def _table(fragment: str, columns: int) -> str:
    head = "<th>h</th>" * columns
    return _document(f"<table><thead><tr>{head}</tr></thead><tbody>{fragment}</tbody></table>")


def test_logs_pages_are_valid_html(client_for, account, ie, tmp_path):
    issue = issue_create(account=account, actor=ie, title="SAML loop", owner=ie)
    risk = risk_create(
        account=account, actor=ie, title="Disk", description="…", likelihood=4, impact=5, owner=ie
    )
    opportunity = opportunity_create(account=account, actor=ie, title="More users", owner=ie)
    entry = journal_entry_create(
        account=account,
        author=ie,
        title="Limits",
        body="**1,200** users\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    )
    client = client_for(ie)
    a = account.pk
    full = {
        "account": reverse("accounts:detail", args=[a]),
        "notes": reverse("logs:journal_list", args=[a]),
        "issues": reverse("logs:issue_list", args=[a]) + "?status=open_any",
        "risks": reverse("logs:risk_list", args=[a]),
        "opportunities": reverse("logs:opportunity_list", args=[a]),
        "issue": reverse("logs:issue_detail", args=[a, issue.pk]),
        "risk": reverse("logs:risk_detail", args=[a, risk.pk]),
        "opportunity": reverse("logs:opportunity_detail", args=[a, opportunity.pk]),
        "issue-new": reverse("logs:issue_create", args=[a]),
        "risk-edit": reverse("logs:risk_edit", args=[a, risk.pk]),
        "note-edit": reverse("logs:journal_edit", args=[a, entry.pk]),
        "issues-overview": reverse("logs:issue_overview"),
        "heatmap": reverse("logs:risk_heatmap") + "?likelihood=4&impact=5",
    }
    client.force_login(account.manager)  # the cross-account views are for managers and TAs

    def body(response) -> str:
        # An error page or an empty redirect is valid HTML too: only a page that rendered counts.
        assert response.status_code == 200, (response.request["PATH_INFO"], response.status_code)
        return response.content.decode()

    pages = {name: body(client.get(path)) for name, path in full.items()}
    pages["risk-new-errors"] = body(
        client.post(reverse("logs:risk_create", args=[a]), {"title": "", "likelihood": "9"})
    )
    htmx = {"HTTP_HX_REQUEST": "true"}
    pages["partial-form"] = _document(
        body(client.get(reverse("logs:opportunity_create", args=[a]), **htmx))
    )
    pages["partial-rows"] = _document(
        body(client.get(reverse("logs:issue_list", args=[a]), **htmx))
    )
    pages["partial-edit-row"] = _table(
        body(client.get(reverse("logs:issue_edit", args=[a, issue.pk]), **htmx)), 9
    )
    pages["partial-row"] = _table(
        body(client.get(reverse("logs:risk_row", args=[a, risk.pk]), **htmx)), 8
    )
    errors = _vnu_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
