"""people_attach: the people a page's rows name, set from one query instead of a join each."""

import pytest

from handoff.accounts.models import Account
from handoff.people.selectors import people_attach
from handoff.record import account_record_get
from logs.models import Issue
from logs.selectors import logs_of
from tests.logs.factories import IssueFactory, RiskFactory

pytestmark = pytest.mark.django_db


def test_people_attach_sets_every_person_from_one_query(
    account, ie, ta, manager, django_assert_num_queries
):
    IssueFactory(account=account, owner=ie, raised_by=ta)
    IssueFactory(account=account, owner=manager, raised_by=ie)
    account.technical_advisor = None
    account.save(update_fields=["technical_advisor"])
    rows = [Account.objects.get(pk=account.pk), *Issue.objects.order_by("pk")]
    with django_assert_num_queries(1):
        people_attach(rows)
    with django_assert_num_queries(0):
        loaded, first, second = rows
        assert (loaded.implementation_engineer, loaded.technical_advisor) == (ie, None)
        assert [(i.owner, i.raised_by) for i in (first, second)] == [(ie, ta), (manager, ie)]


def test_people_attach_leaves_loaded_people_alone_and_skips_the_query_when_none_is_missing(
    account, ie, django_assert_num_queries
):
    IssueFactory(account=account, owner=ie, raised_by=ie)
    issue = Issue.objects.select_related("owner", "raised_by").get()
    with django_assert_num_queries(0):
        people_attach([issue])
    assert issue.owner == ie


def test_the_record_links_risks_and_issues_and_names_people_without_more_queries(
    account, ie, ta, django_assert_num_queries
):
    risk = RiskFactory(account=account, owner=ta, raised_by=ie)
    issue = IssueFactory(account=account, owner=ie, raised_by=ta)
    risk.issue = issue
    risk.save(update_fields=["issue"])
    record = account_record_get(account.pk)
    loaded = record.account
    with django_assert_num_queries(0):
        (loaded_risk,) = logs_of(record).risks
        (loaded_issue,) = logs_of(record).issues
        assert loaded_risk.issue is loaded_issue
        assert loaded_issue.source_risk.pk == risk.pk
        assert (loaded_risk.owner, loaded_risk.raised_by) == (ta, ie)
        assert loaded.implementation_engineer == account.implementation_engineer
        assert loaded.technical_advisor == account.technical_advisor
