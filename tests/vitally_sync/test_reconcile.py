"""Reconcile: Vitally is read back, and what a person changed there by hand is found, within
the reconcile's share of the rate limit and never inside a 429's wait. Real PostgreSQL and
Redis, the fake Vitally over HTTP. What people see and do about it: test_differences.py."""

import datetime
import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from deployments.services import environment_update
from handoff.accounts.models import Account
from tests.factories import AccountFactory
from tests.vitally_sync.conftest import CPU, deployed_and_pushed, difference, production
from vitally_sync import tasks
from vitally_sync.conf import sync_config
from vitally_sync.fake import Scripted
from vitally_sync.models import AccountSync, TraitDifference
from vitally_sync.reconcile import (
    differences_find,
    reconcile_pass,
    reconcile_read_record,
    sync_read_token,
    values_agree,
)
from vitally_sync.services import (
    key_pause_record,
    key_refused_record,
    key_state_get,
    sync_account_push,
)

pytestmark = pytest.mark.django_db


def test_a_hand_edit_in_vitally_is_found_and_stored(fake_vitally, deployed):
    fake_vitally.hand_edit(deployed.vitally_account_id, {CPU: 64})
    gets_before = len(fake_vitally.requests_log(method="GET"))
    report = reconcile_pass(due_only=False)
    assert len(fake_vitally.requests_log(method="GET")) == gets_before + 1
    assert (report.read, report.differing_accounts, report.skipped) == (1, 1, 0)
    found = difference(deployed)
    assert (found.field_name, found.portal_value, found.vitally_value) == ("total_cpu", 48, 64)
    assert found.first_seen_at == found.last_seen_at
    assert AccountSync.objects.get(pk=deployed.pk).reconciled_at == found.first_seen_at


def test_an_unrelated_portal_edit_then_pushed_does_not_overwrite_it(fake_vitally, hand_edited, ie):
    environment = production(hand_edited)
    environment_update(
        environment=environment,
        actor=ie,
        data={"total_memory_gb": 256},
        expected_version=environment.version,
    )
    assert sync_account_push(account_id=hand_edited.pk).outcome.value == "pushed"
    sent = fake_vitally.puts(hand_edited.vitally_account_id)[-1]["body"]["traits"]
    assert sent == {"vitally.custom.totalMemoryGb": 256}
    assert fake_vitally.account_get(hand_edited.vitally_account_id)["traits"][CPU] == 64
    report = reconcile_pass(due_only=False)  # still differs: the next read says so again
    assert [line.trait_key for line in report.lines] == [CPU]


def test_a_later_read_that_agrees_clears_the_difference(fake_vitally, hand_edited):
    found = difference(hand_edited)
    fake_vitally.hand_edit(hand_edited.vitally_account_id, {CPU: 96})
    reconcile_pass(due_only=False)
    again = difference(hand_edited)
    assert (again.pk, again.vitally_value, again.version) == (found.pk, 96, found.version + 1)
    assert again.first_seen_at == found.first_seen_at and again.last_seen_at > found.last_seen_at
    fake_vitally.hand_edit(hand_edited.vitally_account_id, {CPU: 48})
    assert reconcile_pass(due_only=False).lines == []
    assert not TraitDifference.objects.exists()


def test_only_known_mapped_keys_are_compared_and_formats_do_not_count(fake_vitally, deployed):
    key = deployed.vitally_account_id
    fake_vitally.hand_edit(
        key,
        {
            "vitally.custom.somethingElse": "theirs",  # not the portal's
            "vitally.custom.prodInfraStartDate": 1788220800000,  # 2026-09-01 in epoch ms
            "vitally.custom.totalMemoryGb": 192.0,
        },
    )
    # A request whose answer was never recorded: its key is unknown, not compared.
    AccountSync.objects.filter(pk=deployed.pk).update(inflight_traits={CPU: 48})
    fake_vitally.hand_edit(key, {CPU: 1})
    assert reconcile_pass(due_only=False).lines == []


def test_accounts_with_changes_to_push_or_held_by_a_push_are_not_read(
    fake_vitally, deployed, ie, settings
):
    fake_vitally.hand_edit(deployed.vitally_account_id, {CPU: 64})
    gets = len(fake_vitally.requests_log(method="GET"))
    Account.objects.filter(pk=deployed.pk).update(change_version=F("change_version") + 1)
    report = reconcile_pass(due_only=False)
    assert (report.read, report.lines) == (0, [])
    Account.objects.filter(pk=deployed.pk).update(change_version=F("change_version") - 1)
    AccountSync.objects.filter(pk=deployed.pk).update(
        lease_token="00000000-0000-0000-0000-000000000001",
        lease_until=timezone.now() + datetime.timedelta(seconds=30),
    )
    assert reconcile_pass(due_only=False).read == 0
    assert len(fake_vitally.requests_log(method="GET")) == gets
    assert not TraitDifference.objects.exists()


def test_a_read_during_which_the_account_was_pushed_is_thrown_away(fake_vitally, deployed):
    sync = AccountSync.objects.select_related("account").get(pk=deployed.pk)
    token = sync_read_token(sync)
    AccountSync.objects.filter(pk=deployed.pk).update(acked_traits={**sync.acked_traits, CPU: 50})
    found = reconcile_read_record(
        account_id=deployed.pk,
        token=token,
        traits={**sync.acked_traits, CPU: 50},
        config=sync_config(),
        read_at=sync.last_pushed_at,
    )
    assert found is None and not TraitDifference.objects.exists()
    assert AccountSync.objects.get(pk=deployed.pk).reconciled_at is None


def test_only_accounts_not_read_for_the_interval_are_due_least_recently_read_first(
    fake_vitally, ie, manager, settings
):
    accounts = [
        deployed_and_pushed(
            fake_vitally,
            ie,
            AccountFactory(
                name=f"Due {n}", vitally_account_id=f"due-{n}", implementation_engineer=ie
            ),
        )
        for n in range(3)
    ]
    settings.VITALLY_RECONCILE_SECONDS = 3600
    assert reconcile_pass().read == 0  # all pushed just now
    hour_ago = timezone.now() - datetime.timedelta(hours=2)
    AccountSync.objects.update(last_pushed_at=hour_ago)
    AccountSync.objects.filter(pk=accounts[1].pk).update(reconciled_at=hour_ago)
    AccountSync.objects.filter(pk=accounts[2].pk).update(
        reconciled_at=hour_ago - datetime.timedelta(minutes=5)
    )
    since = time.time()
    assert reconcile_pass().read == 3
    order = [e["path"].rsplit("/", 1)[1] for e in fake_vitally.requests_log(method="GET")
             if e["at"] >= since]  # fmt: skip
    assert order == ["due-2", "due-0", "due-1"] or order == ["due-0", "due-2", "due-1"]
    assert reconcile_pass().read == 0  # read: not due for another hour


def test_a_pass_stays_within_its_share_of_the_rate_limit(fake_vitally, ie, settings):
    settings.VITALLY_RATE_LIMIT_PER_MINUTE = 6000
    settings.VITALLY_RECONCILE_SHARE = 0.1  # 600 reads a minute: one per 100 ms
    for n in range(12):
        account = AccountFactory(
            name=f"Paced {n}", vitally_account_id=f"paced-{n}", implementation_engineer=ie
        )
        fake_vitally.account_create(external_id=account.vitally_account_id, name=account.name)
        assert sync_account_push(account_id=account.pk).outcome.value == "pushed"
    started = time.time()
    report = reconcile_pass(due_only=False)
    ended = time.time()
    assert report.read == 12
    gets = [e["at"] for e in fake_vitally.requests_log(method="GET") if e["at"] >= started]
    assert len(gets) == 12
    per_second = 6000 * 0.1 / 60
    # Within the share over the pass, and paced: never two reads closer than the share allows.
    assert len(gets) <= per_second * (ended - started) + 1
    assert max(gets) - min(gets) >= (len(gets) - 1) / per_second * 0.9


def test_a_durable_429_pause_stops_reconcile_reads(fake_vitally, deployed):
    config = sync_config()
    key_pause_record(config, 30)
    gets = len(fake_vitally.requests_log(method="GET"))
    report = reconcile_pass(due_only=False)
    assert report.read == 0 and "429" in report.stopped
    assert len(fake_vitally.requests_log(method="GET")) == gets
    assert AccountSync.objects.get(pk=deployed.pk).reconciled_at is None


def test_a_429_to_a_read_is_shared_with_every_worker_and_ends_the_pass(
    fake_vitally, deployed, ie, account
):
    other = deployed_and_pushed(
        fake_vitally,
        ie,
        AccountFactory(name="Other", vitally_account_id="other-co", implementation_engineer=ie),
    )
    fake_vitally.script(Scripted(429, {"Retry-After": "30"}, methods=("GET",)))
    report = reconcile_pass(due_only=False)
    assert (report.read, report.rate_limited) == (0, 1) and "429" in report.stopped
    assert len(fake_vitally.requests_log(method="GET")) == 1  # the second account waits too
    assert key_state_get(sync_config()).paused_for > 25
    assert (
        AccountSync.objects.filter(pk__in=[deployed.pk, other.pk], reconciled_at=None).count() == 2
    )


def test_reconcile_reads_nothing_while_vitally_refuses_the_key(fake_vitally, deployed):
    key_refused_record(sync_config(), "Vitally refused the API key (HTTP 401).")
    report = reconcile_pass(due_only=False)
    assert report.read == 0 and "refuses the API key" in report.stopped
    assert fake_vitally.requests_log(method="GET") == []


def test_beat_runs_the_reconcile_and_zero_turns_it_off(fake_vitally, hand_edited, settings):
    from django.conf import settings as live

    entry = live.CELERY_BEAT_SCHEDULE["vitally-reconcile"]
    assert entry["task"] == "vitally_sync.reconcile" and entry["schedule"] == 60
    settings.VITALLY_RECONCILE_SECONDS = 0
    assert tasks.reconcile() == "Reconcile: off (VITALLY_RECONCILE_SECONDS=0)."
    settings.VITALLY_RECONCILE_SECONDS = 21600
    assert tasks.reconcile().startswith("Reconcile in")


def test_the_command_prints_one_line_per_differing_field_and_check_exits_1_then_0(
    fake_vitally, hand_edited
):
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("vitally_reconcile", "--check", stdout=out, stderr=io.StringIO())
    assert refused.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"Acme Robotics (account {hand_edited.pk}) | Total CPU | vitally.custom.totalCpu"
        " | portal: 48 | Vitally: 64"
    )
    assert "1 read, 1 field differs in 1 account" in lines[-1]
    fake_vitally.hand_edit(hand_edited.vitally_account_id, {CPU: 48})  # put back by hand
    out = io.StringIO()
    call_command("vitally_reconcile", "--check", "--account", str(hand_edited.pk), stdout=out)
    assert out.getvalue().splitlines() == [
        line for line in out.getvalue().splitlines() if line.startswith("Reconcile in")
    ]
    assert "1 read, 0 fields differ in 0 accounts" in out.getvalue()


def test_the_command_waits_out_a_429_and_reads_on(fake_vitally, hand_edited):
    fake_vitally.script(Scripted(429, {"Retry-After": "0.5"}, methods=("GET",)))
    out = io.StringIO()
    call_command("vitally_reconcile", stdout=out)
    assert "| Total CPU |" in out.getvalue() and "1 × 429" in out.getvalue()
    statuses = [e["status"] for e in fake_vitally.requests_log(method="GET")]
    assert statuses[-2:] == [429, 200]


def test_the_command_refuses_clearly(fake_vitally, settings, ie):
    with pytest.raises(CommandError, match="No account with id 999999"):
        call_command("vitally_reconcile", "--account", "999999")
    unlinked = AccountFactory(vitally_account_id="", implementation_engineer=ie)
    with pytest.raises(CommandError, match="has no Vitally account id"):
        call_command("vitally_reconcile", "--account", str(unlinked.pk))
    settings.VITALLY_API_KEY = ""
    with pytest.raises(CommandError, match="not configured"):
        call_command("vitally_reconcile")


@pytest.mark.parametrize(
    "field, portal, vitally, agree",
    [
        ("total_cpu", 16, 16.0, True),
        ("total_cpu", 16, "16", True),
        ("total_cpu", 16, 17, False),
        ("total_cpu", None, None, True),
        ("total_cpu", 16, None, False),
        ("prod_infra_start_date", "2026-09-01T00:00:00.000Z", 1788220800000, True),
        ("prod_infra_start_date", "2026-09-01T00:00:00.000Z", "2026-09-01", True),
        ("prod_infra_start_date", "2026-09-01T00:00:00.000Z", "2026-09-02", False),
        ("deployment_type", "Kubernetes with Helm", " Kubernetes with Helm ", True),
        ("deployment_type", "Kubernetes with Helm", "kubernetes with helm", False),
        ("technical_design_document_urls", "https://a\nhttps://b", "https://a\r\nhttps://b", True),
        ("sourcegraph_instance_url", None, "", True),
    ],
)
def test_values_agree_when_they_say_the_same(field, portal, vitally, agree):
    assert values_agree(portal, vitally, field_name=field) is agree


def test_differences_find_compares_only_known_mapped_keys_in_table_order():
    trait_map = {"total_cpu": CPU, "handoff_status": "vitally.custom.handoffStatus"}
    known = {CPU: 16, "vitally.custom.handoffStatus": "Implementation", "unmapped": 1}
    vitally = {CPU: 32, "vitally.custom.handoffStatus": "Implementation", "unmapped": 2}
    found = differences_find(known, vitally, trait_map)
    assert [(f.field_name, f.portal_value, f.vitally_value) for f in found] == [
        ("total_cpu", 16, 32)
    ]
    assert differences_find({}, vitally, trait_map) == []
