"""Issue 12: list filters came from request.GET through str.isdigit() and int(), so "²" (a digit
to isdigit, not to int) and 30 nines were a 500. Every filter of every list page and CSV export
is now parsed by a form: a value that does not parse, is out of range or is not a choice is
ignored, and the page shows what it shows unfiltered."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from handoff.accounts.forms import AccountFilterForm
from logs.forms import RiskHeatmapFilterForm
from tests.security.test_bad_input import ACME, prod_post, u
from tests.security.world import World

pytestmark = pytest.mark.django_db

BAD_VALUES = {
    "superscript-two": "²",
    "thirty-nines": "9" * 30,
    "five-thousand-digits": "9" * 5000,
    "minus-one": "-1",
    "decimal": "1.5",
    "word": "abc",
    "nul": "\x00",
    "empty": "",
    "arabic-indic-huge": "٩" * 30,
}


@dataclass(frozen=True)
class Page:
    id: str
    as_: str
    url: Callable[[World], str]
    params: tuple[str, ...]
    htmx: bool = False


PAGES = [
    Page("dashboard", "ie", lambda w: reverse("accounts:dashboard"),
         ("q", "phase", "ie", "ta", "page", "mine")),
    Page("dashboard-rows", "ie", lambda w: reverse("accounts:dashboard"), ("ie", "ta"), htmx=True),
    Page("history", "ie", u("accounts:history", ACME), ("page",)),
    Page("journal", "ie", u("logs:journal_list", ACME), ("category", "kind", "author")),
    Page("journal-csv", "ie", u("logs:journal_export", ACME), ("category", "kind", "author")),
    Page("issues", "ie", u("logs:issue_list", ACME), ("status", "severity", "owner")),
    Page("issue-rows", "ie", u("logs:issue_list", ACME), ("owner",), htmx=True),
    Page("issues-csv", "ie", u("logs:issue_export", ACME), ("status", "severity", "owner")),
    Page("risks", "ie", u("logs:risk_list", ACME), ("status", "band", "owner")),
    Page("risks-csv", "ie", u("logs:risk_export", ACME), ("status", "band", "owner")),
    Page("opportunities", "ie", u("logs:opportunity_list", ACME), ("stage", "type", "owner")),
    Page("opportunities-csv", "ie", u("logs:opportunity_export", ACME),
         ("stage", "type", "owner")),
    Page("issue-overview", "manager", lambda w: reverse("logs:issue_overview"),
         ("ie", "ta", "severity")),
    Page("risk-heatmap", "manager", lambda w: reverse("logs:risk_heatmap"),
         ("ie", "ta", "likelihood", "impact")),
    Page("vitally-sync", "manager", lambda w: reverse("vitally_sync:health"),
         ("state", "manager")),
    Page("vitally-sync-rows", "manager", lambda w: reverse("vitally_sync:health"),
         ("state", "manager"), htmx=True),
]  # fmt: skip


def _body(response) -> str:
    if response.get("Content-Type", "").startswith("text/csv"):
        return response.content.decode()
    return ""


def _get(client: Client, list_page: Page, world: World, params: dict):
    headers = {"HX-Request": "true"} if list_page.htmx else {}
    return client.get(list_page.url(world), params, headers=headers)


@pytest.mark.parametrize("list_page", PAGES, ids=[p.id for p in PAGES])
def test_a_malformed_filter_is_ignored_never_a_500(world, list_page):
    # One world per page, every parameter × every bad value against it (a world per request
    # would take minutes).
    client = Client()
    client.force_login(world.user(list_page.as_))
    unfiltered = _get(client, list_page, world, {})
    assert unfiltered.status_code == 200
    failures = []
    for param in list_page.params:
        for name, value in BAD_VALUES.items():
            response = _get(client, list_page, world, {param: value})
            if response.status_code != 200:
                failures.append(f"{param}={name}: {response.status_code}")
            elif _body(response) != _body(unfiltered):
                # An export has no echo of the query string: it must be the unfiltered export.
                failures.append(f"{param}={name}: the export was filtered")
    assert not failures, failures


def test_every_list_filter_is_in_the_table():
    # Each list page and export reads these parameters; a new one needs its row above.
    params = {p for page in PAGES for p in page.params}
    assert params >= {"q", "phase", "ie", "ta", "owner", "author", "status", "severity", "band"}
    assert params >= {"stage", "type", "category", "kind", "likelihood", "impact", "page"}
    assert params >= {"state", "manager"}


def test_the_filter_forms_drop_what_does_not_parse_and_keep_what_does(world):
    people = {"engineers": [world.ie], "advisors": [world.ta]}
    data = {"q": " Acme ", "phase": "nope", "ie": "²", "ta": str(world.ta.pk)}
    assert AccountFilterForm(data, **people).filters() == {
        "search": "Acme",
        "phase": "",
        "implementation_engineer_id": None,
        "technical_advisor_id": world.ta.pk,
        "mine": "",
    }
    assert AccountFilterForm({"mine": "on"}, **people).filters()["mine"] == "on"
    assert AccountFilterForm({"q": "x" * 500}, **people).filters()["search"] == "x" * 100
    # Someone the select does not offer (a TA as the IE) is dropped, as the select shows it:
    # "Anyone", over the whole list, never "Anyone" over an empty one.
    assert (
        AccountFilterForm({"ie": str(world.ta.pk)}, **people).filters()[
            "implementation_engineer_id"
        ]
        is None
    )
    cell = RiskHeatmapFilterForm({"likelihood": "3", "impact": "9"}).filters()
    assert (cell["likelihood"], cell["impact"]) == (None, None)  # a cell needs both
    cell = RiskHeatmapFilterForm({"likelihood": "3", "impact": "4"}).filters()
    assert (cell["likelihood"], cell["impact"]) == (3, 4)


def test_a_valid_owner_filter_still_filters(world, client_for):
    client = client_for(world.ie)
    url = reverse("logs:issue_list", args=[world.acme.pk])
    assert "Slow search" in client.get(url, {"owner": world.ie.pk}).content.decode()
    assert "Slow search" not in client.get(url, {"owner": world.ta.pk}).content.decode()
    export = reverse("logs:issue_export", args=[world.acme.pk])
    assert "Slow search" not in client.get(export, {"owner": world.ta.pk}).content.decode()


@pytest.mark.parametrize("index", ["²", "9" * 5000, "-1", ""])
def test_a_row_button_with_a_malformed_index_changes_nothing(world, client_for, index):
    # The deployment form's add/remove buttons post "_action=remove:documents:<index>", parsed
    # with the same isdigit() → int() mistake. Unparsed, the button is not a row button.
    response = client_for(world.ie).post(
        reverse("deployments:production_edit", args=[world.acme.pk]),
        prod_post(world, _action=f"remove:documents:{index}"),
    )
    assert response.status_code in (200, 302)
