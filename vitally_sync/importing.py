"""Import: portal accounts created from mirrored Vitally accounts (mirror.py).

Each import is one transaction through the ordinary services: `account_create` (name, the
Vitally id, and the people Vitally names on the account, matched by e-mail), whose link check
(linking.py) turns every mapped trait Vitally holds into a difference; then every value that
is one editable field of the production deployment is taken, as "Take all of Vitally's values"
on the account's Vitally panel does (`differences.differences_take_all`: the production
deployment created from Vitally's deployment type and hosting provider, the form's validation,
History saying "Taken from Vitally"), so the record's first values are Vitally's. What cannot
be taken (counts, the phase) stays a difference for a person to resolve.

People: Vitally names admins on an account (accountOwnerId, csmId, accountExecutiveId). The
portal asks `GET /resources/admins/search?email=` for each active person with a role (through
the shared rate limiter; answers cached for an hour) and assigns the person whose Vitally admin
is named, in the place their role fills. When Vitally cannot be asked, the accounts are still
imported, without people, and the page says so.
"""

import logging
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from handoff.accounts.models import Account
from handoff.accounts.services import account_create, record_change
from handoff.audit.models import AuditEvent
from handoff.people.models import User
from vitally_sync.client import Kind
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.differences import differences_take_all
from vitally_sync.limiter import acquire, limiter_get
from vitally_sync.linking import already_linked_message, linked_accounts_by_vitally
from vitally_sync.models import TraitDifference, VitallyAccount
from vitally_sync.services import _pause_share, client_get, key_state_get

logger = logging.getLogger(__name__)

IMPORT_LIST_LIMIT = 100
ADMIN_CACHE_SECONDS = 3600
ROLE_FIELDS = {
    User.Role.IMPLEMENTATION_ENGINEER: "implementation_engineer",
    User.Role.TECHNICAL_ADVISOR: "technical_advisor",
    User.Role.MANAGER: "manager",
}


def importable_list(*, query: str = "") -> QuerySet[VitallyAccount]:
    """Mirrored Vitally accounts no portal account is linked to (by id or externalId), by name."""
    linked = Account.objects.exclude(vitally_account_id="").values("vitally_account_id")
    rows = VitallyAccount.objects.exclude(vitally_id__in=linked).exclude(
        Q(external_id__in=linked) & ~Q(external_id="")
    )
    if query.strip():
        rows = rows.filter(name__icontains=query.strip()[:100])
    return rows.order_by("name", "vitally_id")


def mirrored_values(row: VitallyAccount, *, config: SyncConfig | None = None) -> list:
    """(the field's words, Vitally's value, how the portal writes it when otherwise) of the
    mapped traits a mirrored account holds, in the fields' order: what an import would take.
    No query."""
    from vitally_sync.differences import written_as
    from vitally_sync.payloads import trait_fields

    config = config or sync_config()
    return [
        (field.label, row.traits[key], written_as(field.name, row.traits[key]).strip())
        for field in trait_fields()
        if (key := config.trait_map.get(field.name)) is not None and key in row.traits
    ]


# --- people, matched by e-mail ----------------------------------------------------------------
def _admin_id_for(email: str, *, config: SyncConfig, client, limiter) -> tuple[str | None, str]:
    """(the Vitally admin id with this e-mail, or None; a problem, or "")."""
    cache_key = f"vitally:admin-by-email:{config.key_fingerprint}:{email.lower()}"
    cached = cache.get(cache_key)
    if cached is not None:
        return cached or None, ""
    key = key_state_get(config)
    if key.auth_error or key.paused_for > 0:
        return None, key.auth_error or "Vitally's rate limit said wait (429)"
    if acquire(limiter, per_minute=config.rate_limit_per_minute, max_wait=2.0):
        return None, "the rate limit is saturated"
    result = client.request("GET", "/resources/admins/search", params={"email": email})
    if result.kind is Kind.RATE_LIMITED:
        _pause_share(config, limiter, result.wait_seconds or 0.0)
    if not result.ok:
        return None, result.message
    body = result.body
    found = body.get("results") if isinstance(body, dict) else body  # bare array or envelope
    admin = next(
        (
            a
            for a in (found if isinstance(found, list) else [])
            if isinstance(a, dict) and str(a.get("email", "")).lower() == email.lower()
        ),
        None,
    )
    admin_id = str(admin["id"]) if admin and admin.get("id") else ""
    cache.set(cache_key, admin_id, ADMIN_CACHE_SECONDS)
    return admin_id or None, ""


@dataclass
class PeopleMatch:
    by_admin: dict[str, User] = field(default_factory=dict)  # Vitally admin id -> person
    problem: str = ""  # why some people could not be matched


def people_match(*, admin_ids: set[str], config: SyncConfig | None = None) -> PeopleMatch:
    """The portal's active people with a role, by the Vitally admin id their e-mail has; only
    asked when a Vitally account names admins."""
    match = PeopleMatch()
    config = config or sync_config()
    if not admin_ids or not config.enabled:
        return match
    client, limiter = client_get(config), limiter_get(config.redis_url)
    people = User.objects.filter(is_active=True, role__in=list(ROLE_FIELDS)).exclude(email="")
    for person in people.order_by("pk"):
        admin_id, problem = _admin_id_for(
            person.email, config=config, client=client, limiter=limiter
        )
        if problem:
            match.problem = f"Vitally could not be asked who its admins are ({problem})"
            break
        if admin_id in admin_ids:
            match.by_admin.setdefault(admin_id, person)
    return match


def _people_for(row: VitallyAccount, match: PeopleMatch) -> dict[str, User]:
    people: dict[str, User] = {}
    for admin_id in row.admin_ids:
        person = match.by_admin.get(admin_id)
        if person is not None:
            people.setdefault(ROLE_FIELDS[person.role], person)
    return people


def _people_text(row: VitallyAccount, people: dict[str, User], match: PeopleMatch) -> str:
    """Where the account's people came from, for History."""
    if people:
        named = ", ".join(
            f"{Account._meta.get_field(name).verbose_name} {person}"
            for name, person in people.items()
        )
        return f"People Vitally names, matched by e-mail: {named}."
    if match.problem:
        return "No people: " + match.problem + "."
    if row.admin_ids:
        return "Vitally names people on the account, but none has an e-mail the portal knows."
    return "Vitally names nobody on the account."


# --- importing --------------------------------------------------------------------------------
@dataclass
class ImportReport:
    created: list[Account] = field(default_factory=list)
    people_problem: str = ""  # why people could not be matched (the accounts are imported)
    open_differences: int = 0  # values only a person can resolve (counts, the phase)


def import_refusals(rows: list[VitallyAccount]) -> list[str]:
    """Why some of these cannot be imported now ("Name: why"), for the form to say."""
    holders = linked_accounts_by_vitally(rows)
    taken = {
        name.lower()
        for name in Account.objects.filter(name__in=[r.name for r in rows]).values_list(
            "name", flat=True
        )
    }
    refusals = []
    for row in rows:
        if row.vitally_id in holders:
            refusals.append(already_linked_message(row.name, holders[row.vitally_id]))
        elif row.name.lower() in taken:
            refusals.append(
                f"A portal account is already called “{row.name}”: link it to its Vitally "
                "account on its edit page instead."
            )
    return refusals


def accounts_import(*, vitally_ids: list[str], actor) -> ImportReport:
    """Create a portal account from each mirrored Vitally account, all or none: a refusal
    (ValidationError, e.g. one linked or named since the form was checked) imports nothing.
    People are asked of Vitally first, outside the transaction (no lock held over HTTP)."""
    report = ImportReport()
    admin_ids = VitallyAccount.objects.filter(vitally_id__in=vitally_ids).values_list(
        "admin_ids", flat=True
    )
    match = people_match(admin_ids={a for ids in admin_ids for a in ids})
    report.people_problem = match.problem
    with transaction.atomic():
        rows = list(
            VitallyAccount.objects.select_for_update()
            .filter(vitally_id__in=vitally_ids)
            .order_by("name", "vitally_id")
        )
        if refusals := import_refusals(rows):
            raise ValidationError(refusals)
        for row in rows:
            people = _people_for(row, match)
            account = account_create(
                actor=actor, name=row.name, vitally_account_id=row.vitally_id, **people
            )
            record_change(
                actor=actor,
                obj=account,
                action=AuditEvent.Kind.ACTION,
                message=(  # History keeps 300 characters: the people before the externalId
                    f"Imported from Vitally (id {row.vitally_id}): "
                    + (
                        "Vitally's values are the record's first values. "
                        if mirrored_values(row)
                        else "Vitally held no values for the portal's fields. "
                    )
                    + _people_text(row, people, match)
                ),
            )
            # Vitally's values are the record's first: what the panel's "Take all" takes.
            differences_take_all(account=account, actor=actor)
            report.open_differences += TraitDifference.objects.filter(account=account).count()
            report.created.append(account)
    return report
