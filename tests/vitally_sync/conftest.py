import datetime
import socket
from contextlib import contextmanager

import pytest
import redis

from vitally_sync.fake import FakeVitally
from vitally_sync.limiter import limiter_get

TEST_KEY = "sk_test_portal"
CPU = "vitally.custom.totalCpu"


@pytest.fixture(autouse=True)
def fresh_limiter(settings):
    """The limiter's state (pacing, 429 pause, auth gate) lives in Redis: start each test clean."""
    limiter_get(settings.REDIS_URL).reset()  # the shared state, and this process's memory
    limiter_get("").reset()
    yield
    limiter_get(settings.REDIS_URL).reset()


@pytest.fixture
def fake_vitally(settings):
    with fake_vitally_running(settings) as fake:
        yield fake


@contextmanager
def fake_vitally_running(settings):
    """The fake on a random loopback port; the portal points at it, with fast test timings
    (tests elsewhere, e.g. tests/browser, start it with this)."""
    fake = FakeVitally(api_key=TEST_KEY)
    fake.start()
    settings.VITALLY_BASE_URL = fake.url
    settings.VITALLY_API_KEY = TEST_KEY
    settings.VITALLY_RATE_LIMIT_PER_MINUTE = 60_000
    settings.VITALLY_CONNECT_TIMEOUT = 1.0
    settings.VITALLY_READ_TIMEOUT = 1.0
    settings.VITALLY_BACKOFF_BASE_SECONDS = 0.2
    settings.VITALLY_BACKOFF_CAP_SECONDS = 0.5
    settings.VITALLY_LEASE_SECONDS = 10.0
    settings.VITALLY_COALESCE_SECONDS = 0.0
    settings.VITALLY_SWEEP_SECONDS = 1.0
    settings.VITALLY_TRAIT_MAP = {}
    try:
        yield fake
    finally:
        fake.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_client(settings):
    return redis.Redis.from_url(settings.REDIS_URL)


def portal_traits(account) -> dict:
    """What the portal would send for the account now, with every installed app's fields (so
    these tests hold once deployments and logs are installed too)."""
    from handoff.accounts.models import Account
    from vitally_sync.conf import sync_config
    from vitally_sync.payloads import traits_build
    from vitally_sync.selectors import portal_values_get

    account = Account.objects.get(pk=account.pk)
    return traits_build(portal_values_get(account_id=account.pk), trait_map=sync_config().trait_map)


def as_stored(traits: dict) -> dict:
    """Traits as Vitally keeps them after a PUT: a null deletes the trait."""
    return {key: value for key, value in traits.items() if value is not None}


def assert_vitally_has(fake, vitally_id, account, *, phase, key="vitally.custom.handoffStatus"):
    """Vitally shows the phase we expect, and as a whole equals what the portal holds."""
    traits = fake.account_get(vitally_id)["traits"]
    assert traits[key] == phase
    assert traits == as_stored(portal_traits(account))


# --- reconcile: an account Vitally is known to hold, then a hand edit there ---------------------
def production_data(**changes) -> dict:
    from deployments.models import Environment

    return {
        "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
        "hosting_provider": Environment.HostingProvider.AWS,
        "sourcegraph_instance_url": "https://sourcegraph.acme.example",
        "infra_start_date": datetime.date(2026, 9, 1),
        "infra_completion_date": datetime.date(2026, 10, 15),
        "total_cpu": 48,
        "total_memory_gb": 192,
        "total_disk_space_gb": 2000,
        **changes,
    }


def deployed_and_pushed(fake, actor, account):
    """The account with a production deployment, pushed: Vitally known to hold every trait."""
    from deployments.models import Environment
    from deployments.services import DocumentLink, InstanceSpec, environment_create
    from vitally_sync.services import sync_account_push

    fake.account_create(external_id=account.vitally_account_id, name=account.name)
    environment_create(
        account=account,
        actor=actor,
        kind=Environment.Kind.PRODUCTION,
        data=production_data(),
        design_documents=[DocumentLink("Technical design", "https://docs.example.com/tdd")],
        instance_types=[InstanceSpec(3, "m6a.4xlarge")],
    )
    assert sync_account_push(account_id=account.pk).outcome.value == "pushed"
    return account


@pytest.fixture
def deployed(fake_vitally, account, ie):
    return deployed_and_pushed(fake_vitally, ie, account)


@pytest.fixture
def hand_edited(fake_vitally, deployed):
    """Someone raised Total CPU from 48 to 64 by hand in Vitally, and a read found it."""
    from vitally_sync.reconcile import reconcile_pass

    fake_vitally.hand_edit(deployed.vitally_account_id, {CPU: 64})
    report = reconcile_pass(due_only=False)
    assert report.read == 1 and len(report.lines) == 1, report
    return deployed


def production(account):
    from deployments.models import Environment

    return Environment.objects.get(account=account, kind=Environment.Kind.PRODUCTION)


def difference(account, key=CPU):
    from vitally_sync.models import TraitDifference

    return TraitDifference.objects.get(account=account, trait_key=key)
