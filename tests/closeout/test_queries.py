"""The handoff page, the account page and the Markdown export cost the same number of queries
with 1 or 50 rows in every log and on the deployment record (tests/query_budget.py sums each
part's cost and says why)."""

import pytest
from django.urls import reverse

from deployments.models import CodeHostConnection, Environment, InstanceTypeRow
from tests.closeout.conftest import record_deployment
from tests.logs.factories import IssueFactory, JournalEntryFactory, OpportunityFactory, RiskFactory
from tests.query_budget import account_page_queries, record_queries

pytestmark = pytest.mark.django_db

# session, user, then the account's record (for the snapshot)
MARKDOWN_EXPORT_OWN = 2


def grow(account, people, size: int) -> None:
    """A complete production environment plus `size` other environments, instance rows and
    code hosts, and `size` rows in each log (every severity, status, band and stage)."""
    ie = people[0]
    record_deployment(account, ie)
    production = Environment.objects.get(account=account, kind=Environment.Kind.PRODUCTION)
    kinds = [k for k in Environment.Kind.values if k != Environment.Kind.PRODUCTION]
    others = Environment.objects.bulk_create(
        Environment(account=account, kind=kinds[n % len(kinds)], name=f"Env {n}")
        for n in range(size)
    )
    InstanceTypeRow.objects.bulk_create(
        InstanceTypeRow(environment=environment, position=n, count=1, instance_type="m6a.large")
        for n, environment in enumerate([production, *others])
    )
    CodeHostConnection.objects.bulk_create(
        CodeHostConnection(
            account=account,
            position=n + 1,
            kind=CodeHostConnection.Kind.GITLAB_COM,
            display_name=f"GitLab {n}",
            repository_count=n + 1,
            largest_repository_mb=100 + n,
        )
        for n in range(size)
    )
    for n in range(size):
        owner = people[n % len(people)]
        JournalEntryFactory(account=account, author=owner)
        IssueFactory(
            account=account,
            owner=owner,
            severity=["critical", "high", "medium", "low"][n % 4],
            status=["open", "in_progress", "resolved"][n % 3],
            resolution="done",
        )
        RiskFactory(account=account, owner=owner, likelihood=n % 5 + 1, impact=(n // 5) % 5 + 1)
        OpportunityFactory(account=account, owner=owner, stage=["identified", "won"][n % 2])


@pytest.mark.parametrize("size", [1, 50])
def test_account_page_costs_the_same_with_1_or_50_rows_everywhere_for_the_ta(
    client_for, account, ie, ta, manager, template, size, django_assert_num_queries
):
    grow(account, [ie, ta, manager], size)
    client = client_for(ta)
    with django_assert_num_queries(account_page_queries()):
        response = client.get(reverse("accounts:detail", args=[account.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    # Every row is read: the blockers name each open critical issue and each untransitioned
    # opportunity, the code host section counts every repository.
    critical_open = sum(1 for n in range(size) if n % 4 == 0 and n % 3 != 2)
    assert page.count("Open critical issue I-") == critical_open
    assert page.count("Opportunity not transitioned to the TA") == len(range(0, size, 2))
    readiness = response.context["readiness"]
    assert len(readiness.results) == 9


@pytest.mark.parametrize("size", [1, 50])
def test_account_page_costs_the_same_with_1_or_50_rows_everywhere(
    client_for, account, ie, ta, manager, template, size, django_assert_num_queries
):
    grow(account, [ie, ta, manager], size)
    client = client_for(ie)
    with django_assert_num_queries(account_page_queries()):
        response = client.get(reverse("accounts:detail", args=[account.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 50])
def test_markdown_export_costs_the_same_with_1_or_50_rows_everywhere(
    client_for, account, ie, ta, manager, template, size, django_assert_num_queries
):
    grow(account, [ie, ta, manager], size)
    client = client_for(ta)
    with django_assert_num_queries(MARKDOWN_EXPORT_OWN + record_queries()):
        response = client.get(reverse("closeout:handoff_markdown", args=[account.pk]))
    text = response.content.decode()
    assert text.count("| GitLab.com | GitLab ") == size
    assert text.count("\n| I-") == size
    assert text.count("\n| R-") == size
