"""The logs in the admin: readable by staff, never written there (writes go through services)."""

import pytest
from django.urls import reverse

from tests.logs.factories import IssueFactory, JournalEntryFactory, OpportunityFactory, RiskFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "factory, model",
    [
        (JournalEntryFactory, "journalentry"),
        (IssueFactory, "issue"),
        (RiskFactory, "risk"),
        (OpportunityFactory, "expansionopportunity"),
    ],
)
def test_staff_read_the_logs_in_the_admin_but_cannot_change_them(
    client, admin_user, factory, model
):
    item = factory(title="Visible in admin")
    client.force_login(admin_user)
    changelist = client.get(reverse(f"admin:logs_{model}_changelist"))
    assert changelist.status_code == 200
    assert "Visible in admin" in changelist.content.decode()
    view = client.get(reverse(f"admin:logs_{model}_change", args=[item.pk]))
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()  # read-only
    assert client.get(reverse(f"admin:logs_{model}_add")).status_code == 403
    response = client.post(reverse(f"admin:logs_{model}_delete", args=[item.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert type(item).objects.filter(pk=item.pk).exists()
