"""The Nu HTML checker (vnu.jar from npm, run with Java) finds no errors on the logs' pages,
full pages and the htmx partials alike (a partial is checked inside a minimal document)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from logs.services import issue_create, journal_entry_create, opportunity_create, risk_create

VNU = (
    Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
)

pytestmark = pytest.mark.django_db


def _vnu_errors(pages: dict[str, str], tmp_path: Path) -> list[str]:
    if not (VNU.exists() and shutil.which("java")):
        if os.environ.get("CI"):
            pytest.fail("The Nu HTML checker is missing in CI: .ci/run runs `npm ci` (needs java).")
        pytest.skip("Nu HTML checker not installed (npm ci; needs java)")
    files = []
    for name, html in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--exit-zero-always", *files],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [
        f"{Path(m['url']).stem}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error"
    ]


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
    pages = {name: client.get(path).content.decode() for name, path in full.items()}
    pages["risk-new-errors"] = client.post(
        reverse("logs:risk_create", args=[a]), {"title": "", "likelihood": "9"}
    ).content.decode()
    htmx = {"HTTP_HX_REQUEST": "true"}
    pages["partial-form"] = _document(
        client.get(reverse("logs:opportunity_create", args=[a]), **htmx).content.decode()
    )
    pages["partial-rows"] = _document(
        client.get(reverse("logs:issue_list", args=[a]), **htmx).content.decode()
    )
    pages["partial-edit-row"] = _table(
        client.get(reverse("logs:issue_edit", args=[a, issue.pk]), **htmx).content.decode(), 9
    )
    pages["partial-row"] = _table(
        client.get(reverse("logs:risk_row", args=[a, risk.pk]), **htmx).content.decode(), 8
    )
    errors = _vnu_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
