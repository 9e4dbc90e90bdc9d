"""Issue 11's four faults, end to end: "Synced" must mean Vitally holds the portal's values.

Real Redis broker, a real Celery worker on the test database, the fake Vitally over HTTP with
its hostile switches (an answer lost after the request was applied, a 401 burst that ends, a
long Retry-After that it enforces, a hand edit in Vitally). Each test failed on the code before
the known-state design: see the comment above each one for how."""

import os
import signal
import time

import pytest
import redis

from handoff.accounts.models import Account
from tests.vitally_sync.conftest import TEST_KEY, as_stored, portal_traits
from tests.vitally_sync.test_e2e import (
    linked,
    set_phase,
    synced,
    wait_for,
    worker,
    worker_process,
)
from vitally_sync import services, tasks
from vitally_sync.conf import sync_config
from vitally_sync.models import AccountSync, SyncAttempt, VitallyKey
from vitally_sync.selectors import sync_badge
from vitally_sync.services import sync_push_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHASE = "vitally.custom.handoffStatus"


@pytest.fixture(autouse=True)
def clean_broker(settings):
    from tests.vitally_sync.test_e2e import KOMBU_UNACKED, app

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.control.purge()
    broker.delete(*KOMBU_UNACKED)
    yield
    app.control.purge()
    broker.delete(*KOMBU_UNACKED)


def state(account: Account) -> AccountSync:
    return AccountSync.objects.select_related("account").get(pk=account.pk)


def badge(account: Account) -> str:
    account = Account.objects.get(pk=account.pk)
    sync = AccountSync.objects.filter(pk=account.pk).first()
    return sync_badge(account=account, sync=sync, config=sync_config()).state


def vitally_equals_portal(fake, vitally_id: str, account: Account) -> bool:
    return fake.account_get(vitally_id)["traits"] == as_stored(portal_traits(account))


# 1. A lost answer, then a revert ----------------------------------------------------------------
# Before: the revert's payload equalled the last acknowledged one (by hash), so it was
# acknowledged without sending; Vitally kept "Handoff requested" with the badge at Synced.
@pytest.mark.parametrize("mode", ["closed", "timeout"])
def test_a_lost_answer_then_a_revert_reaches_vitally(fake_vitally, manager, monkeypatch, mode):
    monkeypatch.setattr(services, "backoff_seconds", lambda **kwargs: 30.0)  # no early retry
    account = linked(fake_vitally, manager)
    with worker():
        assert wait_for(lambda: synced(account))
        fake_vitally.lose_answer_mode = mode
        fake_vitally.timeout_seconds = 1.5  # past the portal's 1 s read timeout
        fake_vitally.lose_answer_next = 1
        set_phase(account, manager, "ready_for_handoff")
        assert wait_for(lambda: SyncAttempt.objects.filter(outcome="transient").exists())
    # Vitally applied it; the portal never heard so.
    assert fake_vitally.account_get("acme-robotics")["traits"][PHASE] == "Handoff requested"
    assert [e["status"] for e in fake_vitally.puts()][-1] == "lost"
    sync = state(account)
    assert PHASE not in sync.acked_traits  # unknown now
    assert badge(account) == "retrying"

    # Back to what Vitally last acknowledged (a full push, e.g. "Push now", would hide the bug).
    set_phase(account, manager, "implementation")
    with worker():
        assert wait_for(lambda: synced(account) and badge(account) == "synced", beat=True)
    assert fake_vitally.account_get("acme-robotics")["traits"][PHASE] == "Implementation"
    assert vitally_equals_portal(fake_vitally, "acme-robotics", account)
    last = fake_vitally.puts()[-1]
    assert last["status"] == 200 and last["body"]["traits"] == {PHASE: "Implementation"}


# 2. A 401 burst that ends -----------------------------------------------------------------------
# Before: the accounts failed with that key were never retried (only a new change or a new key
# requeued them), and "Push now" / --all ignored the gate.
def test_a_401_burst_that_ends_requeues_every_account_and_probes_once_a_probe_interval(
    fake_vitally, manager, settings
):
    settings.VITALLY_KEY_PROBE_SECONDS = 2.0
    first = linked(fake_vitally, manager)
    second = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    fake_vitally.auth_fail_next = 1
    with worker():
        tasks.sweep.delay()
        assert wait_for(lambda: badge(first) == "failed" and badge(second) == "failed")
        refused_at = time.time()
        assert VitallyKey.objects.get(pk=sync_config().key_fingerprint).auth_error
        # Forced pushes respect the refusal: no request.
        sync_push_request(account=first, actor=manager)
        time.sleep(0.5)
        sent_while_refused = [
            e for e in fake_vitally.requests_log() if e["at"] > refused_at and e["status"] != 401
        ]
        assert [e for e in sent_while_refused if e["method"] == "PUT"] == []
        # The burst is over (it was one 401); the probe finds out within its interval.
        assert wait_for(lambda: synced(first) and synced(second), beat=True, timeout=20)
    assert badge(first) == badge(second) == "synced"
    assert not VitallyKey.objects.get(pk=sync_config().key_fingerprint).auth_error
    probes = fake_vitally.requests_log(path_prefix="/resources/customFields")
    assert len(probes) == 1  # one probe, not a storm
    assert probes[0]["at"] - refused_at >= 1.0  # and not before its interval (2 s)
    assert vitally_equals_portal(fake_vitally, "acme-robotics", first)
    assert vitally_equals_portal(fake_vitally, "borealis-bank", second)


def test_a_refused_key_holds_every_push_until_a_probe_succeeds(fake_vitally, manager, settings):
    settings.VITALLY_KEY_PROBE_SECONDS = 1.0
    fake_vitally.api_key = "sk_revoked_in_vitally"
    account = linked(fake_vitally, manager)
    with worker():
        assert wait_for(lambda: badge(account) == "failed", beat=True)
        for _ in range(12):  # three seconds of beat, and edits keep coming
            tasks.sweep.delay()
            time.sleep(0.25)
        set_phase(account, manager, "ready_for_handoff")
        sync_push_request(account=account, actor=manager)
        time.sleep(1)
        puts = fake_vitally.puts()
        probes = fake_vitally.requests_log(path_prefix="/resources/customFields")
        assert len(puts) == 1  # the first refusal; nothing else was pushed with the key
        assert 1 <= len(probes) <= 5  # at most one a second over about four seconds
        fake_vitally.api_key = TEST_KEY  # the key works again (restored in Vitally)
        assert wait_for(lambda: synced(account) and badge(account) == "synced", beat=True)
    assert vitally_equals_portal(fake_vitally, "acme-robotics", account)


# 3. A long 429 across a Redis restart and a killed worker ---------------------------------------
# Before: only the process that received the 429 remembered it; with Redis emptied and that
# worker killed, the next worker sent before the wait ended.
def test_a_long_429_survives_a_redis_restart_and_a_killed_worker(fake_vitally, manager, settings):
    first = linked(fake_vitally, manager)
    second = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    fake_vitally.rate_limit_next = 1
    fake_vitally.rate_limit_retry_after = 6.0
    doomed = worker_process(fake_vitally, settings)
    try:
        tasks.sweep.delay()
        assert wait_for(lambda: fake_vitally.rate_limit_wait_remaining() > 0, timeout=60)
        assert wait_for(lambda: SyncAttempt.objects.filter(outcome="rate_limited").exists())
        os.killpg(doomed.pid, signal.SIGKILL)  # the only process that heard the 429
        doomed.wait(10)
    finally:
        if doomed.poll() is None:
            os.killpg(doomed.pid, signal.SIGKILL)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # Redis restarted: it keeps nothing
    services.limiter_get(settings.REDIS_URL).reset()  # and this process never heard it
    set_phase(second, manager, "ready_for_handoff")  # an edit during the wait
    with worker():
        assert wait_for(lambda: synced(first) and synced(second), beat=True, timeout=60)
    assert fake_vitally.early_requests() == []  # nobody called before the wait ended
    assert vitally_equals_portal(fake_vitally, "acme-robotics", first)
    assert vitally_equals_portal(fake_vitally, "borealis-bank", second)


# 4. A hand edit in Vitally -----------------------------------------------------------------------
# Before: every push sent every trait, so the next unrelated change overwrote the hand edit.
def test_an_unrelated_edit_never_overwrites_a_hand_edit_in_vitally(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    cpu = "vitally.custom.totalCpu"
    with worker():
        assert wait_for(lambda: synced(account))
        fake_vitally.hand_edit("acme-robotics", {cpu: 96})  # a TA corrects it in Vitally
        set_phase(account, manager, "ready_for_handoff")
        assert wait_for(lambda: synced(account), beat=True)
    traits = fake_vitally.account_get("acme-robotics")["traits"]
    assert traits[PHASE] == "Handoff requested"
    assert traits[cpu] == 96  # still the person's value
    assert fake_vitally.puts()[-1]["body"]["traits"] == {PHASE: "Handoff requested"}
