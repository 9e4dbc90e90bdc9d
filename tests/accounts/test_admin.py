"""The account admin saves through account_update with the version its change form carries."""

import re

import pytest
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="staffer", role="manager", is_staff=True))
    return client


def change_url(account) -> str:
    return reverse("admin:accounts_account_change", args=[account.pk])


def rendered_post(client, account, **overrides) -> dict:
    """The change form as the admin renders it (its hidden version included), plus overrides."""
    page = client.get(change_url(account)).content.decode()
    version = re.search(r'name="expected_version" value="(\d+)"', page)
    assert version, "the change form carries the account's version"
    data = {
        "name": account.name,
        "vitally_account_id": account.vitally_account_id,
        "crm_url": account.crm_url,
        "implementation_engineer": str(account.implementation_engineer_id),
        "technical_advisor": str(account.technical_advisor_id),
        "manager": str(account.manager_id),
        "planned_completion_date": "",
        "expected_version": version.group(1),
        "_save": "Save",
    }
    return {**data, **overrides}


def test_the_change_form_still_saves_through_the_service(staff_client, account):
    response = staff_client.post(
        change_url(account), rendered_post(staff_client, account, name="Acme Robotics Inc")
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.version) == ("Acme Robotics Inc", 2)
    event = AuditEvent.objects.get(account=account, action=AuditEvent.Kind.UPDATE)
    assert event.change_for("name")["after"] == "Acme Robotics Inc"


def test_the_change_form_cannot_set_the_phase(staff_client, account):
    response = staff_client.post(
        change_url(account),
        rendered_post(staff_client, account, name="Acme Robotics Inc", phase="handed_off"),
    )
    assert response.status_code == 302  # saved; the forged phase is not a field of the form
    account.refresh_from_db()
    assert (account.name, account.phase) == ("Acme Robotics Inc", Account.Phase.IMPLEMENTATION)
    assert "phase" not in staff_client.get(change_url(account)).context["adminform"].form.fields


@pytest.mark.parametrize("version", [None, ""], ids=["absent", "empty"])
def test_the_change_form_without_its_version_is_refused(staff_client, account, version):
    data = rendered_post(staff_client, account, name="Acme Robotics Inc")
    if version is None:
        del data["expected_version"]
    else:
        data["expected_version"] = version
    response = staff_client.post(change_url(account), data)
    assert response.status_code == 200
    errors = re.findall(
        r'<ul class="errorlist nonfield">(.*?)</ul>', response.content.decode(), re.S
    )
    assert any("This form was sent without its version, so nothing was saved" in e for e in errors)
    account.refresh_from_db()
    assert (account.name, account.version) == ("Acme Robotics", 1)
    assert not AuditEvent.objects.filter(account=account).exists()
