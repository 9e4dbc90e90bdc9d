"""`make run`'s demo: the fake holds Vitally accounts not yet in the portal, seed_demo's mirror
lists them at once, and a pull from the fake agrees with it (the same Vitally ids)."""

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command

from handoff.accounts.models import Account
from handoff.people.models import User
from tests.vitally_sync.conftest import TEST_KEY
from vitally_sync.demo import fake_seed_accounts, fake_seed_admins, fake_seed_importable
from vitally_sync.fake import FakeVitally
from vitally_sync.importing import accounts_import, importable_list
from vitally_sync.mirror import mirror_pull
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db
IMPORTABLE = {"Hooli", "Pied Piper", "Soylent Labs", "Vandelay Industries"}


def test_the_demo_offers_accounts_to_import_and_the_fake_agrees(settings):
    cache.clear()
    call_command("seed_demo", stdout=io.StringIO())
    assert {row.name for row in importable_list()} == IMPORTABLE
    seeded = {row.name: row.vitally_id for row in importable_list()}
    fake = FakeVitally(
        api_key=TEST_KEY,
        seed_accounts=fake_seed_accounts() + fake_seed_importable(),
        seed_admins=fake_seed_admins(),
    )
    fake.start()
    try:
        settings.VITALLY_BASE_URL, settings.VITALLY_API_KEY = fake.url, TEST_KEY
        settings.VITALLY_RATE_LIMIT_PER_MINUTE, settings.VITALLY_MIRROR_SHARE = 60_000, 1.0
        assert mirror_pull(full=True).completed
        assert {row.name: row.vitally_id for row in importable_list()} == seeded
        manager = User.objects.get(username="manager")
        report = accounts_import(vitally_ids=[seeded["Hooli"]], actor=manager)
        hooli = Account.objects.get(name="Hooli")
        assert report.created == [hooli] and not report.people_problem
        assert hooli.implementation_engineer.username == "ie2"
        assert hooli.technical_advisor.username == "ta2"
        assert sync_account_push(account_id=hooli.pk).outcome.value == "pushed"
        assert fake.account_get(seeded["Hooli"])["traits"]["vitally.custom.totalCpu"] == 64
    finally:
        fake.stop()


def test_the_demos_pushed_account_has_its_push_on_the_sync_page(settings):
    """Acme is seeded as pushed, then changed by hand in Vitally: the Vitally sync page's
    "Last attempt" shows that push, as the account's panel does ("None yet" contradicted it)."""
    from vitally_sync.conf import sync_config
    from vitally_sync.models import SyncAttempt
    from vitally_sync.selectors import sync_health_get

    call_command("seed_demo", stdout=io.StringIO())
    acme = Account.objects.get(name="Acme Robotics")
    [attempt] = SyncAttempt.objects.filter(account=acme)
    assert (attempt.outcome, attempt.http_status) == ("pushed", 200)
    settings.VITALLY_BASE_URL, settings.VITALLY_API_KEY = "http://127.0.0.1:9", TEST_KEY
    health = sync_health_get(limit=50, config=sync_config())
    rows = {row.account.pk: row for row in health.rows}
    assert rows[acme.pk].last_attempt == attempt
