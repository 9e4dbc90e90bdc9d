"""seed_demo puts demo accounts in every phase of the handoff, through the services."""

import pytest
from django.core.management import call_command

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.closeout.models import ChecklistItem, HandoffReview, SignOff
from handoff.closeout.readiness import readiness_evaluate
from handoff.closeout.review import changes_since_review
from handoff.closeout.selectors import account_handoff_get
from handoff.closeout.snapshot import snapshot_digest
from handoff.people.models import User

pytestmark = pytest.mark.django_db


def readiness(name):
    return readiness_evaluate(account_handoff_get(account_id=Account.objects.get(name=name).pk))


def test_demo_accounts_cover_every_phase_and_story(template):
    call_command("seed_demo")
    phases = dict(Account.objects.values_list("name", "phase"))
    assert phases["Cobalt Health"] == Account.Phase.READY_FOR_HANDOFF
    assert readiness("Cobalt Health").ready  # ready to sign off

    assert phases["Granite Insurance"] == Account.Phase.READY_FOR_HANDOFF
    assert len(readiness("Granite Insurance").blockers) == 4  # 3 open items, TA not acknowledged

    dunmore = SignOff.objects.get(account__name="Dunmore Logistics")
    assert phases["Dunmore Logistics"] == Account.Phase.HANDED_OFF
    assert (dunmore.blockers, dunmore.override_reason) == ([], "")
    assert snapshot_digest(dunmore.snapshot) == dunmore.snapshot_sha256
    assert dunmore.snapshot["sections"]["account"]["data"]["name"] == "Dunmore Logistics"

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
