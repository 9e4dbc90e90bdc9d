"""The log lists' filters say what they filter by, and the lists show what they say: the
cross-account pages filter by the item's owner or by the account's people, each under its own
label, and "Me" is the person that label names."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory
from tests.logs.factories import IssueFactory, RiskFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
OVERVIEWS = [("logs:issue_overview", IssueFactory), ("logs:risk_heatmap", RiskFactory)]


def _labels(html: str) -> dict[str, str]:
    """{select name: its label} of the filter bar."""
    return dict(re.findall(r'<label for="filter-(\w+)">([^<]*)</label>', html))


@pytest.fixture
def two_accounts(ie, ta):
    """Tomas advises Acme (Irene implements it); Otto and Tess keep Bolt. Each person owns a
    row of the other's account, so "owner" and "the account's people" differ."""
    otto = UserFactory(username="otto", role=User.Role.IMPLEMENTATION_ENGINEER)
    tess = UserFactory(username="tess", role=User.Role.TECHNICAL_ADVISOR)
    acme = AccountFactory(name="Acme", implementation_engineer=ie, technical_advisor=ta)
    bolt = AccountFactory(name="Bolt", implementation_engineer=otto, technical_advisor=tess)
    return {"acme": acme, "bolt": bolt, "otto": otto, "tess": tess}


@pytest.mark.parametrize("url_name, factory", OVERVIEWS, ids=["issues", "risks"])
def test_cross_account_filters_name_the_owner_and_the_accounts_people(
    client_for, ie, ta, two_accounts, url_name, factory
):
    acme, bolt, tess = two_accounts["acme"], two_accounts["bolt"], two_accounts["tess"]
    factory(account=acme, owner=ta, title="Acme, owned by Tomas")
    factory(account=acme, owner=tess, title="Acme, owned by Tess")
    factory(account=bolt, owner=ta, title="Bolt, owned by Tomas")
    url = reverse(url_name)

    page = client_for(ta).get(url).content.decode()
    labels = _labels(page)
    assert labels["owner"] == "Owner"
    assert labels["ie"] == "Account&#x27;s implementation engineer"
    assert labels["ta"] == "Account&#x27;s technical advisor"

    # Owner: Me is the rows Tomas owns, on any account: what the Owner column shows.
    rows = client_for(ta).get(url, {"owner": "me"}, headers=HX).content.decode()
    assert "Acme, owned by Tomas" in rows and "Bolt, owned by Tomas" in rows
    assert "Acme, owned by Tess" not in rows
    assert "Filtered by owner: <strong>Me</strong>" in rows

    # Account's technical advisor: Me is every row of the accounts Tomas advises.
    rows = client_for(ta).get(url, {"ta": "me"}, headers=HX).content.decode()
    assert "Acme, owned by Tomas" in rows and "Acme, owned by Tess" in rows
    assert "Bolt, owned by Tomas" not in rows
    assert "Filtered by account&#x27;s technical advisor: <strong>Me</strong>" in rows

    # Someone else as the owner, by id, as the select sends it.
    rows = client_for(ta).get(url, {"owner": tess.pk}, headers=HX).content.decode()
    assert "Acme, owned by Tess" in rows and "owned by Tomas" not in rows


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select id="filter-{name}" name="{name}">(.*?)</select>', html, re.S)
    assert select, f"no {name} select"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


@pytest.mark.parametrize("url_name", ["logs:issue_overview", "logs:risk_heatmap"])
def test_me_is_offered_only_where_it_can_match(client_for, ta, manager, url_name):
    url = reverse(url_name)
    page = client_for(manager).get(url).content.decode()
    # A manager owns items, but is no account's engineer or advisor.
    assert _options(page, "owner")[:2] == ["", "me"]
    assert "me" not in _options(page, "ie") and "me" not in _options(page, "ta")
    page = client_for(ta).get(url).content.decode()
    assert _options(page, "ta")[:2] == ["", "me"] and "me" not in _options(page, "ie")


def test_me_that_cannot_match_is_ignored_not_an_empty_list(client_for, ta, manager, account):
    IssueFactory(account=account, owner=ta, title="Advised by Tomas")
    url = reverse("logs:issue_overview")
    # A shared link: for Tomas it is his accounts; for the manager "Me" names no advisor, so the
    # list says so and shows every open issue rather than nothing.
    rows = client_for(ta).get(url, {"ta": "me"}, headers=HX).content.decode()
    assert "Advised by Tomas" in rows
    rows = client_for(manager).get(url, {"ta": "me"}, headers=HX).content.decode()
    assert "Advised by Tomas" in rows
    assert (
        "The account&#x27;s technical advisor “me” in the link is not one this list offers: "
        "that filter is ignored." in rows
    )


EMPTY_LISTS = [
    ("logs:issue_overview", False, "No open issues"),
    ("logs:risk_heatmap", False, "No open risks"),
    ("logs:issue_list", True, "No issues"),
    ("logs:risk_list", True, "No risks"),
    ("logs:opportunity_list", True, "No opportunities"),
    ("logs:journal_list", True, "No notes"),
]


@pytest.mark.parametrize("url_name, per_account, nothing", EMPTY_LISTS)
def test_an_empty_filtered_list_says_why_and_offers_to_clear_each_filter(
    client_for, manager, account, url_name, per_account, nothing
):
    # Rows that others own: "Me" matches none of them for the manager.
    IssueFactory(account=account, title="Theirs")
    RiskFactory(account=account, title="Theirs")
    path = reverse(url_name, args=[account.pk] if per_account else [])
    person = "author" if url_name == "logs:journal_list" else "owner"
    label = "Author" if person == "author" else "Owner"
    for headers in ({}, HX):
        html = client_for(manager).get(path, {person: "me"}, headers=headers).content.decode()
        assert f"{nothing} with {label.lower()}: <strong>Me</strong>." in html
        assert f'<a href="{path}">Clear the {label.lower()} filter</a>' in html
    # Two filters: each link clears its own and keeps the other.
    other, value, shown = {
        "logs:issue_overview": ("severity", "low", "severity: <strong>Low</strong>"),
        "logs:risk_heatmap": ("ta", "me", None),
        "logs:issue_list": ("severity", "low", "severity: <strong>Low</strong>"),
        "logs:risk_list": ("band", "low", "band: <strong>Low (1–4)</strong>"),
        "logs:opportunity_list": ("stage", "won", "stage: <strong>Won</strong>"),
        "logs:journal_list": ("kind", "warning", "kind: <strong>Warning</strong>"),
    }[url_name]
    if shown is None:  # the heatmap has no second filter a manager can apply with "Me"
        return
    html = client_for(manager).get(path, {person: "me", other: value}).content.decode()
    (reason,) = re.findall(rf"<p>{nothing} with (.*?)\.</p>", html)
    assert sorted(reason.split(" and ")) == sorted([f"{label.lower()}: <strong>Me</strong>", shown])
    assert f'<a href="{path}?{other}={value}">Clear the {label.lower()} filter</a>' in html
    assert f'<a href="{path}?{person}=me">Clear the {other} filter</a>' in html


def test_an_empty_list_without_filters_says_nothing_of_filters(client_for, manager, account):
    html = client_for(manager).get(reverse("logs:issue_overview")).content.decode()
    assert "No open issues." in html and "filter</a>" not in html


@pytest.mark.parametrize("url_name, per_account, nothing", EMPTY_LISTS)
def test_a_lists_page_and_its_rows_are_cached_apart(
    client_for, manager, account, url_name, per_account, nothing
):
    # One URL, two answers (the page; the rows for htmx): Back must not show the rows alone.
    path = reverse(url_name, args=[account.pk] if per_account else [])
    for headers in ({}, HX):
        response = client_for(manager).get(path, headers=headers)
        assert "HX-Request" in response["Vary"]


# --- "Due for an update": the count and the list it links to are one set ----------------------
def _age(item, days: int) -> None:
    type(item).objects.filter(pk=item.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=days)
    )


@pytest.fixture
def due_items(account, ta):
    """On a handed-off account: per log, two items due for an update (for a risk, one past its
    review date) among items that are not (fresh, or closed however old)."""
    Account.objects.filter(pk=account.pk).update(phase=Account.Phase.HANDED_OFF)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    _age(IssueFactory(account=account, owner=ta, severity="medium", title="Issue due"), 60)
    _age(IssueFactory(account=account, owner=ta, severity="low", title="Issue due too"), 60)
    IssueFactory(account=account, owner=ta, severity="medium", title="Issue fresh")
    _age(IssueFactory(account=account, owner=ta, status="closed", title="Issue closed"), 60)
    _age(RiskFactory(account=account, owner=ta, title="Risk due"), 90)
    RiskFactory(account=account, owner=ta, next_review_date=yesterday, title="Risk review passed")
    RiskFactory(account=account, owner=ta, title="Risk fresh")
    _age(RiskFactory(account=account, owner=ta, status="closed", title="Risk closed"), 90)
    return account


def _titles(html: str) -> set[str]:
    return set(re.findall(r'<a href="/accounts/\d+/(?:issues|risks)/\d+/">([^<]+)</a>', html))


@pytest.mark.parametrize("log, due", [("issue", "Issue due"), ("risk", "Risk due")])
def test_the_due_filter_lists_what_is_due_for_an_update(client_for, ta, due_items, log, due):
    url = reverse(f"logs:{log}_list", args=[due_items.pk])
    page = client_for(ta).get(url, {"status": "due"}).content.decode()
    expected = {"issue": {"Issue due", "Issue due too"}, "risk": {"Risk due", "Risk review passed"}}
    assert _titles(page) == expected[log]
    assert "Filtered by status: <strong>Due for an update</strong>" in page
    assert '<option value="due" selected>Due for an update</option>' in page


def test_my_work_counts_of_items_due_link_to_those_items(client_for, ta, due_items):
    page = client_for(ta).get(reverse("accounts:my_work")).content.decode()
    links = re.findall(r'<a href="(/accounts/\d+/(?:issues|risks)/\?[^"]*)">(\d+)</a>', page)
    assert len(links) == 2  # issues due, risks due
    for href, count in links:
        listed = _titles(client_for(ta).get(href.replace("&amp;", "&")).content.decode())
        assert len(listed) == int(count) == 2, href


def test_the_account_pages_count_of_items_due_links_to_those_items(client_for, ta, due_items):
    page = client_for(ta).get(reverse("accounts:detail", args=[due_items.pk])).content.decode()
    for log in ("issues", "risks"):
        (href, count) = re.findall(
            rf'<a [^>]*href="(/accounts/\d+/{log}/\?status=due)"[^>]*>(\d+) due for an update</a>',
            page,
        )[0]
        listed = _titles(client_for(ta).get(href).content.decode())
        assert len(listed) == int(count) == 2


# --- One table of open risks --------------------------------------------------------------------
def _head(html: str, caption: str) -> list[str]:
    table = re.search(rf"<caption[^>]*>{caption}</caption>(.*?)</thead>", html, re.S)
    assert table, caption
    return re.findall(r'<th scope="col">([^<]*)</th>', table.group(1))


def test_the_open_risk_tables_are_one_partial(client_for, manager, account):
    risk = RiskFactory(
        account=account, owner=manager, likelihood=5, impact=5, title="Champion leaves"
    )
    pages = {
        "account page": (reverse("accounts:detail", args=[account.pk]), "Open risks, highest"),
        "heatmap": (reverse("logs:risk_heatmap"), "Open risks, highest"),
        "my work": (reverse("accounts:my_work"), "Critical risks across your team"),
    }
    rows = set()
    for name, (url, caption) in pages.items():
        response = client_for(manager).get(url)
        assert "logs/_risk_table.html" in [t.name for t in response.templates], name
        html = response.content.decode()
        columns = ["No.", "Risk", "Score", "Status", "Owner", "Next review"]
        expected = {
            "account page": columns,
            "heatmap": ["Account", *columns],
            "my work": ["Account", *columns, "Response plan"],
        }[name]
        assert _head(html, caption + "[^<]*") == expected, name
        link = f'<th scope="row"><a href="{risk.get_absolute_url()}">'
        (row,) = re.findall(rf"{link}.*?</th>", html, re.S)
        rows.add(row)
    assert len(rows) == 1  # the risk reads the same on the three pages
