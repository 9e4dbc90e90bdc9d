"""The Vitally sync page in Chromium, on a phone (390×844): reached from the Menu, trouble
first, a filter applied as it is chosen (the URL follows), Push now, and nothing wider than the
screen (the table scrolls in its own box); axe finds nothing serious."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, sign_in
from tests.factories import UserFactory
from tests.vitally_sync.test_health import ORDER, one_of_each
from vitally_sync.models import AccountSync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"


def test_a_manager_watches_the_sync_on_a_phone(page, live_server, screenshot, settings):
    settings.VITALLY_BASE_URL = "https://vitally.invalid"
    settings.VITALLY_API_KEY = "sk_test_portal"
    settings.VITALLY_TRAIT_MAP = ""
    manager = UserFactory(username="maya", role="manager")
    made = one_of_each(manager)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "maya")

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vitally sync").click()
    expect(page.get_by_role("heading", name="Vitally sync", level=1)).to_be_visible()
    rows = page.locator("table.sync-health tbody tr")
    expect(rows).to_have_count(len(ORDER))
    names = [rows.nth(i).locator("th").inner_text() for i in range(len(ORDER))]
    assert names == [made[state].name for state in ORDER]  # trouble first
    _fits(page)
    # A phone shows each row as a card, every value beside its column's title: nothing hides
    # to the right of the table's box (it scrolled 836 px of table in 368 px).
    box = page.locator(".table-scroll").first
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth")
    last_attempt = rows.first.locator("td").nth(2)
    assert last_attempt.get_attribute("data-label") == "Last attempt"
    assert last_attempt.is_visible()
    # A card without an action shows no "Actions" title beside nothing.
    not_linked = rows.filter(has_text=made["not_linked"].name).locator("td").last
    assert not_linked.get_attribute("data-label") == "Actions" and not not_linked.is_visible()
    attention = rows.filter(has_text=made["attention"].name).locator("td").last
    assert attention.is_visible()  # its Push now
    assert_accessible(page)
    screenshot("vitally-sync-390")

    # A filter applies as it is chosen, and the address says so (shareable).
    page.get_by_label("State", exact=True).select_option("trouble")
    expect(rows).to_have_count(5)
    expect(page).to_have_url(re.compile(r"/vitally/\?state=trouble"))
    page.get_by_label("Manager", exact=True).select_option("me")
    expect(page).to_have_url(re.compile(r"state=trouble&manager=me"))
    expect(page.get_by_role("status").first).to_contain_text("5 accounts")
    _fits(page)
    assert_accessible(page)

    # Push now on the account that needs attention: back on the same filtered page.
    row = rows.filter(has_text=made["attention"].name)
    row.get_by_role("button", name=re.compile("Push now")).click()
    expect(page.locator(".messages")).to_contain_text("Push requested")
    expect(page).to_have_url(re.compile(r"/vitally/\?state=trouble&manager=me$"))
    assert AccountSync.objects.get(pk=made["attention"].pk).push_requested
    _fits(page)
    screenshot("vitally-sync-390-pushed")
