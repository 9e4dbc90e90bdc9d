import datetime

import pytest
from django.core.exceptions import ValidationError

from handoff.accounts.models import Account
from handoff.accounts.services import account_create, account_update
from handoff.accounts.signals import account_changed
from handoff.audit.models import AuditEvent
from handoff.common.context import request_id_var
from handoff.common.services import ANY_VERSION, ConcurrentEditError, MissingVersionError
from handoff.people.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_account_create_records_audit_event_with_every_filled_field(ie, ta, manager):
    token = request_id_var.set("req-123")
    try:
        account = account_create(
            actor=manager,
            name="  Borealis Bank ",
            vitally_account_id="borealis-bank",
            implementation_engineer=ie,
            technical_advisor=ta,
        )
    finally:
        request_id_var.reset(token)

    assert account.name == "Borealis Bank"
    event = AuditEvent.objects.get(account=account)
    assert event.action == AuditEvent.Kind.CREATE
    assert event.actor == manager
    assert event.actor_name == str(manager)
    assert event.request_id == "req-123"
    assert event.object_type == "accounts.account"
    assert event.object_id == str(account.pk)
    assert event.changes[0] == {
        "field": "name",
        "label": "Account name",
        "before": None,
        "after": "Borealis Bank",
    }
    assert event.change_for("implementation_engineer")["after"] == str(ie)
    assert event.change_for("phase")["after"] == "Implementation"
    assert event.change_for("manager") is None  # not filled, so not part of the creation diff


@pytest.mark.parametrize(
    "field, who",
    [
        ("implementation_engineer", "ta"),
        ("technical_advisor", "manager"),
        ("manager", "ie"),
        ("implementation_engineer", "gone"),
    ],
)
def test_each_place_takes_an_active_person_of_its_role(account, ie, ta, manager, field, who):
    """The admin saves through these services too: a person of another role (or one who left)
    is refused there as in the portal's form, and nothing is written."""
    gone = UserFactory(username="gone", role=User.Role.IMPLEMENTATION_ENGINEER, is_active=False)
    people = {"ie": ie, "ta": ta, "manager": manager, "gone": gone}
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        account_update(
            account=account, actor=manager, data={field: people[who]}, expected_version=ANY_VERSION
        )
    assert field in refused.value.message_dict
    with pytest.raises(ValidationError):
        account_create(actor=manager, name="Role Check", **{field: people[who]})
    account.refresh_from_db()
    assert getattr(account, field) != people[who]
    assert AuditEvent.objects.count() == events
    assert not Account.objects.filter(name="Role Check").exists()


def test_a_person_who_changed_role_stays_until_their_place_is_edited(account, ie, manager):
    """Only the places an edit changes are checked: an IE who later became a manager does not
    block an edit of the account's name."""
    User.objects.filter(pk=ie.pk).update(role=User.Role.MANAGER)
    account_update(
        account=account, actor=manager, data={"name": "Renamed"}, expected_version=ANY_VERSION
    )
    account.refresh_from_db()
    assert account.name == "Renamed"
    assert account.implementation_engineer_id == ie.pk


def test_account_update_records_only_changed_fields_and_bumps_versions(account, manager):
    before_change_version = account.change_version
    account_update(
        account=account,
        actor=manager,
        data={
            "name": "Acme Robotics Inc.",
            "crm_url": account.crm_url,
            "planned_completion_date": datetime.date(2027, 3, 1),
        },
        expected_version=account.version,
    )
    account.refresh_from_db()
    event = AuditEvent.objects.get(account=account, action=AuditEvent.Kind.UPDATE)
    assert event.changes == [
        {
            "field": "name",
            "label": "Account name",
            "before": "Acme Robotics",
            "after": "Acme Robotics Inc.",
        },
        {
            "field": "planned_completion_date",
            "label": "Planned completion date",
            "before": None,
            "after": "2027-03-01",
        },
    ]
    assert account.version == 2
    assert account.change_version == before_change_version + 1


@pytest.mark.parametrize(
    "data",
    [
        {"phase": "handed_off"},
        {"phase": "implementation"},
        {"name": "Acme 2", "phase": "handed_off"},
    ],
    ids=["another-phase", "the-same-phase", "with-another-field"],
)
def test_account_update_refuses_the_phase_and_writes_nothing(account, manager, data):
    """The phase moves only through the handoff workflow (handoff/closeout/services.py)."""
    with pytest.raises(ValidationError, match="moves only through the handoff workflow") as error:
        account_update(account=account, actor=manager, data=data, expected_version=ANY_VERSION)
    assert error.value.code == "phase_not_editable"
    account.refresh_from_db()
    assert (account.phase, account.name, account.version) == ("implementation", "Acme Robotics", 1)
    assert not AuditEvent.objects.filter(account=account).exists()


def test_account_update_without_a_version_is_refused_and_writes_nothing(account, manager):
    before = account.change_version
    with pytest.raises(MissingVersionError, match="sent without its version"):
        account_update(
            account=account, actor=manager, data={"name": "Blind"}, expected_version=None
        )
    account.refresh_from_db()
    assert (account.name, account.version, account.change_version) == ("Acme Robotics", 1, before)
    assert not AuditEvent.objects.filter(account=account).exists()


def test_any_version_overwrites_on_purpose(account, ie, manager):
    account_update(account=account, actor=ie, data={"name": "First writer"}, expected_version=1)
    account_update(
        account=account, actor=manager, data={"name": "Seeded"}, expected_version=ANY_VERSION
    )
    account.refresh_from_db()
    assert (account.name, account.version) == ("Seeded", 3)


def test_account_update_without_changes_writes_nothing(account, manager):
    account_update(
        account=account, actor=manager, data={"name": "Acme Robotics"}, expected_version=1
    )
    account.refresh_from_db()
    assert account.version == 1
    assert not AuditEvent.objects.filter(account=account).exists()


def test_stale_version_is_refused_and_nothing_is_overwritten(account, ie, manager):
    account_update(account=account, actor=ie, data={"name": "First writer"}, expected_version=1)
    with pytest.raises(ConcurrentEditError) as error:
        account_update(account=account, actor=manager, data={"name": "Second"}, expected_version=1)
    assert error.value.instance.name == "First writer"
    account.refresh_from_db()
    assert account.name == "First writer"
    assert AuditEvent.objects.filter(account=account).count() == 1


def test_invalid_update_is_rejected_and_rolled_back(account, manager):
    with pytest.raises(ValidationError) as error:
        account_update(
            account=account,
            actor=manager,
            data={"crm_url": "javascript:alert(1)"},
            expected_version=1,
        )
    assert "crm_url" in error.value.message_dict
    account.refresh_from_db()
    assert account.crm_url == ""
    assert account.version == 1


def test_vitally_id_is_unique_only_when_set(manager):
    account_create(actor=manager, name="One", vitally_account_id="")
    account_create(actor=manager, name="Two", vitally_account_id="")
    account_create(actor=manager, name="Three", vitally_account_id="shared")
    with pytest.raises(ValidationError, match="already linked"):
        account_create(actor=manager, name="Four", vitally_account_id="shared")
    assert Account.objects.count() == 3


def test_account_changed_is_sent_only_after_commit(
    account, manager, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, account_id, **kwargs):
        received.append(account_id)

    account_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            account_update(account=account, actor=manager, data={"name": "X"}, expected_version=1)
        assert received == []  # nothing before commit
        for callback in callbacks:
            callback()
        assert received == [account.pk]
    finally:
        account_changed.disconnect(receiver)
