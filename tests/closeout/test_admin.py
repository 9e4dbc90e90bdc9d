"""Staff edit the checklist template in the admin, through the services; sign-offs are
read-only evidence there."""

import pytest
from django.urls import reverse

from handoff.audit.models import AuditEvent
from handoff.closeout.models import ChecklistTemplateItem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_manager(db):
    # The demo's manager: staff, not superuser, no model permissions granted.
    return UserFactory(username="maya-admin", role="manager", is_staff=True)


def test_staff_edit_the_template_through_the_services(client, staff_manager, template):
    client.force_login(staff_manager)
    item = template[0]
    url = reverse("admin:closeout_checklisttemplateitem_change", args=[item.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "title": "Infrastructure for every environment",
            "guidance": "",
            "position": 10,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.title == "Infrastructure for every environment"
    event = AuditEvent.objects.get(
        object_type="closeout.checklisttemplateitem", object_id=str(item.pk), action="update"
    )
    assert event.actor == staff_manager
    assert event.change_for("title")["before"] == "Infrastructure for all customer environments"

    response = client.post(
        reverse("admin:closeout_checklisttemplateitem_add"),
        {"title": "Monitoring handed over", "guidance": "", "position": 500, "is_active": "on"},
    )
    assert response.status_code == 302
    assert ChecklistTemplateItem.objects.filter(title="Monitoring handed over").exists()
    assert (
        client.post(
            reverse("admin:closeout_checklisttemplateitem_delete", args=[item.pk])
        ).status_code
        == 403
    )


def test_non_staff_cannot_reach_the_template(client, ie, template):
    client.force_login(ie)
    response = client.get(reverse("admin:closeout_checklisttemplateitem_changelist"))
    assert response.status_code == 302  # to the admin sign-in


def test_sign_offs_are_read_only_in_the_admin(client, staff_manager):
    client.force_login(staff_manager)
    assert client.get(reverse("admin:closeout_signoff_changelist")).status_code == 200
    assert client.get(reverse("admin:closeout_signoff_add")).status_code == 403
