"""The Nu HTML checker (vnu.jar from npm, run with Java) finds no errors on the main pages.

One JVM run checks every page, so the gate costs a couple of seconds, not one per page."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

VNU = (
    Path(__file__).resolve().parent.parent
    / "node_modules"
    / "vnu-jar"
    / "build"
    / "dist"
    / "vnu.jar"
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


def _main_pages(client, account) -> dict[str, str]:
    urls = {
        "dashboard": reverse("accounts:dashboard"),
        "dashboard-filtered": reverse("accounts:dashboard") + "?q=acme&phase=implementation",
        "my-accounts": reverse("accounts:mine"),
        "account": reverse("accounts:detail", args=[account.pk]),
        "account-new": reverse("accounts:create"),
        "account-edit": reverse("accounts:edit", args=[account.pk]),
        "account-history": reverse("accounts:history", args=[account.pk]),
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        pages[name] = response.content.decode()
    # A form with errors must stay valid HTML too.
    pages["account-new-errors"] = client.post(
        reverse("accounts:create"), {"name": "", "crm_url": "javascript:x"}
    ).content.decode()
    return pages


def test_main_pages_are_valid_html(client, manager, account, tmp_path):
    signed_out = client.get(reverse("login")).content.decode()
    client.force_login(manager)
    pages = {"sign-in": signed_out, **_main_pages(client, account)}
    errors = _vnu_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
