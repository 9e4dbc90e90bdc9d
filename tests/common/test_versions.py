"""Optimistic concurrency's shared pieces: the versioned form."""

import pytest

from handoff.accounts.forms import AccountForm
from handoff.people.models import User
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


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
    assert AccountForm({"name": "New Co"}, user=user).is_valid()
