"""Security gates on every page: no inline script or style (the CSP forbids them, so they would
silently break), and the production settings' headers and cookies on real responses."""

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.security.pages import PAGES, ROLE_PAGES, pages_render
from tests.test_settings import PRODUCTION_ENV, ROOT

pytestmark = pytest.mark.django_db


class _InlineFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append(f"<script> without src: {self.getpos()}")
        if tag == "style":
            self.found.append(f"<style> element: {self.getpos()}")
        if "style" in names:
            self.found.append(f'style="" on <{tag}>: {self.getpos()}')
        handlers = sorted(n for n in names if n.startswith("on"))
        if handlers:
            self.found.append(f"{handlers} on <{tag}>: {self.getpos()}")

    handle_startendtag = handle_starttag


def test_no_page_has_inline_script_style_or_event_handlers(world):
    pages = pages_render(world)
    assert len(pages) == len(PAGES) + len(ROLE_PAGES)
    assert len(PAGES) >= 45 and len(ROLE_PAGES) >= 20
    problems = []
    for name, html in pages.items():
        finder = _InlineFinder()
        finder.feed(html)
        problems += [f"{name}: {p}" for p in finder.found]
    assert not problems, "\n".join(problems)


def test_the_inline_finder_catches_what_it_looks_for():
    finder = _InlineFinder()
    finder.feed(
        '<script>x()</script><script src="/a.js"></script><p style="color:red">'
        '<img src=x onerror="y()"><style>p{}</style>'
    )
    assert len(finder.found) == 4


# --- Production settings on real responses ---------------------------------------------------
SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
]


def _production_settings() -> dict:
    """The security settings exactly as handoff/settings.py computes them from a production
    environment (DEBUG unset), read in a separate process."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {SECURITY_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "handoff.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def test_production_responses_carry_the_security_headers_and_cookies(manager):
    production = _production_settings()
    assert production["DEBUG"] is False
    with override_settings(**production, ALLOWED_HOSTS=["testserver"]):
        client = Client()
        # Plain http is sent to https first.
        insecure = client.get(reverse("login"))
        assert insecure.status_code == 301
        assert insecure["Location"].startswith("https://")

        page = client.get(reverse("login"), secure=True)
        assert page.status_code == 200
        csp = _csp(page)
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
        assert "'unsafe-inline'" not in page["Content-Security-Policy"]
        assert "'unsafe-eval'" not in page["Content-Security-Policy"]
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
        assert re.fullmatch(
            r"max-age=31536000; includeSubDomains; preload", page["Strict-Transport-Security"]
        )
        assert page["X-Frame-Options"] == "DENY"
        assert page["X-Content-Type-Options"] == "nosniff"
        csrf = page.cookies["csrftoken"]
        assert csrf["secure"] and csrf["httponly"]

        signed_in = client.post(
            reverse("login"),
            {"username": manager.username, "password": "pw-for-tests-1"},
            secure=True,
        )
        assert signed_in.status_code == 302
        session = signed_in.cookies["sessionid"]
        assert session["secure"] and session["httponly"]
        assert session["samesite"] == "Lax"

        dashboard = client.get(reverse("accounts:dashboard"), secure=True)
        assert dashboard.status_code == 200
        assert "'unsafe-inline'" not in dashboard["Content-Security-Policy"]
        assert dashboard["X-Frame-Options"] == "DENY"
