"""Issue 14, item 7: every list filters as you choose (htmx rows, URL pushed), every person
filter offers "Me" where the viewer could match (the viewer, whoever opens a shared URL), and
the page says which filters are applied and which value of the URL it ignored."""

import re

import pytest
from django.urls import reverse

from handoff.people.models import User
from logs.forms import IssueFilterForm
from tests.factories import AccountFactory, UserFactory
from tests.logs.factories import IssueFactory, JournalEntryFactory, OpportunityFactory, RiskFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select id="filter-{name}" name="{name}">(.*?)</select>', html, re.S)
    assert match, f"no {name} select"
    return match.group(1)


def _first_person_option(html: str, name: str) -> str:
    # The first option after "Anyone".
    return re.findall(r"<option[^>]*>[^<]*</option>", _select(html, name))[1]


# (list URL name, person parameter, factory of a row by person, the row's text)
ACCOUNT_LISTS = [
    ("logs:issue_list", "owner", lambda a, p, t: IssueFactory(account=a, owner=p, title=t)),
    ("logs:risk_list", "owner", lambda a, p, t: RiskFactory(account=a, owner=p, title=t)),
    (
        "logs:opportunity_list",
        "owner",
        lambda a, p, t: OpportunityFactory(account=a, owner=p, title=t),
    ),
    (
        "logs:journal_list",
        "author",
        lambda a, p, t: JournalEntryFactory(account=a, author=p, title=t),
    ),
]


@pytest.mark.parametrize("url_name, param, make", ACCOUNT_LISTS, ids=[a[0] for a in ACCOUNT_LISTS])
def test_me_on_each_account_list(client_for, account, ie, ta, url_name, param, make):
    make(account, ie, "Irene's row")
    make(account, ta, "Tomas's row")
    url = reverse(url_name, args=[account.pk])

    page = client_for(ie).get(url).content.decode()
    assert _first_person_option(page, param) == '<option value="me">Me</option>'

    # A shared URL means the viewer: Irene sees hers, Tomas his.
    mine = client_for(ie).get(url, {param: "me"}).content.decode()
    assert "Irene&#x27;s row" in mine and "Tomas&#x27;s row" not in mine
    assert '<option value="me" selected>Me</option>' in mine
    assert re.search(r"Filtered by \w+: <strong>Me</strong>", mine)
    theirs = client_for(ta).get(url, {param: "me"}, headers=HX).content.decode()
    assert "Tomas&#x27;s row" in theirs and "Irene&#x27;s row" not in theirs
    assert "<html" not in theirs  # the rows fragment, not the page


def test_me_on_the_dashboard(client_for, ie, ta):
    other_ie = UserFactory(username="otto", role=User.Role.IMPLEMENTATION_ENGINEER)
    AccountFactory(name="Irene Co", implementation_engineer=ie, technical_advisor=ta)
    AccountFactory(name="Otto Co", implementation_engineer=other_ie, technical_advisor=ta)
    url = reverse("accounts:dashboard")
    page = client_for(ie).get(url).content.decode()
    # "Me" only where the viewer can match: an IE is no account's technical advisor.
    assert _first_person_option(page, "ie") == '<option value="me">Me</option>'
    assert '<option value="me">' not in _select(page, "ta")
    response = client_for(ie).get(url, {"ie": "me"}, headers=HX)
    rows = response.content.decode()
    assert "Irene Co" in rows and "Otto Co" not in rows
    assert "<html" not in rows
    # The rows alone and the page share a URL: Back must not be served the rows alone.
    assert "HX-Request" in response["Vary"]
    # A shared "?ta=me" opened by an IE is ignored, with the notice, not an empty list.
    page = client_for(ie).get(url, {"ta": "me"}).content.decode()
    assert "Irene Co" in page and "Otto Co" in page
    assert "is not one this list offers: that filter is ignored." in page
    page = client_for(ta).get(url).content.decode()
    assert _first_person_option(page, "ta") == '<option value="me">Me</option>'
    assert '<option value="me">' not in _select(page, "ie")


@pytest.mark.parametrize("param", ["ie", "ta"])
def test_me_on_the_cross_account_pages(client_for, ie, ta, manager, param):
    other_ie = UserFactory(username="otto", role=User.Role.IMPLEMENTATION_ENGINEER)
    other_ta = UserFactory(username="tess", role=User.Role.TECHNICAL_ADVISOR)
    mine = AccountFactory(name="Mine Co", implementation_engineer=ie, technical_advisor=ta)
    theirs = AccountFactory(
        name="Their Co", implementation_engineer=other_ie, technical_advisor=other_ta
    )
    for account in (mine, theirs):
        IssueFactory(account=account, owner=ie, title=f"Issue of {account.name}")
        RiskFactory(account=account, owner=ie, title=f"Risk of {account.name}")
    viewer = ie if param == "ie" else ta
    for url_name, text in (("logs:issue_overview", "Issue of"), ("logs:risk_heatmap", "Risk of")):
        url = reverse(url_name)
        page = client_for(manager).get(url).content.decode()
        # "Me" only where the manager could match: the owner, not an account's IE or TA.
        assert _first_person_option(page, "owner") == '<option value="me">Me</option>'
        assert '<option value="me">' not in _select(page, param)
        assert 'data-hx-trigger="change"' in page and 'data-hx-push-url="true"' in page
        rows = client_for(manager).get(url, {param: str(viewer.pk)}, headers=HX).content.decode()
        assert f"{text} Mine Co" in rows and f"{text} Their Co" not in rows
        assert "<html" not in rows and "Filtered by" in rows


def test_me_as_the_advisor_on_the_overview(client_for, manager, ta):
    # The advisor's own "Me" for TA: the accounts they advise. (The manager's "Me" there is
    # ignored: tests/logs/test_list_filters.py.)
    IssueFactory(account=AccountFactory(technical_advisor=ta), title="Advised by Tomas")
    IssueFactory(account=AccountFactory(), title="Advised by no one")
    url = reverse("logs:issue_overview")
    page = client_for(ta).get(url).content.decode()
    assert _first_person_option(page, "ta") == '<option value="me">Me</option>'
    rows = client_for(ta).get(url, {"ta": "me"}, headers=HX).content.decode()
    assert "Advised by Tomas" in rows and "Advised by no one" not in rows


def test_an_ignored_value_says_so(client_for, account, ie):
    IssueFactory(account=account, owner=ie, title="Any")
    url = reverse("logs:issue_list", args=[account.pk])
    page = client_for(ie).get(url, {"owner": "²", "severity": "high"}).content.decode()
    assert "The owner “²” in the link is not one this list offers: that filter is ignored." in page
    assert "Filtered by severity: <strong>High</strong>" in page
    assert f'<a href="{url}">Clear filters</a>' in page
    # Unfiltered: no notice at all.
    page = client_for(ie).get(url).content.decode()
    assert "Filtered by" not in page and "is ignored" not in page


def test_me_resolves_to_the_viewer_in_the_form(ie, ta):
    assert IssueFilterForm({"owner": "me"}, viewer=ie).filters()["owner_id"] == ie.pk
    assert IssueFilterForm({"owner": "ME "}, viewer=ta).filters()["owner_id"] == ta.pk
    # Without a viewer "me" is dropped like any value that does not parse.
    form = IssueFilterForm({"owner": "me"})
    assert form.filters()["owner_id"] is None
    assert form.ignored() == [("Owner", "me")]


def test_every_list_uses_the_one_filter_bar(client_for, account, ie, manager):
    urls = [reverse(name, args=[account.pk]) for name, _, _ in ACCOUNT_LISTS]
    urls += [reverse("accounts:dashboard")]
    for url in urls:
        page = client_for(ie).get(url).content.decode()
        assert 'data-hx-push-url="true"' in page, url
        assert '<div class="field filter-actions no-js"><button type="submit"' in page, url
    for name in ("logs:issue_overview", "logs:risk_heatmap"):
        page = client_for(manager).get(reverse(name)).content.decode()
        assert '<div class="field filter-actions no-js"><button type="submit"' in page, name
