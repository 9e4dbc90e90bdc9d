"""The admin shows who a person is at the identity provider, read-only."""

from django.urls import reverse

from handoff.people.models import SsoIdentity, User
from tests.factories import UserFactory


def test_the_people_admin_shows_a_persons_sso_identity(client, db):
    staff = UserFactory(username="maya", role=User.Role.MANAGER, is_staff=True)
    ivy = UserFactory(username="ivy", role=User.Role.IMPLEMENTATION_ENGINEER)
    SsoIdentity.objects.create(user=ivy, issuer="https://sso.example.com", subject="00u-ivy")
    client.force_login(staff)
    page = client.get(reverse("admin:people_user_change", args=[ivy.pk])).content.decode()
    shown = "<code>00u-ivy</code> at <code>https://sso.example.com</code>, last sign-in never"
    assert shown in page
    assert 'name="sso_identities_display"' not in page  # nothing to post
    own = client.get(reverse("admin:people_user_change", args=[staff.pk])).content.decode()
    assert "None: this person does not sign in with SSO." in own
