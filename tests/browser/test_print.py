"""Printing an account page carries the record, not the viewer's tools, in at most four A4
pages for every demo account (issue 14): the top in three columns, short sections side by side,
no editors (static/css/print.css), the settled checklist items unfolded (static/js/app.js).
Chromium's own PDF, counted by its page objects."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from handoff.accounts.demo import DEMO_PASSWORD
from handoff.accounts.models import Account
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_every_demo_account_prints_in_four_a4_pages_without_editors(page, live_server, template):
    call_command("seed_demo", stdout=io.StringIO())
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "manager", DEMO_PASSWORD)
    counts = {}
    for account in Account.objects.order_by("name"):
        page.goto(live_server.url + reverse("accounts:detail", args=[account.pk]))
        page.emulate_media(media="print")
        for editor in ("Done", "Request handoff", "Edit account", "Print"):
            assert not page.get_by_role("button", name=editor, exact=True).is_visible()
        assert not page.get_by_role("link", name="Request handoff…").is_visible()
        assert page.get_by_role("heading", name="Production deployment").is_visible()
        counts[account.name] = pdf_pages(page.pdf(format="A4"))  # print media, as emulated
    assert all(1 <= n <= 4 for n in counts.values()), counts
    assert len(counts) == 12
    # What is folded on screen unfolds for paper, and folds back after.
    handed_off = Account.objects.get(name="Dunmore Logistics")
    page.goto(live_server.url + reverse("accounts:detail", args=[handed_off.pk]))
    settled = page.locator("details.checklist-settled")
    assert settled.get_attribute("open") is None
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert settled.get_attribute("open") is not None
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert settled.get_attribute("open") is None
