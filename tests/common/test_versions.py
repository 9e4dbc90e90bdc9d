"""Optimistic concurrency's shared pieces: check_version and the versioned form."""

import pytest

from handoff.accounts.forms import AccountForm
from handoff.common.services import (
    ANY_VERSION,
    ConcurrentEditError,
    MissingVersionError,
    check_version,
)
from handoff.people.models import User
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_check_version_refuses_none_passes_any_version_and_compares_the_rest():
    account = AccountFactory.build(version=3)
    with pytest.raises(MissingVersionError) as missing:
        check_version(account, None)
    assert missing.value.code == "missing_version"
    assert missing.value.messages == [
        "This form was sent without its version, so nothing was saved. Reload the page and make "
        "your change again."
    ]
    check_version(account, ANY_VERSION)
    check_version(account, 3)
    with pytest.raises(ConcurrentEditError):
        check_version(account, 2)
    assert repr(ANY_VERSION) == "ANY_VERSION"


def test_an_edit_form_requires_its_version_and_a_create_form_does_not():
    user = User(role=User.Role.MANAGER)
    account = AccountFactory()
    edit = AccountForm({"name": "Renamed"}, instance=account, user=user)
    assert not edit.is_valid()
    assert [e.code for e in edit.non_field_errors().as_data()] == ["missing_version"]
    assert "version" not in edit.errors  # hidden: the message is the form's own
    mangled = AccountForm({"name": "Renamed", "version": "x"}, instance=account, user=user)
    assert not mangled.is_valid()
    assert [e.code for e in mangled.non_field_errors().as_data()] == ["invalid_version"]
    assert AccountForm({"name": "Renamed", "version": "1"}, instance=account, user=user).is_valid()
    assert AccountForm({"name": "New Co", "submission": "fresh"}, user=user).is_valid()
    blind = AccountForm({"name": "New Co"}, user=user)  # a create needs its one-time token
    assert not blind.is_valid()
    assert [e.code for e in blind.non_field_errors().as_data()] == ["missing"]
