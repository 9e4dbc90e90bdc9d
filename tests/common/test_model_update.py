"""model_update (handoff/common/services.py), the helper every edit service shares: only what
changes is validated, diffed for History and saved, and the version moves only then."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from handoff.accounts.models import Account
from handoff.common.services import model_update
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db
FIELDS = ["name", "crm_url", "planned_completion_date", "technical_advisor"]


def test_only_the_changed_fields_are_saved_diffed_and_versioned(account, django_assert_num_queries):
    version = account.version
    # SAVEPOINT, one UPDATE, RELEASE (checked_save): no unchanged field's checks are queried.
    with django_assert_num_queries(3):
        changes = model_update(
            instance=account,
            fields=FIELDS,
            data={
                "name": account.name,  # unchanged
                "planned_completion_date": datetime.date(2027, 3, 1),
            },
        )
    assert [c["field"] for c in changes] == ["planned_completion_date"]
    assert changes[0]["before"] in (None, "", "—")
    assert "2027" in changes[0]["after"]
    account.refresh_from_db()
    assert account.planned_completion_date == datetime.date(2027, 3, 1)
    assert account.version == version + 1


def test_nothing_changed_is_no_write_and_no_new_version(account, django_assert_num_queries):
    version = account.version
    with django_assert_num_queries(0):
        assert model_update(instance=account, fields=FIELDS, data={"name": account.name}) == []
    account.refresh_from_db()
    assert account.version == version


def test_fields_not_offered_are_ignored(account):
    model_update(instance=account, fields=["crm_url"], data={"name": "Renamed"})
    account.refresh_from_db()
    assert account.name == "Acme Robotics"


def test_an_invalid_value_is_a_field_error_and_nothing_is_saved(account):
    with pytest.raises(ValidationError) as error:
        model_update(instance=account, fields=FIELDS, data={"crm_url": "ftp://crm.example"})
    assert "crm_url" in error.value.message_dict
    assert Account.objects.get(pk=account.pk).crm_url != "ftp://crm.example"


def test_a_unique_value_taken_by_another_row_is_a_field_error(account):
    AccountFactory(name="Borealis Bank")
    with pytest.raises(ValidationError) as error:
        model_update(instance=account, fields=FIELDS, data={"name": "Borealis Bank"})
    assert "name" in error.value.message_dict
    assert Account.objects.get(pk=account.pk).name == "Acme Robotics"


def test_a_foreign_key_change_reads_as_the_people_named_and_keeps_its_choices(account, ie):
    other = UserFactory(first_name="Priya", last_name="Raman", role=User.Role.TECHNICAL_ADVISOR)
    (change,) = model_update(instance=account, fields=FIELDS, data={"technical_advisor": other})
    assert (change["field"], change["after"]) == ("technical_advisor", "Priya Raman")
    # An IE is not a choice for the technical advisor (the field's limit_choices_to).
    with pytest.raises(ValidationError) as error:
        model_update(instance=account, fields=FIELDS, data={"technical_advisor": ie})
    assert "technical_advisor" in error.value.message_dict
