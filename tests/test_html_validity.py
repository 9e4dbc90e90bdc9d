"""The Nu HTML checker (vnu.jar from npm, run with Java) finds no errors on every main page.

One JVM run checks every page, so the gate costs a couple of seconds, not one per page."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.security.pages import pages_render
from tests.security.world import world_build

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
        # non-document-error: the checker could not read a page (that is a failure too)
        if m["type"] in ("error", "non-document-error")
    ]


def test_main_pages_are_valid_html(ie, ta, manager, template, tmp_path):
    """Every main page and form error state (tests/security/pages.py), in one JVM run."""
    world = world_build(ie=ie, ta=ta, manager=manager)
    errors = _vnu_errors(pages_render(world), tmp_path)
    assert not errors, "\n".join(errors)
