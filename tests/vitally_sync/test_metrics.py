"""/metrics: the Vitally sync's numbers, read from PostgreSQL at each scrape."""

import itertools
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from handoff.audit.models import AuditEvent
from handoff.common.services import ANY_VERSION
from tests.factories import AccountFactory
from vitally_sync import metrics
from vitally_sync.conf import sync_config
from vitally_sync.metrics import STATES, metrics_text, request_count_add
from vitally_sync.models import (
    AccountSync,
    RequestCount,
    SyncAttempt,
    TraitDifference,
    VitallyKey,
)
from vitally_sync.selectors import account_sync_of, sync_badge
from vitally_sync.services import ATTEMPTS_KEPT

TOKEN = "metrics-token-for-tests-0123456789"
METRIC_NAMES = (
    "handoff_vitally_oldest_unacknowledged_change_age_seconds",
    "handoff_vitally_accounts",
    "handoff_vitally_requests_total",
    "handoff_vitally_rate_limited_total",
    "handoff_vitally_quarantined_accounts",
    "handoff_vitally_key_refused",
    "handoff_vitally_rate_limit_pause_seconds",
    "handoff_vitally_trait_differences",
)
# The accounts (states, quarantined, oldest change), the request counts, the API key's row,
# the count of differences found in Vitally.
SCRAPE_QUERIES = 4


@pytest.fixture
def sync_on(settings):
    """The sync configured (nothing is sent: these tests only read)."""
    settings.VITALLY_BASE_URL = "https://vitally.invalid"
    settings.VITALLY_API_KEY = "sk_test_portal"
    settings.VITALLY_TRAIT_MAP = ""
    return sync_config()


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, authorization=f"Bearer {TOKEN}"):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.get("/metrics", headers=headers)


def samples(text: str | bytes) -> dict:
    """{(sample name, ((label, value), ...)): value} of an exposition."""
    if isinstance(text, bytes):
        text = text.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(name: str, **labels) -> float:
    return samples(metrics_text())[(name, tuple(sorted(labels.items())))]


def states() -> dict[str, int]:
    found = samples(metrics_text())
    return {
        state: int(found[("handoff_vitally_accounts", (("state", state),))]) for state in STATES
    }


def no_people() -> dict:
    """Accounts without their three people: no password hash per row."""
    return {"implementation_engineer": None, "technical_advisor": None, "manager": None}


def counts() -> dict[str, int]:
    return dict(RequestCount.objects.values_list("outcome", "count"))


# --- The durable request counter -----------------------------------------------------------------
@pytest.mark.django_db
def test_request_count_add_counts_each_outcome():
    for outcome, times in (("pushed", 3), ("rate_limited", 2), ("transient", 1)):
        for _ in range(times):
            request_count_add(outcome)
    request_count_add(SyncAttempt.Outcome.FAILED)  # what services._record_attempt has in hand

    assert counts() == {"pushed": 3, "rate_limited": 2, "transient": 1, "failed": 1}


@pytest.mark.django_db
def test_request_count_add_refuses_an_unknown_outcome():
    with pytest.raises(ValueError, match="Unknown request outcome"):
        request_count_add("unchanged")  # a push outcome, not a request's
    assert counts() == {}


@pytest.mark.django_db
def test_the_counter_keeps_rising_when_attempts_are_pruned(account):
    """Why the counter exists: SyncAttempt keeps only the latest ATTEMPTS_KEPT per account."""
    for _ in range(ATTEMPTS_KEPT + 5):
        SyncAttempt.objects.create(account=account, change_version=1, outcome="pushed")
        request_count_add("pushed")
    SyncAttempt.objects.filter(
        pk__in=SyncAttempt.objects.order_by("at", "id").values("pk")[:5]
    ).delete()

    assert SyncAttempt.objects.count() == ATTEMPTS_KEPT
    assert counts() == {"pushed": ATTEMPTS_KEPT + 5}


@pytest.mark.django_db(transaction=True)
def test_workers_adding_at_once_lose_no_request():
    """Four threads (four connections) add to a counter whose row does not exist yet: the
    first-row race and the increments lose nothing."""
    threads, per_thread = 4, 25
    start = threading.Barrier(threads)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(per_thread):
                request_count_add("transient")
        except Exception as error:  # a thread's exception would not fail the test
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert counts() == {"transient": threads * per_thread}


# --- The endpoint --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert scrape(client, authorization="Bearer ").status_code == 404
    assert client.post("/metrics").status_code == 404  # off: nothing says it exists


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_a_missing_or_wrong_token_gets_a_bare_401(client, token, authorization):
    response = scrape(client, authorization=authorization)

    assert response.status_code == 401
    assert response.content == b""
    assert response["WWW-Authenticate"] == "Bearer"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_right_token_gets_every_metric_without_signing_in(client, token, sync_on):
    response = scrape(client)  # no session: the login-required middleware lets it through

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    for name in METRIC_NAMES:
        assert f"# HELP {name} " in text
        assert f"# TYPE {name} " in text
    assert "# TYPE handoff_vitally_requests_total counter" in text
    assert "# TYPE handoff_vitally_accounts gauge" in text
    assert "python_gc" not in text and "process_" not in text  # no per-process numbers
    assert scrape(client, authorization=f"bearer {TOKEN}").status_code == 200  # scheme: any case


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "delete", "head"])
def test_only_get_is_answered(client, token, method):
    response = getattr(client, method)("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405


# --- What each metric says -----------------------------------------------------------------------
@pytest.mark.django_db
def test_nothing_to_report_is_zero(sync_on):
    found = samples(metrics_text())

    assert found[("handoff_vitally_oldest_unacknowledged_change_age_seconds", ())] == 0
    assert all(count == 0 for count in states().values())
    for outcome in ("pushed", "rate_limited", "transient", "failed"):
        assert found[("handoff_vitally_requests_total", (("outcome", outcome),))] == 0
    assert found[("handoff_vitally_rate_limited_total", ())] == 0
    assert found[("handoff_vitally_quarantined_accounts", ())] == 0
    assert found[("handoff_vitally_key_refused", ())] == 0
    assert found[("handoff_vitally_rate_limit_pause_seconds", ())] == 0


@pytest.mark.django_db
def test_requests_per_outcome_come_from_the_durable_counter(sync_on, account):
    for outcome, times in (("pushed", 7), ("rate_limited", 3), ("transient", 2), ("failed", 1)):
        for _ in range(times):
            request_count_add(outcome)
    SyncAttempt.objects.create(account=account, change_version=1, outcome="pushed")  # not read

    found = samples(metrics_text())
    assert {
        outcome: found[("handoff_vitally_requests_total", (("outcome", outcome),))]
        for outcome in ("pushed", "rate_limited", "transient", "failed")
    } == {"pushed": 7, "rate_limited": 3, "transient": 2, "failed": 1}
    assert found[("handoff_vitally_rate_limited_total", ())] == 3


@pytest.mark.django_db
def test_accounts_per_state_and_quarantined(sync_on):
    config = sync_on

    def linked(status=None, **sync):
        account = AccountFactory(change_version=5, **no_people())
        if status is not None:
            AccountSync.objects.create(
                account=account,
                status=status,
                acked_version=sync.pop("acked_version", 5),
                config_fingerprint=config.fingerprint,
                **sync,
            )
        return account

    linked(AccountSync.Status.SYNCED)
    linked(AccountSync.Status.SYNCED)
    linked(AccountSync.Status.SYNCED, differences=2)  # changed in Vitally: differs
    linked(AccountSync.Status.SYNCED, note_decisions=1)  # a note changed in Vitally: differs
    # A note that waits, and a change not yet acknowledged: pending first.
    linked(AccountSync.Status.SYNCED, acked_version=4, note_decisions=1)
    linked(AccountSync.Status.SYNCED, acked_version=4)  # edited since: pending
    linked()  # no sync row yet: pending
    linked(AccountSync.Status.RETRYING, acked_version=4)
    linked(AccountSync.Status.FAILED, failed_key=config.key_fingerprint, acked_version=4)
    linked(AccountSync.Status.FAILED, failed_key="an-older-key", acked_version=4)  # pending
    linked(AccountSync.Status.ATTENTION, acked_version=4)
    linked(AccountSync.Status.ATTENTION, acked_version=4, failed_version=5)
    # A 4xx, then an edit (maybe the fix): due again, still quarantined until it goes through.
    linked(AccountSync.Status.ATTENTION, acked_version=4, failed_version=4)
    unlinked = AccountFactory(vitally_account_id="", **no_people())
    AccountSync.objects.create(account=unlinked, status=AccountSync.Status.ATTENTION)
    AccountFactory(vitally_account_id="", **no_people())

    assert states() == {
        "not_configured": 0,
        "not_linked": 2,
        "differs": 2,
        "failed": 1,
        "attention": 2,
        "synced": 2,
        "retrying": 1,
        "pending": 5,
    }
    assert value("handoff_vitally_quarantined_accounts") == 3  # linked, "Needs attention"


@pytest.mark.django_db
def test_states_agree_with_the_badge(sync_on):
    """Every combination of what the badge looks at: the metric and sync_badge never differ."""
    config = sync_on
    combinations = itertools.product(
        AccountSync.Status.values,
        (5, 4),  # acked_version: the account's change_version (5), or behind it
        ((1, 1), (2, 1)),  # full_push_asked, full_push_done: a full push asked for or not
        (config.fingerprint, "0ld-trait-map"),
        (config.key_fingerprint, "0ld-api-key"),
        (0, 4, 5),  # failed_version: none, edited since, not edited since
        # differences open, notes that wait for a decision (note_decisions): either says
        # "Differs in Vitally"
        ((0, 0), (1, 0), (0, 2), (1, 1)),
    )
    rows = []
    for status, acked, (asked, done), fingerprint, key, failed_version, (
        open_,
        notes,
    ) in combinations:
        account = AccountFactory(change_version=5, **no_people())
        rows.append(
            AccountSync(
                account=account,
                status=status,
                acked_version=acked,
                full_push_asked=asked,
                full_push_done=done,
                config_fingerprint=fingerprint,
                failed_key=key,
                failed_version=failed_version,
                differences=open_,
                note_decisions=notes,
            )
        )
    for status in AccountSync.Status.values:  # unlinked, with a row left from when it was
        account = AccountFactory(vitally_account_id="", **no_people())
        rows.append(AccountSync(account=account, status=status, differences=1, note_decisions=1))
    AccountSync.objects.bulk_create(rows)
    AccountFactory(**no_people())  # linked, no row yet
    AccountFactory(vitally_account_id="", **no_people())

    def badges() -> dict[str, int]:
        config = sync_config()
        found = Counter(
            sync_badge(account=account, sync=account_sync_of(account), config=config).state
            for account in Account.objects.select_related("vitally_sync")
        )
        return {state: found.get(state, 0) for state in STATES}

    expected = badges()
    assert {state for state, count in expected.items() if count} == set(STATES) - {
        "not_configured"
    }, "the mix must reach every state"
    assert states() == expected


@pytest.mark.django_db
def test_states_when_the_sync_is_off(settings):
    settings.VITALLY_BASE_URL = ""
    AccountFactory(**no_people())
    AccountFactory(vitally_account_id="", **no_people())

    assert states() == {state: 2 if state == "not_configured" else 0 for state in STATES}
    assert {
        sync_badge(account=account, sync=None, config=sync_config()).state
        for account in Account.objects.all()
    } == {"not_configured"}


@pytest.mark.django_db
def test_oldest_unacknowledged_change(sync_on, ie):
    now = timezone.now()

    def ago(minutes):
        return now - timedelta(minutes=minutes)

    def edit(account, minutes_ago):
        """A real edit (audit event, change_version + 1), dated `minutes_ago`."""
        account_update(
            account=account,
            actor=ie,
            data={"name": f"{account.name}."},
            expected_version=ANY_VERSION,
        )
        account.refresh_from_db()
        event = AuditEvent.objects.filter(account=account).latest("id")
        AuditEvent.objects.filter(pk=event.pk).update(created_at=ago(minutes_ago))
        return account

    def age_minutes():
        return value("handoff_vitally_oldest_unacknowledged_change_age_seconds") / 60

    assert age_minutes() == 0

    unlinked = AccountFactory(vitally_account_id="", **no_people())
    edit(unlinked, 90)
    assert age_minutes() == 0, "an unlinked account is never pushed"

    acknowledged = edit(AccountFactory(**no_people()), 80)
    AccountSync.objects.create(
        account=acknowledged,
        status=AccountSync.Status.SYNCED,
        acked_version=acknowledged.change_version,
        synced_through=ago(79),
    )
    assert age_minutes() == 0, "Vitally holds every change"

    never_synced = AccountFactory(**no_people())  # no sync row: its first audit event counts
    edit(never_synced, 50)
    edit(never_synced, 30)
    assert age_minutes() == pytest.approx(50, abs=0.1)

    behind = AccountFactory(**no_people())
    edit(behind, 75)  # before the acknowledged version was read: in Vitally
    AccountSync.objects.create(
        account=behind,
        status=AccountSync.Status.RETRYING,
        acked_version=behind.change_version,
        synced_through=ago(70),
    )
    edit(behind, 60)  # after it: not in Vitally yet
    edit(behind, 40)
    assert age_minutes() == pytest.approx(60, abs=0.1)

    # No audit event after the acknowledged version was read: the account's last change.
    silent = AccountFactory(change_version=3, changed_at=ago(100), **no_people())
    AccountSync.objects.create(account=silent, acked_version=2, synced_through=ago(120))
    assert age_minutes() == pytest.approx(100, abs=0.1)

    # Never synced, no audit event at all: the account's last change as well.
    AccountSync.objects.filter(account=silent).update(synced_through=None)
    assert age_minutes() == pytest.approx(100, abs=0.1)

    AccountSync.objects.filter(account=silent).update(acked_version=3)  # acknowledged
    assert age_minutes() == pytest.approx(60, abs=0.1)
    behind.refresh_from_db()
    AccountSync.objects.filter(account=behind).update(acked_version=behind.change_version)
    assert age_minutes() == pytest.approx(50, abs=0.1)
    AccountSync.objects.create(account=never_synced, acked_version=never_synced.change_version)
    assert age_minutes() == 0


@pytest.mark.django_db
def test_key_refused_and_rate_limit_pause_for_the_configured_key(sync_on):
    config = sync_on
    VitallyKey.objects.create(
        fingerprint="another-key-0000",
        auth_error="Vitally refused the API key (HTTP 401).",
        paused_until=timezone.now() + timedelta(hours=1),
    )
    assert value("handoff_vitally_key_refused") == 0
    assert value("handoff_vitally_rate_limit_pause_seconds") == 0

    key = VitallyKey.objects.create(
        fingerprint=config.key_fingerprint,
        auth_error="Vitally refused the API key (HTTP 401).",
        paused_until=timezone.now() + timedelta(seconds=120),
    )
    assert value("handoff_vitally_key_refused") == 1
    assert value("handoff_vitally_rate_limit_pause_seconds") == pytest.approx(120, abs=2)

    VitallyKey.objects.filter(pk=key.pk).update(
        auth_error="", paused_until=timezone.now() - timedelta(seconds=5)
    )
    assert value("handoff_vitally_key_refused") == 0
    assert value("handoff_vitally_rate_limit_pause_seconds") == 0  # over: never negative


@pytest.mark.django_db
def test_trait_differences_are_exported(sync_on, account):
    assert value("handoff_vitally_trait_differences") == 0
    now = timezone.now()
    for key in ("a", "b", "c"):
        TraitDifference.objects.create(
            account=account, trait_key=key, field_name="name", portal_value="x",
            vitally_value="y", first_seen_at=now, last_seen_at=now,
        )  # fmt: skip
    assert value("handoff_vitally_trait_differences") == 3


# --- Cost ----------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("accounts", [3, 50])
def test_a_scrape_costs_the_same_queries_whatever_the_accounts(
    client, token, sync_on, ie, accounts, django_assert_num_queries
):
    config = sync_on
    statuses = itertools.cycle(AccountSync.Status.values)
    for number in range(accounts):
        account = AccountFactory(**no_people())
        account_update(
            account=account,
            actor=ie,
            data={"name": f"{account.name}."},
            expected_version=ANY_VERSION,
        )
        if number % 5:  # every fifth has no sync row yet
            AccountSync.objects.create(
                account=account,
                status=next(statuses),
                acked_version=1,
                failed_key=config.key_fingerprint,
                synced_through=timezone.now() - timedelta(minutes=number),
            )
    AccountFactory(vitally_account_id="", **no_people())
    request_count_add("pushed")
    VitallyKey.objects.create(fingerprint=config.key_fingerprint, auth_error="refused")

    with django_assert_num_queries(SCRAPE_QUERIES):
        response = scrape(client)

    assert response.status_code == 200
    assert sum(states().values()) == accounts + 1
    assert metrics.SCRAPE_QUERIES == SCRAPE_QUERIES  # the module's docstring says so too


@pytest.mark.django_db
def test_every_request_a_push_sends_is_counted(fake_vitally, manager):
    """services._record_attempt counts each request: a 503, then the acknowledged PUT."""
    from handoff.accounts.services import account_create
    from vitally_sync.fake import Scripted
    from vitally_sync.services import sync_account_push

    fake_vitally.account_create(external_id="acme-robotics", name="Acme Robotics")
    account = account_create(
        actor=manager, name="Acme Robotics", vitally_account_id="acme-robotics"
    )
    fake_vitally.script(Scripted(503))
    sync_account_push(account_id=account.pk)
    AccountSync.objects.filter(pk=account.pk).update(next_attempt_at=None)
    sync_account_push(account_id=account.pk)
    assert counts() == {"transient": 1, "pushed": 1}
