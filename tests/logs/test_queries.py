"""A page's query count does not grow with its rows: the same exact count with 1 and 200."""

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from tests.logs.factories import IssueFactory, JournalEntryFactory, OpportunityFactory, RiskFactory
from tests.query_budget import account_page_queries

pytestmark = pytest.mark.django_db


def _fill(account, people, size: int) -> None:
    """`size` rows in every log, spread over owners, statuses and scores."""
    for n in range(size):
        owner = people[n % len(people)]
        JournalEntryFactory(account=account, author=owner)
        IssueFactory(
            account=account,
            owner=owner,
            severity=["critical", "high", "medium", "low"][n % 4],
            status=["open", "in_progress", "blocked", "resolved"][n % 4],
            resolution="done",
        )
        risk = RiskFactory(
            account=account, owner=owner, likelihood=n % 5 + 1, impact=(n // 5) % 5 + 1
        )
        if n % 7 == 0:  # some risks happened: their issue is joined in, not fetched per row
            issue = IssueFactory(account=account, owner=owner)
            type(risk).objects.filter(pk=risk.pk).update(issue=issue, status="occurred")
        OpportunityFactory(account=account, owner=owner, stage=["identified", "won"][n % 2])


# session, user, account, rows, active people for the owner filter
LIST_QUERIES = 5
# ... plus the journal's corrections (one query for all notes)
JOURNAL_QUERIES = 6
# session, user, open issues, the active people (the owner, engineer and advisor selects share
# them: one query for the three)
ISSUE_OVERVIEW_QUERIES = 4
# session, user, heatmap counts, the risks listed, the active people
HEATMAP_QUERIES = 5


@pytest.mark.parametrize("size", [1, 200])
@pytest.mark.parametrize(
    "name, queries",
    [
        ("journal_list", JOURNAL_QUERIES),
        ("issue_list", LIST_QUERIES),
        ("risk_list", LIST_QUERIES),
        ("opportunity_list", LIST_QUERIES),
        ("account", account_page_queries(with_environments=False)),
    ],
)
def test_account_pages_cost_the_same_at_any_size(
    client_for, account, ie, ta, manager, size, name, queries, django_assert_num_queries
):
    _fill(account, [ie, ta, manager], size)
    client = client_for(ie)
    target = (
        reverse("accounts:detail", args=[account.pk])
        if name == "account"
        else reverse(f"logs:{name}", args=[account.pk])
    )
    with django_assert_num_queries(queries):
        response = client.get(target)
    assert response.status_code == 200
    if name != "account":
        occurred = len(range(0, size, 7))  # each raised one more issue
        expected = size + occurred if name == "issue_list" else size
        assert len(response.context["items"]) == expected  # every row is on the page


@pytest.mark.parametrize("size", [1, 200])
def test_htmx_rows_cost_the_same_at_any_size(
    client_for, account, ie, ta, manager, size, django_assert_num_queries
):
    _fill(account, [ie, ta, manager], size)
    client = client_for(ie)
    with django_assert_num_queries(4):  # session, user, account, rows
        response = client.get(reverse("logs:risk_list", args=[account.pk]), HTTP_HX_REQUEST="true")
    assert response.content.decode().count("<tr id=") == size


@pytest.mark.parametrize("size", [1, 200])
def test_cross_account_views_cost_the_same_at_any_size(
    client_for, ie, ta, manager, size, django_assert_num_queries
):
    accounts = [AccountFactory(implementation_engineer=ie, technical_advisor=ta) for _ in range(3)]
    for n in range(size):
        account = accounts[n % 3]
        IssueFactory(account=account, owner=ie, severity=["critical", "low"][n % 2])
        RiskFactory(account=account, owner=ta, likelihood=n % 5 + 1, impact=n % 3 + 1)
    client = client_for(manager)
    with django_assert_num_queries(ISSUE_OVERVIEW_QUERIES):
        response = client.get(reverse("logs:issue_overview"))
    assert response.context["total"] == size
    with django_assert_num_queries(HEATMAP_QUERIES):
        response = client.get(reverse("logs:risk_heatmap"), {"ta": ta.pk})
    assert response.context["total"] == size
    assert len(response.context["risks"]) == min(size, 50)  # the highest-scoring are listed
    with django_assert_num_queries(HEATMAP_QUERIES):
        client.get(reverse("logs:risk_heatmap"), {"likelihood": 1, "impact": 1})
