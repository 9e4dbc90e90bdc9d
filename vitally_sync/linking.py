"""Linking a portal account to a Vitally account, and the search the account form offers.

- The search reads the mirror (mirror.py), never Vitally: by name, id or externalId.
- One Vitally account links to at most one portal account. The same id twice is refused by the
  database (Account's unique constraint); the same Vitally account under its other id (its
  Vitally id on one account, its externalId on another) is refused here, with the mirror's row
  locked so that two links at once cannot both pass.
- Values Vitally already holds are never overwritten unseen: when a link is made, each mapped
  trait whose value in Vitally (as last pulled) is not the portal's becomes a difference (the
  reconcile's `TraitDifference`, its origin "link": worded as a value Vitally held when the
  account was linked, not as a hand edit), shown side by side on the account's Vitally panel
  with Keep the portal's value / Take Vitally's value (or Take all of Vitally's values). Until a
  person chooses, pushes leave that trait as it is in Vitally. The portal's value is recorded
  as what Vitally was known to hold, as for a change made by hand in Vitally, so a later read
  back finds the difference again (and keeps its origin).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from handoff.accounts.models import Account
from vitally_sync.conf import sync_config
from vitally_sync.models import AccountSync, TraitDifference, VitallyAccount
from vitally_sync.payloads import trait_fields, traits_build
from vitally_sync.reconcile import values_agree
from vitally_sync.selectors import portal_values_get
from vitally_sync.services import sync_rows_ensure

SEARCH_RESULTS = 8


def mirror_account_list(*, query: str, limit: int = SEARCH_RESULTS) -> list[VitallyAccount]:
    """Mirrored Vitally accounts whose name contains `query`, or whose id or externalId is it."""
    query = query.replace("\x00", "").strip()[:100]  # PostgreSQL text holds no NUL
    if len(query) < 2:
        return []
    return list(
        VitallyAccount.objects.filter(
            Q(name__icontains=query) | Q(vitally_id=query) | Q(external_id=query)
        ).order_by("name", "vitally_id")[:limit]
    )


def linked_accounts_by_vitally(rows: list[VitallyAccount]) -> dict[str, Account]:
    """{Vitally id: the portal account linked to it (by its id or externalId)}: one query."""
    keys: dict[str, str] = {}
    for row in rows:
        keys[row.vitally_id] = row.vitally_id
        if row.external_id:
            keys[row.external_id] = row.vitally_id
    if not keys:
        return {}
    return {
        keys[account.vitally_account_id]: account
        for account in Account.objects.filter(vitally_account_id__in=list(keys)).only(
            "pk", "name", "vitally_account_id"
        )
    }


def mirror_account_get(key: str, *, lock: bool = False) -> VitallyAccount | None:
    rows = VitallyAccount.objects.filter(Q(vitally_id=key) | Q(external_id=key)).order_by(
        "vitally_id"
    )
    if lock:
        rows = rows.select_for_update()
    return rows.first()


def already_linked_message(vitally_name: str, other: Account) -> str:
    return (
        f"The Vitally account “{vitally_name}” is already linked to the portal account "
        f"“{other.name}”: one Vitally account links to one portal account."
    )


@transaction.atomic
def link_record(*, account: Account) -> list[TraitDifference]:
    """In the transaction that links `account` to its Vitally account id: refuse a Vitally
    account another portal account holds under its other id (ValidationError), and record as
    differences the mapped traits Vitally already holds with another value than the portal's."""
    target = account.vitally_account_id
    mirrored = mirror_account_get(target, lock=True)
    if mirrored is None:
        return []  # not pulled (yet): nothing known to compare
    same = {mirrored.vitally_id, mirrored.external_id} - {""}
    other = Account.objects.filter(vitally_account_id__in=same).exclude(pk=account.pk).first()
    if other is not None:
        raise ValidationError({"vitally_account_id": already_linked_message(mirrored.name, other)})
    config = sync_config()
    current = traits_build(portal_values_get(account_id=account.pk), trait_map=config.trait_map)
    differing = {}
    for trait in trait_fields():
        key = config.trait_map.get(trait.name)
        if key is None or key not in current or mirrored.traits.get(key) is None:
            continue
        if not values_agree(current[key], mirrored.traits[key], field_name=trait.name):
            differing[key] = (trait.name, current[key], mirrored.traits[key])
    sync_rows_ensure(account_ids=[account.pk])
    sync = AccountSync.objects.select_for_update(of=("self",)).get(pk=account.pk)
    # Differences found for another Vitally account no longer apply.
    TraitDifference.objects.filter(account_id=account.pk).delete()
    known = dict(sync.acked_traits or {}) if sync.pushed_vitally_id == target else {}
    known.update({key: portal for key, (_, portal, _) in differing.items()})
    TraitDifference.objects.bulk_create(
        TraitDifference(
            account_id=account.pk,
            trait_key=key,
            field_name=name,
            portal_value=portal,
            vitally_value=vitally,
            first_seen_at=mirrored.last_seen_at,
            last_seen_at=mirrored.last_seen_at,
            origin=TraitDifference.Origin.LINK,
        )
        for key, (name, portal, vitally) in differing.items()
    )
    AccountSync.objects.filter(pk=account.pk).update(
        pushed_vitally_id=target if differing else sync.pushed_vitally_id,
        acked_traits=known if differing else sync.acked_traits,
        differences=len(differing),
    )
    return list(TraitDifference.objects.filter(account_id=account.pk).order_by("pk"))


def account_linking_check(sender, account: Account, **kwargs) -> None:
    """handoff.accounts.signals.account_linking: see the module docstring."""
    link_record(account=account)
