"""The push machinery, driven directly (no worker): claims, acknowledgements, retries, waits."""

import base64
import dataclasses
import datetime
import json
import logging
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.services import account_create, account_update
from handoff.audit.models import AuditEvent
from handoff.common.services import ANY_VERSION
from tests.phases import phase_move
from tests.vitally_sync.conftest import TEST_KEY, assert_vitally_has, free_port, portal_traits
from vitally_sync.conf import sync_config
from vitally_sync.fake import Scripted
from vitally_sync.limiter import limiter_get
from vitally_sync.models import AccountSync, SyncAttempt
from vitally_sync.selectors import sync_badge
from vitally_sync.services import (
    Outcome,
    backoff_seconds,
    client_get,
    sync_account_push,
    sync_claim,
    sync_claimed_push,
    sync_kick,
    sync_push_request,
    sync_sweep,
)

pytestmark = pytest.mark.django_db


def linked(fake, actor, name="Acme Robotics", vitally_id="acme-robotics", *, in_fake=True):
    """A portal account created through the service, and (usually) its Vitally twin."""
    if in_fake:
        fake.account_create(external_id=vitally_id, name=name)
    return account_create(actor=actor, name=name, vitally_account_id=vitally_id)


def state(account: Account) -> AccountSync:
    return AccountSync.objects.select_related("account").get(pk=account.pk)


def badge_of(account: Account) -> str:
    sync = state(account)
    return sync_badge(account=sync.account, sync=sync, config=sync_config()).state


def test_first_push_sends_the_current_state_and_acknowledges_it(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    report = sync_account_push(account_id=account.pk)
    assert (report.outcome, report.requests) == (Outcome.PUSHED, 1)
    assert_vitally_has(fake_vitally, "acme-robotics", account, phase="Implementation")
    sync = state(account)
    assert sync.acked_version == sync.account.change_version
    assert sync.status == AccountSync.Status.SYNCED
    assert sync.acked_traits == portal_traits(account)
    assert sync.acked_traits["vitally.custom.handoffStatus"] == "Implementation"
    assert sync.inflight_traits is None
    assert sync.last_pushed_at is not None and sync.pushed_vitally_id == "acme-robotics"
    assert list(SyncAttempt.objects.values_list("outcome", "http_status")) == [("pushed", 200)]
    assert badge_of(account) == "synced"


def test_an_edit_makes_the_account_pending_until_pushed(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    phase_move(account=account, actor=manager, to="handed_off")
    assert badge_of(account) == "pending"
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert_vitally_has(fake_vitally, "acme-robotics", account, phase="Handed off")
    assert badge_of(account) == "synced"


def test_identical_payload_is_acknowledged_without_a_request(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": datetime.date(2027, 1, 1)},  # not a Vitally field
        expected_version=ANY_VERSION,
    )
    report = sync_account_push(account_id=account.pk)
    assert (report.outcome, report.requests) == (Outcome.UNCHANGED, 0)
    assert len(fake_vitally.puts()) == 1
    sync = state(account)
    assert sync.acked_version == sync.account.change_version
    assert badge_of(account) == "synced"


def test_a_new_vitally_id_re_sends_the_same_traits_to_the_new_account(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    fake_vitally.account_create(external_id="acme-eu", name="Acme EU")
    account_update(
        account=account,
        actor=manager,
        data={"vitally_account_id": "acme-eu"},
        expected_version=ANY_VERSION,
    )
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert_vitally_has(fake_vitally, "acme-eu", account, phase="Implementation")


def test_the_trait_map_override_changes_the_key_sent(fake_vitally, manager, settings):
    settings.VITALLY_TRAIT_MAP = {"handoff_status": "vitally.custom.phase"}
    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    traits = fake_vitally.account_get("acme-robotics")["traits"]
    assert traits["vitally.custom.phase"] == "Implementation"
    assert "vitally.custom.handoffStatus" not in traits


def test_push_now_sends_even_unchanged_values_and_is_audited(
    fake_vitally, manager, django_capture_on_commit_callbacks
):
    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        sync_push_request(account=account, actor=manager)
    assert len(callbacks) == 1  # the kick, queued for after the commit
    assert badge_of(account) == "pending"
    report = sync_account_push(account_id=account.pk)
    assert (report.outcome, report.requests) == (Outcome.PUSHED, 1)
    assert len(fake_vitally.puts()) == 2
    assert state(account).push_requested is False
    event = AuditEvent.objects.get(action=AuditEvent.Kind.ACTION)
    assert event.actor == manager and event.message == "Asked for a push to Vitally now."


class EditDuringRequest:
    """Wraps the real client: someone saves the account while the PUT is on the wire."""

    def __init__(self, client, account, actor):
        self.client, self.account, self.actor, self.done = client, account, actor, False

    def account_update(self, **kwargs):
        result = self.client.account_update(**kwargs)
        if not self.done:
            self.done = True
            phase_move(account=self.account, actor=self.actor, to="ready_for_handoff")
        return result


def test_only_the_pushed_version_is_acknowledged(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    config = sync_config()
    client = EditDuringRequest(client_get(config), account, manager)
    claim = sync_claim(config=config, account_id=account.pk)
    pushed_version = Account.objects.get(pk=account.pk).change_version
    report = sync_claimed_push(claim=claim, config=config, client=client, budget=0)
    assert report.outcome is Outcome.PUSHED
    sync = state(account)
    assert sync.acked_version == pushed_version
    assert sync.account.change_version == pushed_version + 1
    assert badge_of(account) == "pending"  # the later change still has to go


def test_changes_landing_during_the_request_go_out_in_the_same_claim(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    config = sync_config()
    client = EditDuringRequest(client_get(config), account, manager)
    claim = sync_claim(config=config, account_id=account.pk)
    report = sync_claimed_push(claim=claim, config=config, client=client)
    assert report.requests == 2
    assert_vitally_has(fake_vitally, "acme-robotics", account, phase="Handoff requested")
    assert badge_of(account) == "synced"


def test_coalescing_waits_out_the_window_before_the_next_put(fake_vitally, manager, settings):
    settings.VITALLY_COALESCE_SECONDS = 0.4
    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    phase_move(account=account, actor=manager, to="handed_off")
    config = sync_config()
    slept = []
    claim = sync_claim(config=config, account_id=account.pk)
    report = sync_claimed_push(
        claim=claim, config=config, sleep=lambda s: slept.append(s) or __import__("time").sleep(s)
    )
    assert report.outcome is Outcome.PUSHED
    assert len(slept) == 1 and 0 < slept[0] <= 0.4


def test_5xx_backs_off_with_jitter_then_pushes(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    fake_vitally.script(Scripted(502))
    before = timezone.now()
    report = sync_account_push(account_id=account.pk)
    assert report.outcome is Outcome.RETRYING
    sync = state(account)
    assert sync.status == AccountSync.Status.RETRYING and sync.attempts == 1
    assert before <= sync.next_attempt_at <= timezone.now() + timedelta(seconds=0.2)
    assert sync.last_error == "Vitally had an error (HTTP 502)."
    assert badge_of(account) == "retrying"
    AccountSync.objects.filter(pk=account.pk).update(next_attempt_at=timezone.now())
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert list(SyncAttempt.objects.order_by("at", "id").values_list("outcome", "http_status")) == [
        ("transient", 502),
        ("pushed", 200),
    ]
    assert state(account).attempts == 0


def test_an_account_waiting_for_its_backoff_is_not_claimed(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    AccountSync.objects.create(
        account=account, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert sync_claim(config=sync_config(), account_id=account.pk) is None
    assert sync_account_push(account_id=account.pk).outcome is Outcome.SKIPPED
    assert fake_vitally.puts() == []


@pytest.mark.parametrize("attempts", [1, 2, 5, 30])
def test_backoff_is_full_jitter_under_an_exponential_ceiling_and_a_cap(attempts):
    ceiling = min(600, 2 * 2 ** (attempts - 1))
    delays = [backoff_seconds(attempts=attempts, base=2, cap=600) for _ in range(200)]
    assert all(0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling / 2  # spread over the range, not a fixed delay


def test_429_pauses_every_push_until_the_wait_ends(fake_vitally, manager):
    first = linked(fake_vitally, manager)
    second = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    fake_vitally.script(Scripted(429, {"Retry-After": "3"}))
    report = sync_account_push(account_id=first.pk)
    assert report.outcome is Outcome.RATE_LIMITED
    assert 2.75 < limiter_get(sync_config().redis_url).paused_for() <= 3.25  # with the margin
    sync = state(first)
    assert sync.status == AccountSync.Status.RETRYING
    assert sync.next_attempt_at >= timezone.now() + timedelta(seconds=2.5)
    config = sync_config()
    claim = sync_claim(config=config, account_id=second.pk)
    other = sync_claimed_push(claim=claim, config=config, max_wait=0.5)
    assert other.outcome is Outcome.DEFERRED and other.limited
    assert len(fake_vitally.puts()) == 1  # nobody called Vitally during the pause
    assert state(second).next_attempt_at > timezone.now() + timedelta(seconds=2)


def test_a_429_attempt_records_when_it_was_sent_and_the_wait_it_announced(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    fake_vitally.script(Scripted(429, {"Retry-After": "3"}))
    before = timezone.now()
    sync_account_push(account_id=account.pk)
    attempt = SyncAttempt.objects.get(account=account)
    assert attempt.outcome == SyncAttempt.Outcome.RATE_LIMITED
    assert attempt.wait_seconds == 3
    assert before <= attempt.at <= attempt.answered_at == state(account).last_attempt_at


class PausedAfterTheSlot:
    """A limiter where another worker gets a 429 just after this one took its slot."""

    def __init__(self, limiter):
        self.limiter = limiter

    def try_acquire(self, *, per_minute):
        granted = self.limiter.try_acquire(per_minute=per_minute)
        self.limiter.pause(4)  # the other worker's 429 lands now
        return granted

    def __getattr__(self, name):
        return getattr(self.limiter, name)


def test_a_429_that_lands_after_the_slot_was_taken_still_stops_the_request(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    config = sync_config()
    claim = sync_claim(config=config, account_id=account.pk)
    limiter = PausedAfterTheSlot(limiter_get(config.redis_url))
    report = sync_claimed_push(claim=claim, config=config, limiter=limiter)
    assert report.outcome is Outcome.DEFERRED and report.limited
    assert fake_vitally.puts() == []  # checked again just before sending
    assert state(account).next_attempt_at > timezone.now() + timedelta(seconds=3)


def test_401_fails_with_the_key_message_and_stops_other_accounts_calling(
    fake_vitally, manager, settings
):
    fake_vitally.api_key = "sk_rolled"
    first = linked(fake_vitally, manager)
    second = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    report = sync_account_push(account_id=first.pk)
    assert report.outcome is Outcome.FAILED and report.requests == 1
    sync = state(first)
    assert sync.status == AccountSync.Status.FAILED
    assert "check the Vitally API key" in sync.last_error
    assert badge_of(first) == "failed"
    # Another account: same verdict, no request (no 401 storm).
    assert sync_account_push(account_id=second.pk).outcome is Outcome.FAILED
    assert "check the Vitally API key" in state(second).last_error
    # The failed account is not retried blindly by the sweeper.
    assert sync_claim(config=sync_config()) is None
    assert len(fake_vitally.requests_log()) == 1
    # Fixing the key lifts the failure for every account it caused.
    settings.VITALLY_API_KEY = "sk_rolled"
    assert badge_of(first) == "pending"
    assert sync_sweep(budget=5).outcomes == {"pushed": 2}
    assert badge_of(first) == badge_of(second) == "synced"


def test_404_needs_attention_until_the_vitally_id_is_fixed(fake_vitally, manager):
    account = linked(fake_vitally, manager, vitally_id="acme-typo", in_fake=False)
    report = sync_account_push(account_id=account.pk)
    assert report.outcome is Outcome.ATTENTION
    assert "Vitally has no account “acme-typo” (HTTP 404)" in state(account).last_error
    assert badge_of(account) == "attention"
    # Retried hourly, not at once.
    assert state(account).next_attempt_at > timezone.now() + timedelta(minutes=59)
    assert sync_account_push(account_id=account.pk).outcome is Outcome.SKIPPED
    fake_vitally.account_create(external_id="acme-robotics", name="Acme")
    account_update(
        account=account,
        actor=manager,
        data={"vitally_account_id": "acme-robotics"},
        expected_version=ANY_VERSION,
    )
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert badge_of(account) == "synced"


def test_push_now_retries_a_failed_account_by_hand(fake_vitally, manager):
    account = linked(fake_vitally, manager, vitally_id="acme-typo", in_fake=False)
    sync_account_push(account_id=account.pk)
    fake_vitally.account_create(external_id="acme-typo", name="Acme (created in Vitally)")
    sync_push_request(account=account, actor=manager)
    assert badge_of(account) == "pending"
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED


def test_a_claim_is_exclusive_until_its_lease_lapses(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    config = sync_config()
    stalling = dataclasses.replace(config, lease_seconds=0.3)
    mine = sync_claim(config=stalling, account_id=account.pk)
    assert mine is not None
    assert sync_claim(config=config, account_id=account.pk) is None
    assert sync_claim(config=config, account_id=account.pk, force=True) is None
    time.sleep(0.4)  # the holder stalls (or died) past its lease: someone else takes over
    theirs = sync_claim(config=config, account_id=account.pk)
    assert theirs is not None and theirs.token != mine.token
    # The stalled holder wakes up: it sends nothing and writes nothing.
    assert sync_claimed_push(claim=mine, config=stalling).outcome is Outcome.SKIPPED
    assert fake_vitally.requests_log() == []
    assert sync_claimed_push(claim=theirs, config=config).outcome is Outcome.PUSHED


def test_unlinked_accounts_are_never_pushed(fake_vitally, manager):
    account = account_create(actor=manager, name="Fjord Games")
    assert sync_sweep(budget=2).outcomes == {}
    assert sync_account_push(account_id=account.pk).outcome is Outcome.SKIPPED
    assert not AccountSync.objects.exists()
    assert fake_vitally.requests_log() == []


def test_sweep_creates_missing_rows_and_pushes_every_due_account(fake_vitally, manager):
    for n in range(3):
        linked(fake_vitally, manager, f"Customer {n}", f"customer-{n}")
    account_create(actor=manager, name="Unlinked")
    report = sync_sweep(budget=5)
    assert report.outcomes == {"pushed": 3} and report.requests == 3
    assert AccountSync.objects.count() == 3
    assert str(sync_sweep(budget=5)) == "Sweep: nothing due (0 requests)."


def test_sync_is_off_without_url_and_key(manager, settings, fake_vitally):
    settings.VITALLY_API_KEY = ""
    account = linked(fake_vitally, manager)
    assert sync_account_push(account_id=account.pk).outcome is Outcome.SKIPPED
    assert not sync_sweep().enabled
    sync = AccountSync.objects.filter(pk=account.pk).first()
    assert sync_badge(account=account, sync=sync, config=sync_config()).label == "Not configured"
    assert fake_vitally.requests_log() == []


def test_the_kick_goes_to_the_broker_on_commit(
    fake_vitally, manager, django_capture_on_commit_callbacks, redis_client
):
    from handoff.celery import app

    app.control.purge()
    with django_capture_on_commit_callbacks(execute=True):
        account = linked(fake_vitally, manager)
    assert redis_client.llen("celery") == 1
    message = json.loads(redis_client.lindex("celery", 0))
    assert message["headers"]["task"] == "vitally_sync.account_push"
    assert json.loads(base64.b64decode(message["body"]))[0] == [account.pk]
    app.control.purge()


def test_a_kick_with_the_broker_down_is_logged_not_raised(settings, caplog):
    from handoff.celery import app

    closed = f"redis://127.0.0.1:{free_port()}/0"
    original = app.conf.broker_url
    app.conf.broker_url = closed
    app._after_fork()  # drop pooled connections to the real broker
    try:
        with caplog.at_level(logging.WARNING):
            assert sync_kick(account_id=12345) is False
    finally:
        app.conf.broker_url = original
        app._after_fork()
    assert "Could not queue the Vitally push of account 12345" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_skip_locked_passes_over_a_row_another_transaction_holds(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    other = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    from vitally_sync.services import sync_rows_ensure

    sync_rows_ensure()
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            AccountSync.objects.select_for_update().get(pk=account.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        claim = sync_claim(config=sync_config())  # does not wait for the locked row
        assert claim is not None and claim.account_id == other.pk
    finally:
        release.set()
        holder.join()


def test_a_real_push_never_logs_or_stores_the_key_or_the_authorization_header(
    fake_vitally, manager, settings, caplog
):
    """The client-level test covers VitallyClient; this one covers the whole push path (claim,
    request, acknowledgement, failure records) with every logger at DEBUG, urllib3 included."""
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "requests", "vitally_sync", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    account = linked(fake_vitally, manager)
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    # A failed push (5xx) and a refused key (401) record errors: they must not carry it either.
    fake_vitally.script(Scripted(500))
    second = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    assert sync_account_push(account_id=second.pk).outcome is Outcome.RETRYING
    fake_vitally.api_key = "sk_rolled"
    third = linked(fake_vitally, manager, "Cobalt Health", "cobalt-health")
    assert sync_account_push(account_id=third.pk).outcome is Outcome.FAILED

    # The pushes were logged (so the capture works), urllib3's connection lines included.
    assert "-> 200" in caplog.text and "-> 500" in caplog.text and "-> 401" in caplog.text
    assert "Starting new HTTP connection" in caplog.text
    secrets = []
    for key in (TEST_KEY, "sk_rolled"):
        secrets += [key, base64.b64encode(f"{key}:".encode()).decode()]
    stored = json.dumps(
        [
            list(AccountSync.objects.values()),
            list(SyncAttempt.objects.values()),
            list(AuditEvent.objects.values("message", "changes")),
        ],
        default=str,
    )
    for secret in [*secrets, "Authorization:", "Basic "]:
        assert secret not in caplog.text, secret
        assert secret not in stored, secret


class RedisDownOnPause:
    """The limiter when Redis goes away between the request and the 429's answer."""

    def __init__(self, limiter):
        self.limiter = limiter

    def pause(self, seconds):
        import redis

        raise redis.ConnectionError("Redis is down")

    def __getattr__(self, name):
        return getattr(self.limiter, name)


def test_a_429_is_recorded_even_when_the_pause_cannot_be_shared(fake_vitally, manager, caplog):
    # An in-process Celery worker started by an earlier test may leave the root logger at ERROR.
    caplog.set_level(logging.WARNING, logger="vitally_sync.services")
    account = linked(fake_vitally, manager)
    fake_vitally.script(Scripted(429, {"Retry-After": "3"}))
    config = sync_config()
    claim = sync_claim(config=config, account_id=account.pk)
    limiter = RedisDownOnPause(limiter_get(config.redis_url))
    report = sync_claimed_push(claim=claim, config=config, limiter=limiter)
    assert report.outcome is Outcome.RATE_LIMITED
    attempt = SyncAttempt.objects.get(account=account)
    assert (attempt.outcome, attempt.wait_seconds) == (SyncAttempt.Outcome.RATE_LIMITED, 3)
    assert state(account).next_attempt_at >= timezone.now() + timedelta(seconds=2.5)
    assert "Could not share Vitally's 429 pause" in caplog.text
