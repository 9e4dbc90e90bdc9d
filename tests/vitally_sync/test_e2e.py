"""End to end, the issue's seven fault tests: real Redis broker, a real Celery worker on the test
database, the fake Vitally on loopback. The helper `wait_for(..., beat=True)` sends the sweeper
task every 0.25 s, as beat does every VITALLY_SWEEP_SECONDS in production. Every timing
assertion uses the fake's own request log, never the test's wall clock."""

import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.accounts.services import account_create, account_update
from handoff.celery import app
from handoff.common.services import ANY_VERSION
from tests.phases import phase_move
from tests.vitally_sync.conftest import TEST_KEY, assert_vitally_has, free_port
from vitally_sync import tasks
from vitally_sync.conf import sync_config
from vitally_sync.fake import Scripted
from vitally_sync.models import AccountSync, SyncAttempt
from vitally_sync.selectors import sync_badge

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
KOMBU_UNACKED = ("unacked", "unacked_index", "unacked_mutex")


@pytest.fixture(autouse=True)
def clean_broker(settings):
    """Kicks queued by earlier tests (or a killed worker's unacked message) must not reach
    this test's worker. Only this test run's Redis database is touched."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.control.purge()
    broker.delete(*KOMBU_UNACKED)
    yield
    app.control.purge()
    broker.delete(*KOMBU_UNACKED)


@contextmanager
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
        yield


def wait_for(predicate, *, timeout: float = 40, beat: bool = False) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if beat:
            tasks.sweep.delay()
        time.sleep(0.25)
    return predicate()


def linked(fake, actor, name="Acme Robotics", vitally_id="acme-robotics") -> Account:
    fake.account_create(external_id=vitally_id, name=name)
    return account_create(actor=actor, name=name, vitally_account_id=vitally_id)


def synced(account: Account) -> bool:
    sync = AccountSync.objects.select_related("account").filter(pk=account.pk).first()
    return sync is not None and sync.acked_version == sync.account.change_version


def badge(account: Account) -> str:
    account = Account.objects.select_related("vitally_sync").get(pk=account.pk)
    sync = AccountSync.objects.filter(pk=account.pk).first()
    return sync_badge(account=account, sync=sync, config=sync_config()).state


def worker_process(fake, settings, **env) -> subprocess.Popen:
    """A Celery worker as a process of its own (so a test can SIGKILL it), on the test
    database, pointed at the fake, with the test's sync timings (a killed worker's lease must
    lapse on the test's clock, not production's minute); `env` overrides settings."""
    db = connection.settings_dict
    timings = {
        name: str(getattr(settings, name))
        for name in (
            "VITALLY_RATE_LIMIT_PER_MINUTE",
            "VITALLY_CONNECT_TIMEOUT",
            "VITALLY_READ_TIMEOUT",
            "VITALLY_BACKOFF_BASE_SECONDS",
            "VITALLY_BACKOFF_CAP_SECONDS",
            "VITALLY_LEASE_SECONDS",
            "VITALLY_COALESCE_SECONDS",
        )
    }
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "VITALLY_BASE_URL": fake.url,
        "VITALLY_API_KEY": TEST_KEY,
        **timings,
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "handoff", "worker", "--pool=solo",
         "--without-mingle", "--without-gossip", "--loglevel=WARNING", "-n", "doomed@%h"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def set_phase(account: Account, actor, phase: str) -> None:
    phase_move(account=account, actor=actor, to=phase)


# 1 ----------------------------------------------------------------------------------------------
def test_broker_down_at_commit_the_edit_saves_and_the_sweeper_pushes_it_later(
    fake_vitally, manager, client, caplog
):
    account = linked(fake_vitally, manager)
    port = free_port()  # nothing listens here yet: the broker is down
    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app._after_fork()  # forget pooled connections to the previous broker
    broker = None
    try:
        client.force_login(manager)
        with caplog.at_level(logging.WARNING):
            # The phase moves through the handoff workflow: "Request handoff".
            response = client.post(reverse("closeout:handoff_request", args=[account.pk]))
        assert response.status_code == 302  # saved; the person sees no error
        assert Account.objects.get(pk=account.pk).phase == "ready_for_handoff"
        assert "Could not queue the Vitally push" in caplog.text
        assert badge(account) == "pending"  # the durable intent is in PostgreSQL

        broker = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(lambda: _redis_up(port), timeout=10)
        app._after_fork()
        with worker():
            assert wait_for(lambda: synced(account), beat=True)
        assert_vitally_has(fake_vitally, "acme-robotics", account, phase="Handoff requested")
        assert badge(account) == "synced"
    finally:
        app.conf.broker_url = original
        app._after_fork()
        if broker is not None:
            broker.terminate()
            broker.wait(10)


def _redis_up(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_connect_timeout=0.2).ping()
    except redis.ConnectionError:
        return False


# 2 ----------------------------------------------------------------------------------------------
def test_worker_killed_mid_push_loses_nothing(fake_vitally, manager, settings):
    settings.VITALLY_LEASE_SECONDS = 4.0
    account = linked(fake_vitally, manager)
    fake_vitally.latency_ms = 2000  # the PUT is on the wire when the worker dies
    doomed = worker_process(fake_vitally, settings, VITALLY_LEASE_SECONDS="4")
    try:
        set_phase(account, manager, "ready_for_handoff")  # the kick this worker takes
        assert wait_for(lambda: len(fake_vitally.arrivals) == 1, timeout=60)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
    finally:
        if doomed.poll() is None:
            os.killpg(doomed.pid, signal.SIGKILL)
    fake_vitally.latency_ms = 0
    sync = AccountSync.objects.get(pk=account.pk)
    assert sync.lease_until is not None  # the dead worker's claim, left behind
    assert not synced(account)
    set_phase(account, manager, "handed_off")  # and a change while no worker runs

    with worker():
        assert wait_for(lambda: synced(account), beat=True)
    assert_vitally_has(fake_vitally, "acme-robotics", account, phase="Handed off")
    assert len(fake_vitally.puts("acme-robotics")) == 2  # the lost one, then the re-push


# 3 ----------------------------------------------------------------------------------------------
def test_429_with_retry_after_means_no_request_from_anyone_before_it_ends(fake_vitally, manager):
    first = linked(fake_vitally, manager)
    second = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    fake_vitally.script(Scripted(429, {"Retry-After": "2"}))
    with worker():
        set_phase(first, manager, "handed_off")
        assert wait_for(lambda: fake_vitally.puts(), timeout=20)
        set_phase(second, manager, "handed_off")  # another account, during the pause
        assert wait_for(lambda: synced(first) and synced(second), beat=True)
    puts = fake_vitally.puts()
    assert puts[0]["status"] == 429
    later = puts[1:]
    assert later and all(p["status"] == 200 for p in later)
    assert min(p["at"] for p in later) - puts[0]["at"] >= 2.0
    assert len(fake_vitally.requests_log()) == len(puts)  # no other call either
    assert SyncAttempt.objects.filter(outcome="rate_limited").count() == 1


# 4 ----------------------------------------------------------------------------------------------
def test_a_hundred_rapid_edits_become_at_most_three_puts_of_the_final_state(
    fake_vitally, manager, settings
):
    settings.VITALLY_COALESCE_SECONDS = 2.0  # the default
    account = linked(fake_vitally, manager)
    phases = ["ready_for_handoff", "handed_off", "implementation"]
    with worker():
        assert wait_for(lambda: synced(account))  # the creation's own push
        before = len(fake_vitally.puts())
        for n in range(100):
            set_phase(account, manager, phases[n % 3])
        assert wait_for(lambda: synced(account), beat=True)
    burst_puts = len(fake_vitally.puts()) - before
    assert 1 <= burst_puts <= 3
    final = Account.Phase(phases[99 % 3])
    assert Account.objects.get(pk=account.pk).phase == final
    assert_vitally_has(fake_vitally, "acme-robotics", account, phase=final.label)


# 5 ----------------------------------------------------------------------------------------------
def test_5xx_twice_then_200_is_pushed_with_the_attempts_recorded(fake_vitally, manager):
    fake_vitally.script(Scripted(500), Scripted(502))
    with worker():
        account = linked(fake_vitally, manager)
        assert wait_for(lambda: synced(account), beat=True)
    assert [p["status"] for p in fake_vitally.puts()] == [500, 502, 200]
    attempts = SyncAttempt.objects.filter(account=account).order_by("at", "id")
    assert [(a.outcome, a.http_status) for a in attempts] == [
        ("transient", 500),
        ("transient", 502),
        ("pushed", 200),
    ]
    sync = AccountSync.objects.get(pk=account.pk)
    assert sync.status == "synced" and sync.attempts == 0
    assert sync.last_error == "Vitally had an error (HTTP 502)."  # kept for the panel
    assert badge(account) == "synced"


# 6 ----------------------------------------------------------------------------------------------
def test_401_fails_with_the_message_and_no_retry_storm(fake_vitally, manager):
    fake_vitally.api_key = "sk_rotated_in_vitally"
    with worker():
        account = linked(fake_vitally, manager)
        assert wait_for(lambda: badge(account) == "failed")
        other = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
        set_phase(account, manager, "handed_off")  # edits keep coming
        for _ in range(12):  # three seconds of beat
            tasks.sweep.delay()
            time.sleep(0.25)
        assert wait_for(lambda: badge(other) == "failed" and badge(account) == "failed")
    assert len(fake_vitally.requests_log()) == 1
    sync = AccountSync.objects.get(pk=account.pk)
    assert sync.last_error.startswith(
        "Vitally refused the API key (HTTP 401): check the Vitally API key."
    )
    assert sync.next_attempt_at is None


# 7 ----------------------------------------------------------------------------------------------
def test_identical_payload_is_not_re_sent_and_the_mapping_override_applies(
    fake_vitally, manager, settings
):
    """Null for cleared fields: this branch's only portal field (the phase) is never empty, so
    test_payloads covers null per field and test_fake that Vitally deletes a trait sent null."""
    settings.VITALLY_TRAIT_MAP = {"handoff_status": "vitally.custom.phase"}
    with worker():
        account = linked(fake_vitally, manager)
        assert wait_for(lambda: synced(account))
        traits = fake_vitally.account_get("acme-robotics")["traits"]
        assert traits["vitally.custom.phase"] == "Implementation"
        assert "vitally.custom.handoffStatus" not in traits
        account_update(
            account=account,
            actor=manager,
            data={"crm_url": "https://crm.example.com/acme-2"},  # not pushed to Vitally
            expected_version=ANY_VERSION,
        )
        assert wait_for(lambda: synced(account))
    assert len(fake_vitally.puts()) == 1
    assert badge(account) == "synced"
