"""seed_demo puts demo accounts in every phase of the handoff, through the services."""

import pytest
from django.core.management import call_command

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.closeout.attention import attention_items
from handoff.closeout.models import ChecklistItem, HandoffReview, SignOff
from handoff.closeout.review import changes_since_review
from handoff.closeout.snapshot import snapshot_digest
from handoff.people.models import User
from handoff.record import account_record_get

pytestmark = pytest.mark.django_db


def readiness(name):
    return account_record_get(Account.objects.get(name=name).pk).readiness


def test_demo_accounts_cover_every_phase_and_story(template):
    call_command("seed_demo")
    phases = dict(Account.objects.values_list("name", "phase"))
    assert phases["Cobalt Health"] == Account.Phase.READY_FOR_HANDOFF
    cobalt = readiness("Cobalt Health")
    # Ready to sign off on every rule: the record complete, no critical issue, every high risk
    # planned for, the opportunities with the TA, the checklist done.
    assert (cobalt.ready, cobalt.percent, cobalt.total) == (True, 100, 9)
    cobalt_account = account_record_get(Account.objects.get(name="Cobalt Health").pk)
    # Nothing critical or stale: the one high risk is there with its response plan.
    assert [(i.level, i.title) for i in attention_items(cobalt_account)] == [
        ("warning", "High risk R-1: PHI committed to a repository gets indexed")
    ]

    assert phases["Granite Insurance"] == Account.Phase.READY_FOR_HANDOFF
    assert [b.title for b in readiness("Granite Insurance").blockers] == [
        "Tomas Alvarez has not acknowledged the account",
        "Open critical issue I-1: Repository permissions missing for nested Azure DevOps groups",
        "High risk R-1 without a response plan: Kustomize deprecation forces a migration soon "
        "after handoff",
        "Checklist item open: Performance tests done",
        "Checklist item open: Production right-sized or a plan in place",
        "Checklist item open: Production on a current version",
    ]
    granite = readiness("Granite Insurance")
    assert [r.rule.key for r in granite.results if not r.met] == [
        "technical_advisor_acknowledged",
        "no_open_critical_issue",
        "risks_have_response_plans",
        "checklist_complete",
    ]

    for name in ("Dunmore Logistics", "Juniper Retail"):  # signed off with nothing to override
        signed = SignOff.objects.get(account__name=name)
        assert phases[name] == Account.Phase.HANDED_OFF
        assert (signed.blockers, signed.override_reason, signed.readiness_percent) == ([], "", 100)
        assert snapshot_digest(signed.snapshot) == signed.snapshot_sha256
        sections = signed.snapshot["sections"]
        assert sections["account"]["data"]["name"] == name
        assert sections["production_deployment"]["data"]["sourcegraph_instance_url"]
        assert sections["code_hosts"]["data"]["connections"]

    helix = SignOff.objects.get(account__name="Helix Pharmaceuticals")
    assert helix.override_reason.startswith("Production on a current version")
    assert [b["title"] for b in helix.blockers] == [
        "Checklist item open: Production on a current version"
    ]
    # Every handed-off account has a sign-off behind it.
    handed_off = Account.objects.filter(phase=Account.Phase.HANDED_OFF)
    assert set(handed_off.values_list("name", flat=True)) == {
        "Dunmore Logistics",
        "Helix Pharmaceuticals",
        "Juniper Retail",
    }
    assert SignOff.objects.count() == 3
    assert not SignOff.objects.filter(override_reason__startswith="Demo data").exists()

    ion = Account.objects.get(name="Ion Semiconductors")
    review = HandoffReview.objects.get(account=ion, reviewer=User.objects.get(username="ta"))
    groups = changes_since_review(account_id=ion.pk, review=review).groups
    assert [g.type_label for g in groups] == ["Checklist item", "Checklist item", "Account"]

    not_started = {
        name for name in phases if not ChecklistItem.objects.filter(account__name=name).exists()
    }
    assert not_started == {"Fjord Games", "Lumen Telecom"}


def test_seed_demo_twice_changes_nothing(template):
    call_command("seed_demo")
    counts = (AuditEvent.objects.count(), SignOff.objects.count(), ChecklistItem.objects.count())
    call_command("seed_demo")
    assert (
        AuditEvent.objects.count(),
        SignOff.objects.count(),
        ChecklistItem.objects.count(),
    ) == counts


def test_a_demo_user_may_set_the_demo_password_again():
    """Someone who tried "Change password" can go back to the demo password: it passes the
    portal's password rules for every demo user (it was "too similar to the email address")."""
    from django.contrib.auth.password_validation import validate_password

    from handoff.accounts.demo import DEMO_PASSWORD

    call_command("seed_demo")
    for user in User.objects.all():
        validate_password(DEMO_PASSWORD, user)  # raises ValidationError if refused
