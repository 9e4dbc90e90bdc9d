"""Writes to people: the sign-in with the company's identity provider (SSO) creates a person at
their first sign-in and keeps their name, e-mail, role and staff flag as the provider says at
each later one. Every change is in the audit trail, like any other change of a person."""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.audit.services import audit_record
from handoff.common.services import model_create_values, model_update
from handoff.people.models import SsoIdentity, User

# When a person is in the groups of several roles, the one with the most to do wins.
ROLE_PRECEDENCE = (
    User.Role.MANAGER,
    User.Role.TECHNICAL_ADVISOR,
    User.Role.IMPLEMENTATION_ENGINEER,
)
SYNCED_FIELDS = ["first_name", "last_name", "email", "role", "is_staff"]


class SsoRefusedError(Exception):
    """The provider vouched for the person, but the portal does not let them in."""

    NO_GROUP = "no_group"
    DEACTIVATED = "deactivated"

    def __init__(self, reason: str, *, groups: list[str]):
        super().__init__(reason)
        self.reason = reason
        self.groups = groups  # the person's groups, as the provider sent them


def groups_from_claim(value: Any) -> list[str]:
    """The groups claim as a list of names: a list, or one name (some providers send a string)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(group) for group in value]
    return []


def access_from_groups(
    groups: Iterable[str], *, group_roles: Mapping[str, str], staff_groups: Iterable[str]
) -> tuple[str, bool]:
    """(role, is_staff) that a person in `groups` gets: "" and False when no group gives access."""
    groups = set(groups)
    roles = {role for group, role in group_roles.items() if group in groups}
    role = next((str(r) for r in ROLE_PRECEDENCE if r in roles), "")
    return role, bool(groups & set(staff_groups))


@transaction.atomic
def person_sso_sign_in(
    *,
    issuer: str,
    claims: Mapping[str, Any],
    groups_claim: str,
    group_roles: Mapping[str, str],
    staff_groups: Iterable[str],
) -> User:
    """The person the provider's verified claims stand for, created or brought up to date.

    Found by issuer + `sub` only. Refused (SsoRefusedError) when deactivated in the portal, or
    in no group that gives a role or staff."""
    subject = str(claims["sub"])
    groups = groups_from_claim(claims.get(groups_claim))
    identity = (
        SsoIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is not None and not identity.user.is_active:
        raise SsoRefusedError(SsoRefusedError.DEACTIVATED, groups=groups)
    role, is_staff = access_from_groups(groups, group_roles=group_roles, staff_groups=staff_groups)
    if not role and not is_staff:
        raise SsoRefusedError(SsoRefusedError.NO_GROUP, groups=groups)
    profile = _profile(claims)
    values = {**profile, "role": role, "is_staff": is_staff}
    fields, message = SYNCED_FIELDS, "Updated from the identity provider at sign-in"
    claimed = _claimed_person(claims, profile["email"]) if identity is None else None
    if claimed is not None:
        # An admin allowed it (User.sso_claim_allowed): this person is who signed in, once.
        identity = SsoIdentity(user=claimed, issuer=issuer, subject=subject)
        fields = [*SYNCED_FIELDS, "sso_claim_allowed"]
        values = {**values, "sso_claim_allowed": False}
        message = "Linked to their SSO identity at their first sign-in, as an admin allowed"
    if identity is None:
        user = User(username=_free_username(claims, subject), **values)
        user.set_unusable_password()  # signs in through the provider only
        user.full_clean()
        user.save()
        identity = SsoIdentity(user=user, issuer=issuer, subject=subject)
        audit_record(
            actor=None,
            account=None,
            obj=user,
            action=AuditEvent.Kind.CREATE,
            changes=model_create_values(user, SYNCED_FIELDS),
            message="Created at their first sign-in with SSO",
        )
    else:
        user = identity.user
        changes = model_update(instance=user, fields=fields, data=values)
        if changes or claimed is not None:
            audit_record(
                actor=None,
                account=None,
                obj=user,
                action=AuditEvent.Kind.UPDATE,
                changes=changes,
                message=message,
            )
    identity.last_sign_in_at = timezone.now()
    identity.save()
    return user


def _claimed_person(claims: Mapping[str, Any], email: str) -> User | None:
    """The one active person an admin allowed to be claimed (sso_claim_allowed) with this
    e-mail; None otherwise (two such people included, or an e-mail the provider says it has not
    verified; Entra ID sends no `email_verified`, a company directory's addresses are its own)."""
    if not email or claims.get("email_verified") is False:
        return None
    people = list(
        User.objects.select_for_update()
        .filter(sso_claim_allowed=True, is_active=True, email__iexact=email)
        .exclude(sso_identities__isnull=False)[:2]
    )
    return people[0] if len(people) == 1 else None


def _text(value: Any, limit: int) -> str:
    """One line of text from a claim: control and format characters dropped, cut to fit."""
    text = "".join(ch for ch in str(value or "") if unicodedata.category(ch)[0] != "C")
    return text.strip()[:limit]


def _profile(claims: Mapping[str, Any]) -> dict[str, str]:
    first, last = _text(claims.get("given_name"), 150), _text(claims.get("family_name"), 150)
    if not (first or last):
        first, _, last = _text(claims.get("name"), 301).partition(" ")
        first, last = first[:150], last.strip()[:150]
    email = _text(claims.get("email"), 254)
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    return {"first_name": first, "last_name": last, "email": email}


def _free_username(claims: Mapping[str, Any], subject: str) -> str:
    """A user name for the person's display and the admin, never how they are found again."""
    for candidate in (claims.get("preferred_username"), claims.get("email"), subject):
        base = re.sub(r"[^\w.@+-]", "", _text(candidate, 140))
        if base:
            break
    else:
        base = "person"
    username, suffix = base, 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{base}-{suffix}"
    return username
