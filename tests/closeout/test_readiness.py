"""Each readiness rule, blocker on and off; the percent; the registry other apps fill."""

import dataclasses

import pytest
from django.urls import reverse

from handoff import registry
from handoff.accounts.services import account_update
from handoff.audit.models import AuditEvent
from handoff.closeout import services
from handoff.common.services import ANY_VERSION
from handoff.people.models import User
from handoff.record import account_record_get
from handoff.registry import Blocker, Rule
from tests.closeout.conftest import record_deployment, settle
from tests.factories import UserFactory
from tests.query_budget import record_queries

pytestmark = pytest.mark.django_db


def readiness(account):
    return account_record_get(account.pk).readiness


def contribute(monkeypatch, key: str, **changes) -> None:
    """For this test only: the contribution `key` with `changes` (a rule added, a slice...)."""
    changed = dataclasses.replace(registry._contributions[key], **changes)
    monkeypatch.setitem(registry._contributions, key, changed)


def blockers_of(account, rule_key):
    result = next(r for r in readiness(account).results if r.rule.key == rule_key)
    return [(b.title, b.url) for b in result.blockers]


def test_every_rule_in_order():
    """The core's rules, then deployments' and logs', the checklist last (registry.ORDER)."""
    assert [r.key for r in registry.rules()] == [
        "technical_advisor_assigned",
        "technical_advisor_acknowledged",
        "manager_assigned",
        "production_fields",
        "code_host_details",
        "no_open_critical_issue",
        "risks_have_response_plans",
        "expansion_transitioned",
        "checklist_complete",
    ]


def test_technical_advisor_assigned_on_and_off(account, manager):
    assert blockers_of(account, "technical_advisor_assigned") == []
    account_update(
        account=account,
        actor=manager,
        data={"technical_advisor": None},
        expected_version=ANY_VERSION,
    )
    assert blockers_of(account, "technical_advisor_assigned") == [
        (
            "No technical advisor assigned",
            reverse("accounts:edit", args=[account.pk]) + "#id_technical_advisor",
        )
    ]


def test_technical_advisor_acknowledged_on_and_off_and_by_the_current_ta(account, ta, manager):
    handoff_url = reverse("accounts:detail", args=[account.pk])
    assert blockers_of(account, "technical_advisor_acknowledged") == [
        (f"{ta} has not acknowledged the account", handoff_url + "#handoff-status")
    ]
    services.handoff_acknowledge(account=account, actor=ta)
    assert blockers_of(account, "technical_advisor_acknowledged") == []

    # Another TA takes over: the previous TA's acknowledgement no longer counts.
    other = UserFactory(
        username="priya", first_name="Priya", last_name="Raman", role=User.Role.TECHNICAL_ADVISOR
    )
    account_update(
        account=account,
        actor=manager,
        data={"technical_advisor": other},
        expected_version=ANY_VERSION,
    )
    assert blockers_of(account, "technical_advisor_acknowledged") == [
        ("Priya Raman has not acknowledged the account", handoff_url + "#handoff-status")
    ]
    account_update(
        account=account,
        actor=manager,
        data={"technical_advisor": None},
        expected_version=ANY_VERSION,
    )
    assert [t for t, _ in blockers_of(account, "technical_advisor_acknowledged")] == [
        "No technical advisor to acknowledge the account"
    ]


def test_manager_assigned_on_and_off(account, manager):
    assert blockers_of(account, "manager_assigned") == []
    account_update(
        account=account, actor=manager, data={"manager": None}, expected_version=ANY_VERSION
    )
    assert blockers_of(account, "manager_assigned") == [
        ("No manager assigned", reverse("accounts:edit", args=[account.pk]) + "#id_manager")
    ]


def test_checklist_rule_not_started_then_each_open_item_then_met(account, ie, template):
    handoff_url = reverse("accounts:detail", args=[account.pk])
    assert blockers_of(account, "checklist_complete") == [
        ("Closeout checklist not started", handoff_url + "#closeout")
    ]
    services.checklist_start(account=account, actor=ie)
    assert len(blockers_of(account, "checklist_complete")) == len(template) == 11

    settle(account, ie, leave_open=("Indexing",))
    assert blockers_of(account, "checklist_complete") == [
        ("Checklist item open: Indexing", handoff_url + "#checklist-item-5")
    ]
    indexing = account.checklist_items.get(title="Indexing")
    services.checklist_item_update(
        item=indexing,
        actor=ie,
        data={
            "status": "not_applicable",
            "not_applicable_reason": "Search-only pilot: no indexing.",
        },
        expected_version=ANY_VERSION,
    )
    assert blockers_of(account, "checklist_complete") == []


def test_percent_counts_rules_met_and_rounds_down(account, ie, ta, template, monkeypatch):
    # TA and manager assigned; empty logs have nothing critical, unplanned or untransitioned.
    assert (readiness(account).met, readiness(account).total) == (5, 9)
    assert readiness(account).percent == 55
    services.handoff_acknowledge(account=account, actor=ta)
    assert readiness(account).percent == 66
    services.checklist_start(account=account, actor=ie)
    settle(account, ie)
    assert readiness(account).percent == 77
    record_deployment(account, ie)
    result = readiness(account)
    assert (result.percent, result.ready, result.blockers) == (100, True, [])

    closeout = registry._contributions["closeout"]
    blocked = Rule("always_blocked", "Never met", lambda record: [Blocker("x", "y", "/z")])
    contribute(monkeypatch, "closeout", rules=(*closeout.rules, blocked))
    result = readiness(account)
    assert (result.met, result.total, result.percent) == (9, 10, 90)
    assert [b.title for b in result.blockers] == ["x"]


def test_a_contributed_slice_is_loaded_with_the_record_and_its_rule_costs_no_query(
    account, ie, template, monkeypatch, django_assert_num_queries
):
    """How deployments and logs plug in: their slice loads with the record, their rules read
    it."""
    seen = []

    def load(account, *, for_snapshot):
        return list(AuditEvent.objects.filter(account=account).order_by("pk"))

    def audit_rule(record):
        events = record.slices["account"]  # loaded with the record: no query here
        seen.append(len(events))
        return [] if events else [Blocker("No history", "", "/")]

    core = registry._contributions["account"]
    has_history = Rule("has_history", "Has history", audit_rule)
    contribute(monkeypatch, "account", load=load, rules=(*core.rules, has_history))
    services.checklist_start(account=account, actor=ie)
    record = account_record_get(account.pk)
    with django_assert_num_queries(0):
        result = record.readiness
    assert seen == [1]
    assert [r.rule.key for r in result.results][3] == "has_history"


@pytest.mark.parametrize("items_settled", [0, 11])
def test_loading_for_readiness_is_constant_in_queries(
    account, ie, template, items_settled, django_assert_num_queries
):
    services.checklist_start(account=account, actor=ie)
    if items_settled:
        settle(account, ie)
    # account + people + closeout (joined), checklist items, sign-offs, and the deployment
    # record's and the logs' prefetches
    with django_assert_num_queries(record_queries(with_environments=False)):
        assert account_record_get(account.pk).readiness.total == 9
