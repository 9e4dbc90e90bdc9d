"""The account's record (handoff/record.py) and the one registry (handoff/registry.py)."""

import pytest
from django.urls import reverse

from handoff import registry
from handoff.closeout import services
from handoff.record import account_record_get
from handoff.registry import Contribution
from logs.selectors import logs_of
from tests.closeout.conftest import record_deployment, settle
from tests.logs.factories import IssueFactory, JournalEntryFactory, RiskFactory
from tests.query_budget import record_queries

pytestmark = pytest.mark.django_db


def test_the_contributions_come_in_the_handbooks_order():
    assert [c.key for c in registry.contributions()] == list(registry.ORDER)
    assert [s.key for s in registry.sections()] == [
        "production-deployment",
        "other-environments",
        "code-hosts",
        "sizing-check",
        "implementation-notes",
        "issues-log",
        "risk-log",
        "expansion-opportunities",
        "closeout",
        "vitally",
    ]
    assert [p.key for p in registry.snapshot_parts()][:2] == ["account", "people"]
    assert [p.key for p in registry.snapshot_parts()][-1] == "checklist"


def test_a_contribution_outside_the_order_is_refused():
    with pytest.raises(ValueError, match="ORDER"):
        registry.register(Contribution(key="billing"))
    assert "billing" not in [c.key for c in registry.contributions()]


def test_the_record_holds_the_account_its_people_closeout_and_every_slice(
    account, ie, ta, template, django_assert_num_queries
):
    record_deployment(account, ie)
    services.checklist_start(account=account, actor=ie)
    services.handoff_acknowledge(account=account, actor=ta)
    with django_assert_num_queries(record_queries()):
        record = account_record_get(account.pk)
    with django_assert_num_queries(0):
        assert record.account == account
        assert (record.account.implementation_engineer, record.account.technical_advisor) == (
            ie,
            ta,
        )
        assert record.closeout.ta_acknowledged_by == ta
        assert record.acknowledged
        assert len(record.checklist) == 11
        assert record.sign_offs == [] and record.latest_sign_off is None
        assert set(record.slices) == {"deployments", "logs", "vitally_sync"}
        assert record.readiness is record.readiness  # evaluated once


@pytest.mark.parametrize("rows", [1, 30])
def test_the_record_costs_the_same_queries_whatever_its_size(
    account, ie, ta, template, rows, django_assert_num_queries
):
    record_deployment(account, ie)
    services.checklist_start(account=account, actor=ie)
    settle(account, ie)
    for _ in range(rows):
        JournalEntryFactory(account=account, author=ie)
        IssueFactory(account=account, owner=ta, raised_by=ie)
        RiskFactory(account=account, owner=ie)
    with django_assert_num_queries(record_queries()):
        record = account_record_get(account.pk)
    with django_assert_num_queries(0):  # every person named is attached
        assert {str(i.owner) for i in logs_of(record).issues} == {str(ta)}
        assert all(item.completed_by == ie for item in record.checklist)


def test_the_pages_load_the_newest_notes_and_the_snapshot_every_note(account, ie):
    for _ in range(5):
        JournalEntryFactory(account=account, author=ie)
    for_pages = logs_of(account_record_get(account.pk))
    for_snapshot = logs_of(account_record_get(account.pk, for_snapshot=True))
    assert (len(for_pages.notes), for_pages.notes_total) == (3, 5)
    assert (len(for_snapshot.notes), for_snapshot.notes_total) == (5, 5)
    assert for_pages.notes == for_snapshot.notes[:3]


def test_an_unknown_account_is_does_not_exist_and_its_pages_are_404(client_for, ie):
    from handoff.accounts.models import Account

    with pytest.raises(Account.DoesNotExist):
        account_record_get(987654)
    client = client_for(ie)
    assert client.get(reverse("accounts:detail", args=[987654])).status_code == 404
    assert client.get(reverse("accounts:detail", args=[987654])).status_code == 404
    assert client.get(reverse("closeout:handoff_markdown", args=[987654])).status_code == 404


def test_each_contribution_gives_a_value_for_every_trait_it_declares_and_no_other(account):
    """A value without a declared trait would never reach Vitally; a trait without a value
    would be left out of every push."""
    record = account_record_get(account.pk)
    for contribution in registry.contributions():
        declared = {t.name for t in contribution.vitally_traits}
        given = set(contribution.vitally_values(record)) if contribution.vitally_values else set()
        assert given == declared, contribution.key
    assert len(registry.traits()) == 17


def test_a_snapshot_of_the_pages_record_is_refused(account):
    """The pages' record holds only the newest notes: a snapshot of it would miss the rest."""
    import datetime

    from handoff.closeout.snapshot import snapshot_collect

    now = datetime.datetime.now(datetime.UTC)
    with pytest.raises(ValueError, match="for_snapshot=True"):
        snapshot_collect(account_record_get(account.pk), taken_at=now)
    assert snapshot_collect(account_record_get(account.pk, for_snapshot=True), taken_at=now)
