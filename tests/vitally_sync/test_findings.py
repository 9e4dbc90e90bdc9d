"""Issue 11's findings from reading the code, each driven directly against the fake over HTTP
(no worker): fencing, per-account isolation, quarantine, configuration changes, error bodies."""

import datetime
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from handoff.accounts.services import account_create
from tests.vitally_sync.conftest import as_stored, portal_traits
from vitally_sync import selectors, services
from vitally_sync.conf import sync_config
from vitally_sync.fake import Scripted
from vitally_sync.models import AccountSync
from vitally_sync.selectors import sync_badge
from vitally_sync.services import (
    Outcome,
    sync_account_push,
    sync_claim,
    sync_claimed_push,
    sync_sweep,
)

pytestmark = pytest.mark.django_db
PHASE = "vitally.custom.handoffStatus"


def linked(fake, actor, name="Acme Robotics", vitally_id="acme-robotics"):
    fake.account_create(external_id=vitally_id, name=name)
    return account_create(actor=actor, name=name, vitally_account_id=vitally_id)


def state(account) -> AccountSync:
    return AccountSync.objects.select_related("account").get(pk=account.pk)


def badge_of(account) -> str:
    sync = state(account)
    return sync_badge(account=sync.account, sync=sync, config=sync_config()).state


@pytest.mark.django_db(transaction=True)  # the thief works on its own connection
def test_an_acknowledgement_after_the_lease_was_lost_asks_for_a_full_push(fake_vitally, manager):
    """Another worker may have been acknowledged while this (older) PUT was on the wire: the
    late acknowledgement must not be dropped silently but lead to a full push."""
    account = linked(fake_vitally, manager)
    fake_vitally.latency_ms = 600
    claim = sync_claim(config=sync_config(), account_id=account.pk)

    def steal():  # the lease lapses and someone else claims the account mid-request
        time.sleep(0.3)
        AccountSync.objects.filter(pk=account.pk).update(lease_token=uuid.uuid4())

    thief = threading.Thread(target=steal)
    thief.start()
    report = sync_claimed_push(claim=claim)
    thief.join()
    assert report.outcome is Outcome.SKIPPED and report.requests == 1
    assert "full push follows" in report.message
    sync = state(account)
    assert sync.push_requested and sync.acked_version == 0
    fake_vitally.latency_ms = 0
    AccountSync.objects.filter(pk=account.pk).update(lease_token=None, lease_until=None)
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert fake_vitally.puts()[-1]["body"]["traits"] == portal_traits(account)  # everything
    assert not state(account).push_requested and badge_of(account) == "synced"


def test_leases_are_on_the_database_clock_not_the_hosts(fake_vitally, manager, monkeypatch):
    """A host whose clock runs two hours ahead must not see a live lease as lapsed."""
    account = linked(fake_vitally, manager)
    config = sync_config()
    assert sync_claim(config=config, account_id=account.pk) is not None
    ahead = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(services.timezone, "now", lambda: ahead)
    assert sync_claim(config=config, account_id=account.pk, force=True) is None
    lease_until = AccountSync.objects.get(pk=account.pk).lease_until
    assert lease_until < timezone.now() + timedelta(seconds=config.lease_seconds + 5)


def test_one_account_that_raises_never_stops_a_sweep(fake_vitally, manager, monkeypatch):
    broken = linked(fake_vitally, manager, "Aardvark Broken", "aardvark")  # claimed first
    fine = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    real = selectors.portal_values_get

    def values(*, account_id):
        if account_id == broken.pk:
            raise ZeroDivisionError("a bug in one record")
        return real(account_id=account_id)

    monkeypatch.setattr(services, "portal_values_get", values)
    report = sync_sweep(budget=5)
    assert report.outcomes == {"pushed": 1, "retrying": 1}
    assert badge_of(fine) == "synced"
    sync = state(broken)
    assert sync.status == "retrying" and sync.attempts == 1
    assert "ZeroDivisionError: a bug in one record" in sync.last_error
    assert sync.lease_token is None and sync.next_attempt_at is not None  # released, later
    assert badge_of(broken) == "retrying"


def test_repeated_failures_put_the_account_in_quarantine_retried_hourly(
    fake_vitally, manager, settings
):
    settings.VITALLY_QUARANTINE_AFTER = 3
    account = linked(fake_vitally, manager)
    fake_vitally.script(Scripted(503), Scripted(500), Scripted(502))
    for _ in range(3):
        AccountSync.objects.filter(pk=account.pk).update(next_attempt_at=None)
        sync_account_push(account_id=account.pk)
    sync = state(account)
    assert sync.status == "attention" and sync.attempts == 3
    assert sync.next_attempt_at > timezone.now() + timedelta(minutes=59)
    assert badge_of(account) == "attention"
    assert sync_claim(config=sync_config()) is None  # not before the hour
    # By hand ("Push now") it goes at once, and a success clears the quarantine.
    services.sync_push_request(account=account, actor=manager)
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert badge_of(account) == "synced" and state(account).attempts == 0


def test_a_changed_trait_map_makes_every_account_due_and_deletes_the_old_key_once(
    fake_vitally, manager, settings
):
    first = linked(fake_vitally, manager)
    second = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    assert sync_sweep(budget=5).outcomes == {"pushed": 2}
    assert sync_sweep(budget=5).outcomes == {}
    settings.VITALLY_TRAIT_MAP = {"handoff_status": "vitally.custom.phase"}
    assert badge_of(first) == "pending"  # not synced under the new map
    assert sync_sweep(budget=5).outcomes == {"pushed": 2}
    for vitally_id, account in (("acme-robotics", first), ("borealis-bank", second)):
        sent = fake_vitally.puts(vitally_id)[-1]["body"]["traits"]
        assert sent == {"vitally.custom.phase": "Implementation", PHASE: None}
        traits = fake_vitally.account_get(vitally_id)["traits"]
        assert traits == as_stored(portal_traits(account)) and PHASE not in traits
    assert sync_sweep(budget=5).outcomes == {}  # the old key is not sent again


def test_a_changed_value_format_makes_every_account_due(fake_vitally, manager, monkeypatch):
    import dataclasses

    from handoff import registry
    from vitally_sync import payloads

    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    # The phase written another way (a format of its own, upper case).
    monkeypatch.setitem(payloads.FORMATS, "upper", lambda v: str(v).upper() if v else None)
    closeout = registry._contributions["closeout"]
    (phase,) = closeout.vitally_traits
    upper = dataclasses.replace(phase, format="upper")
    monkeypatch.setitem(
        registry._contributions, "closeout", dataclasses.replace(closeout, vitally_traits=(upper,))
    )
    assert badge_of(account) == "pending"
    assert sync_sweep(budget=5).outcomes == {"pushed": 1}
    assert fake_vitally.account_get("acme-robotics")["traits"][PHASE] == "IMPLEMENTATION"


def test_a_2xx_with_an_error_body_is_not_an_acknowledgement(fake_vitally, manager):
    account = linked(fake_vitally, manager)
    fake_vitally.error_body_next = 1
    report = sync_account_push(account_id=account.pk)
    assert report.outcome is Outcome.RETRYING
    assert "Vitally answered 200 with an error" in state(account).last_error
    assert badge_of(account) == "retrying"
    AccountSync.objects.filter(pk=account.pk).update(next_attempt_at=None)
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert badge_of(account) == "synced"


def test_a_403_is_a_state_of_the_key_and_a_404_stays_on_the_account(fake_vitally, manager):
    missing = account_create(actor=manager, name="Missing Co", vitally_account_id="missing")
    assert sync_account_push(account_id=missing.pk).outcome is Outcome.ATTENTION
    assert "Vitally has no account “missing”" in state(missing).last_error
    account = linked(fake_vitally, manager)
    fake_vitally.script(Scripted(403, body={"error": "Forbidden"}))
    assert sync_account_push(account_id=account.pk).outcome is Outcome.FAILED
    assert badge_of(account) == "failed" and badge_of(missing) == "attention"
    other = linked(fake_vitally, manager, "Borealis Bank", "borealis-bank")
    before = len(fake_vitally.requests_log())
    assert sync_account_push(account_id=other.pk).outcome is Outcome.FAILED  # no request
    assert len(fake_vitally.requests_log()) == before


def test_a_sync_row_created_before_the_known_state_has_unknown_traits(fake_vitally, manager):
    """A row with nothing acknowledged (an old row, or a new one) sends every trait."""
    account = linked(fake_vitally, manager)
    AccountSync.objects.create(account=account, acked_version=0, acked_traits=None)
    sync_account_push(account_id=account.pk)
    assert fake_vitally.puts()[-1]["body"]["traits"] == portal_traits(account)
    assert isinstance(state(account).synced_through, datetime.datetime)


def test_an_open_difference_holds_its_trait_even_against_a_full_push(fake_vitally, manager):
    """The walk-through found "Push now" overwriting a field changed in Vitally while the
    panel promised to leave it until someone decides. An edit of that field in the portal is
    such a decision: then the portal's new value goes out and the difference closes."""
    from vitally_sync.models import TraitDifference
    from vitally_sync.reconcile import reconcile_pass

    account = linked(fake_vitally, manager)
    sync_account_push(account_id=account.pk)
    fake_vitally.hand_edit("acme-robotics", {PHASE: "Live (edited in Vitally)"})
    reconcile_pass(account_ids=[account.pk], due_only=False)
    assert state(account).differences == 1
    assert badge_of(account) == "differs"

    services.sync_push_request(account=account, actor=manager)  # Push now: a full push
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert PHASE not in fake_vitally.puts()[-1]["body"]["traits"]
    assert fake_vitally.account_get("acme-robotics")["traits"][PHASE] == "Live (edited in Vitally)"
    assert badge_of(account) == "differs"

    from tests.phases import phase_move

    phase_move(account=account, actor=manager, to="ready_for_handoff")  # decided in the portal
    assert sync_account_push(account_id=account.pk).outcome is Outcome.PUSHED
    assert fake_vitally.account_get("acme-robotics")["traits"][PHASE] == "Handoff requested"
    assert not TraitDifference.objects.filter(account=account).exists()
    assert state(account).differences == 0 and badge_of(account) == "synced"
