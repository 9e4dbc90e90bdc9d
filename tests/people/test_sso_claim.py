"""Which person an SSO sign-in claims (people/services.py): an admin's tick and the e-mail
together, never the e-mail alone; once only; not a person someone else's identity has."""

import pytest

from handoff.people.models import SsoIdentity, User
from handoff.people.services import person_sso_sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ISSUER = "https://sso.example.com"


def sign_in(sub: str, email: str, **claims) -> User:
    return person_sso_sign_in(
        issuer=ISSUER,
        claims={"sub": sub, "email": email, "groups": ["ie"], **claims},
        groups_claim="groups",
        group_roles={"ie": "ie"},
        staff_groups=[],
    )


def allowed(**kwargs) -> User:
    return UserFactory(role="ie", sso_claim_allowed=True, **kwargs)


def test_the_allowed_person_is_claimed_once():
    irene = allowed(email="irene@example.com")
    assert sign_in("00u-1", "Irene@Example.com", email_verified=True) == irene
    irene.refresh_from_db()
    assert not irene.sso_claim_allowed
    # Another identity with the same e-mail later is someone new: the tick was used.
    assert sign_in("00u-2", "irene@example.com", email_verified=True) != irene


@pytest.mark.parametrize(
    "why",
    ["not allowed", "unverified", "two allowed", "deactivated", "has an identity"],
)
def test_nobody_is_claimed_without_every_condition(why):
    person = UserFactory(
        role="ie", email="irene@example.com", sso_claim_allowed=why != "not allowed"
    )
    claims = {"email_verified": why != "unverified"}
    if why == "two allowed":
        allowed(email="IRENE@example.com")
    if why == "deactivated":
        person.is_active = False
        person.save()
    if why == "has an identity":
        SsoIdentity.objects.create(user=person, issuer=ISSUER, subject="00u-old")
    signed_in = sign_in("00u-new", "irene@example.com", **claims)
    assert signed_in != person
    assert SsoIdentity.objects.get(subject="00u-new").user == signed_in


def test_a_provider_that_sends_no_email_verified_claims_too():
    """Entra ID sends no `email_verified`: the admin's tick and the directory's address do."""
    irene = allowed(email="irene@example.com")
    assert sign_in("00u-1", "irene@example.com") == irene
