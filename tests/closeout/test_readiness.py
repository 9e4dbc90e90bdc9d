"""Each readiness rule, blocker on and off; the percent; the registry other apps fill."""

import pytest
from django.db.models import Prefetch
from django.urls import reverse

from handoff.accounts.services import account_update
from handoff.audit.models import AuditEvent
from handoff.closeout import services
from handoff.closeout.readiness import (
    Blocker,
    readiness_evaluate,
    readiness_rules,
    register_readiness_rule,
    unregister_readiness_rule,
)
from handoff.closeout.selectors import account_handoff_get, handoff_prefetch_lookups
from handoff.common.services import ANY_VERSION
from handoff.people.models import User
from tests.closeout.conftest import record_deployment, settle
from tests.factories import UserFactory
from tests.query_budget import handoff_load_queries

pytestmark = pytest.mark.django_db


def readiness(account):
    return readiness_evaluate(account_handoff_get(account_id=account.pk))


def blockers_of(account, rule_key):
    result = next(r for r in readiness(account).results if r.rule.key == rule_key)
    return [(b.title, b.url) for b in result.blockers]


def test_every_rule_in_order():
    """The core's rules, then deployments' (100-299) and logs' (300-599), the checklist last."""
    assert [r.key for r in readiness_rules()] == [
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
    handoff_url = reverse("closeout:handoff", args=[account.pk])
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
    handoff_url = reverse("closeout:handoff", args=[account.pk])
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


def test_percent_counts_rules_met_and_rounds_down(account, ie, ta, template):
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

    register_readiness_rule("always_blocked", "Never met", lambda a: [Blocker("x", "y", "/z")])
    try:
        result = readiness(account)
        assert (result.met, result.total, result.percent) == (9, 10, 90)
        assert [b.title for b in result.blockers] == ["x"]
    finally:
        unregister_readiness_rule("always_blocked")


def test_a_registered_rule_shares_the_prefetch_and_costs_no_query(
    account, ie, template, django_assert_num_queries
):
    """How deployments and logs plug in: their rule reads a prefetched relation."""
    seen = []

    def audit_rule(account):
        events = list(account.audit_events.all())  # prefetched: no query here
        seen.append(len(events))
        return [] if events else [Blocker("No history", "", "/")]

    register_readiness_rule(
        "has_history",
        "Has history",
        audit_rule,
        order=50,
        prefetch=(Prefetch("audit_events", queryset=AuditEvent.objects.order_by("pk")),),
    )
    try:
        services.checklist_start(account=account, actor=ie)
        loaded = account_handoff_get(account_id=account.pk)
        with django_assert_num_queries(0):
            result = readiness_evaluate(loaded)
        assert seen == [1]
        assert [r.rule.key for r in result.results][3] == "has_history"
    finally:
        unregister_readiness_rule("has_history")


def test_prefetch_lookups_named_twice_are_applied_once():
    register_readiness_rule("a", "A", lambda a: [], prefetch=("audit_events",))
    register_readiness_rule("b", "B", lambda a: [], prefetch=("audit_events",))
    try:
        lookups = handoff_prefetch_lookups()
        assert lookups.count("audit_events") == 1
    finally:
        unregister_readiness_rule("a")
        unregister_readiness_rule("b")


@pytest.mark.parametrize("items_settled", [0, 11])
def test_loading_for_readiness_is_constant_in_queries(
    account, ie, template, items_settled, django_assert_num_queries
):
    services.checklist_start(account=account, actor=ie)
    if items_settled:
        settle(account, ie)
    # account + people + closeout (joined), checklist items, sign-offs, and the deployment
    # record's and the logs' prefetches
    with django_assert_num_queries(handoff_load_queries(with_environments=False)):
        readiness_evaluate(account_handoff_get(account_id=account.pk))
