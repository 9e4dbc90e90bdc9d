"""`seed_demo`: give the demo accounts their sync rows, so the dashboard shows them pending
until the worker has pushed them to the local fake Vitally (`make run` starts it, seeded with
the same Vitally ids: `run_fake_vitally --seed-demo`); the API key its state row; and one
field someone "changed in Vitally", so the panel, the account page and the admin show a
difference."""

from django.db import DatabaseError
from django.utils import timezone

from handoff.accounts.models import Account
from vitally_sync.client import Kind, Result
from vitally_sync.conf import sync_config
from vitally_sync.models import AccountSync, TraitDifference, VitallyKey
from vitally_sync.payloads import trait_field_get, traits_build
from vitally_sync.reconcile import reconcile_read_record, sync_read_token
from vitally_sync.selectors import portal_values_get
from vitally_sync.services import _record_attempt, sync_rows_ensure

# After the closeout demo (100), which moves phases: the known state below is the final one.
SEED_ORDER = 200
# Acme's Total CPU was raised by hand in Vitally after the portal had pushed it.
DEMO_DIFFERENCE = ("Acme Robotics", "total_cpu", 16)


def seed(*, users, accounts, stdout) -> None:
    config = sync_config()
    if config.key_fingerprint:  # the key's state as staff see it in the admin: no wait, no refusal
        VitallyKey.objects.get_or_create(pk=config.key_fingerprint)
    created = sync_rows_ensure(account_ids=[a.pk for a in accounts.values()])
    if created:
        stdout.write(f"Vitally: {created} linked demo accounts queued for their first push.")
    name, field_name, more = DEMO_DIFFERENCE
    account = accounts.get(name)
    if account is not None and _difference_seed(account, field_name, more):
        label = trait_field_get(field_name).label
        stdout.write(f"Vitally: {name} pushed, then its {label} changed by hand in Vitally.")
    mirror_seed(stdout)


def _difference_seed(account: Account, field_name: str, more: int) -> bool:
    """As if the worker had pushed the account (Vitally acknowledged every trait) and a read
    back then found one of them changed in Vitally: the real recording code, no request."""
    config = sync_config()
    key = config.trait_map.get(field_name)
    if not account.vitally_account_id or key is None:
        return False
    if TraitDifference.objects.filter(account=account).exists():
        return False
    account = Account.objects.get(pk=account.pk)
    traits = traits_build(portal_values_get(account_id=account.pk), trait_map=config.trait_map)
    now = timezone.now()
    AccountSync.objects.update_or_create(
        account=account,
        defaults={
            "status": AccountSync.Status.SYNCED,
            "acked_version": account.change_version,
            "acked_traits": traits,
            "pushed_vitally_id": account.vitally_account_id,
            "config_fingerprint": config.fingerprint,
            "last_pushed_at": now,
            "synced_through": now,
        },
    )
    # The push's own record of its request, so the Vitally sync page's "Last attempt" agrees.
    pushed = Result(Kind.OK, 200, "Accepted by Vitally (the demo's seed).")
    _record_attempt(
        account_id=account.pk,
        version=account.change_version,
        result=pushed,
        sent_at=now,
        answered_at=now,
    )
    sync = AccountSync.objects.select_related("account").get(pk=account.pk)
    read = {**traits, key: (traits.get(key) or 0) + more}
    found = reconcile_read_record(
        account_id=account.pk, token=sync_read_token(sync), traits=read, config=config, read_at=now
    )
    return bool(found)


# The traits the fake already holds for the demo accounts, as a real tenant would (fake only).
FAKE_SEED_TRAITS = {
    "mrr": 12500,
    "vitally.custom.csmNotes": "Imported from the CRM",
}


def fake_seed_accounts() -> list[dict]:
    """The demo accounts as the fake Vitally knows them (name, externalId, some traits); an
    account with a seeded difference also holds what the portal pushed, with Vitally's values
    where they differ, so the fake and the portal's known state agree."""
    from handoff.accounts.demo import DEMO_ACCOUNTS

    held = _held_with_differences()
    return [
        {
            "externalId": vitally_id,
            "name": name,
            "traits": {**FAKE_SEED_TRAITS, **held.get(vitally_id, {})},
        }
        for name, vitally_id, *_ in DEMO_ACCOUNTS
        if vitally_id
    ]


def _held_with_differences() -> dict[str, dict]:
    """From the portal's demo database when it has one (`make run` seeds it first)."""
    held: dict[str, dict] = {}
    try:
        syncs = (
            AccountSync.objects.filter(account__vitally_differences__isnull=False)
            .distinct()
            .select_related("account")
            .prefetch_related("account__vitally_differences")
        )
        for sync in syncs:
            traits = {k: v for k, v in (sync.acked_traits or {}).items() if v is not None}
            for difference in sync.account.vitally_differences.all():
                traits[difference.trait_key] = difference.vitally_value
            held[sync.pushed_vitally_id] = {k: v for k, v in traits.items() if v is not None}
    except DatabaseError:  # no database, or not migrated: the fake starts without them
        return {}
    return held


# --- the accounts mirror: Vitally accounts not yet in the portal, to try the import -----------
# name, externalId, deployment type, hosting provider, Total CPU, instance URL, owner, CSM (the
# demo people's usernames: Vitally knows them as admins with the same e-mail).
IMPORTABLE = [
    ("Hooli", "hooli", "Kubernetes with Helm", "AWS", 64, "https://sourcegraph.hooli.example",
     "ie2", "ta2"),
    ("Pied Piper", "pied-piper", "Docker Compose", "GCP", 16, "https://sg.piedpiper.example",
     "ie", "ta"),
    ("Soylent Labs", "soylent-labs", None, None, None, None, None, None),
    ("Vandelay Industries", "vandelay", "Kubernetes with Helm", "Azure", 32, None, "ie2", None),
]  # fmt: skip
ADMIN_DOMAIN = "example.com"  # handoff/accounts/demo.py gives each demo person user@example.com


def _importable_id(external_id: str) -> str:
    """A stable Vitally id, so the fake (a process of its own) and seed_demo's mirror agree."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vitally-demo:{external_id}"))


def _admin_id(username: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vitally-demo-admin:{username}"))


def fake_seed_importable() -> list[dict]:
    """The fake's accounts that no demo account is linked to (run_fake_vitally --seed-demo)."""
    trait_map = sync_config().trait_map
    accounts = []
    for name, external_id, deployment, provider, cpu, url, owner, csm in IMPORTABLE:
        values = {
            "deployment_type": deployment,
            "infrastructure_hosting_provider": provider,
            "total_cpu": cpu,
            "sourcegraph_instance_url": url,
        }
        traits = {
            trait_map[field]: value
            for field, value in values.items()
            if value is not None and field in trait_map
        }
        accounts.append(
            {
                "id": _importable_id(external_id),
                "externalId": external_id,
                "name": name,
                "traits": {**FAKE_SEED_TRAITS, **traits},
                "accountOwnerId": _admin_id(owner) if owner else None,
                "csmId": _admin_id(csm) if csm else None,
            }
        )
    return accounts


def fake_seed_admins() -> list[dict]:
    """The demo people as Vitally admins (same e-mail), for the import's matching."""
    from handoff.accounts.demo import DEMO_USERS

    return [
        {
            "id": _admin_id(username),
            "email": f"{username}@{ADMIN_DOMAIN}",
            "name": f"{first} {last}",
        }
        for username, first, last, *_ in DEMO_USERS
    ]


def mirror_seed(stdout) -> None:
    """seed_demo: the mirror as a first pull would leave it, so the import page lists the fake's
    importable accounts at once (beat's pull then keeps it current)."""
    from vitally_sync.mirror import ADMIN_FIELDS, mirror_rows_save

    now = timezone.now()
    rows = [
        {
            **account,
            "updatedAt": now.isoformat(),
            **{name: account.get(name) for name in ADMIN_FIELDS},
        }
        for account in fake_seed_importable()
    ]
    saved = mirror_rows_save(rows, trait_keys=set(sync_config().trait_map.values()), seen_at=now)
    stdout.write(f"Vitally: {saved} Vitally accounts not yet in the portal, to try the import.")
