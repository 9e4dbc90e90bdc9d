"""`seed_demo`: give the demo accounts their sync rows, so the dashboard shows them pending
until the worker has pushed them to the local fake Vitally (`make run` starts it, seeded with
the same Vitally ids: `run_fake_vitally --seed-demo`), and the API key its state row."""

from vitally_sync.conf import sync_config
from vitally_sync.models import VitallyKey
from vitally_sync.services import sync_rows_ensure


def seed(*, users, accounts, stdout) -> None:
    config = sync_config()
    if config.key_fingerprint:  # the key's state as staff see it in the admin: no wait, no refusal
        VitallyKey.objects.get_or_create(pk=config.key_fingerprint)
    created = sync_rows_ensure(account_ids=[a.pk for a in accounts.values()])
    if created:
        stdout.write(f"Vitally: {created} linked demo accounts queued for their first push.")


# The traits the fake already holds for the demo accounts, as a real tenant would (fake only).
FAKE_SEED_TRAITS = {
    "mrr": 12500,
    "vitally.custom.csmNotes": "Imported from the CRM",
}


def fake_seed_accounts() -> list[dict]:
    """The demo accounts as the fake Vitally knows them (name, externalId, some traits)."""
    from handoff.accounts.demo import DEMO_ACCOUNTS

    return [
        {"externalId": vitally_id, "name": name, "traits": dict(FAKE_SEED_TRAITS)}
        for name, vitally_id, *_ in DEMO_ACCOUNTS
        if vitally_id
    ]
