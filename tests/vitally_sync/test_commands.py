"""The management commands work on their own, with no worker running."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from handoff.accounts.services import account_create, account_update
from handoff.common.services import ANY_VERSION
from tests.phases import phase_move
from tests.vitally_sync.conftest import free_port, portal_traits
from vitally_sync.fake import Scripted
from vitally_sync.models import AccountSync

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def accounts(fake_vitally, manager):
    made = []
    for n in range(3):
        fake_vitally.account_create(external_id=f"customer-{n}", name=f"Customer {n}")
        made.append(
            account_create(actor=manager, name=f"Customer {n}", vitally_account_id=f"customer-{n}")
        )
    account_create(actor=manager, name="Unlinked")
    return made


def test_dry_run_prints_each_payload_as_json_and_sends_nothing(fake_vitally, accounts):
    output = run("vitally_sync", "--all", "--dry-run")
    blocks = output.split("\n}\n")
    first = json.loads(blocks[0] + "\n}")
    assert first == {
        "account_id": accounts[0].pk,
        "name": "Customer 0",
        "request": "PUT /resources/accounts/customer-0",
        "body": {"traits": portal_traits(accounts[0])},
    }
    assert first["body"]["traits"]["vitally.custom.handoffStatus"] == "Implementation"
    assert "Dry run: 3 payload(s) printed, nothing sent." in output
    assert fake_vitally.requests_log() == []
    assert not AccountSync.objects.filter(acked_version__gt=0).exists()


def test_dry_run_works_even_when_the_sync_is_not_configured(accounts, settings):
    settings.VITALLY_API_KEY = ""
    output = run("vitally_sync", "--account", str(accounts[1].pk), "--dry-run")
    assert "Dry run: 1 payload(s)" in output


def test_backfill_pushes_every_linked_account_with_a_progress_bar_and_summary(
    fake_vitally, accounts
):
    output = run("vitally_sync", "--all")
    assert "Pushing 3 accounts to 127.0.0.1:" in output
    assert "[" + "#" * 30 + "] 3/3  pushed 3  failed 0" in output
    assert "Done in " in output and "3 pushed, 0 unchanged, 0 failed" in output
    assert "Vitally answered 429 0 times." in output
    assert len(fake_vitally.puts()) == 3
    assert AccountSync.objects.filter(status="synced").count() == 3
    # A backfill re-sends even what Vitally already has.
    run("vitally_sync", "--all")
    assert len(fake_vitally.puts()) == 6


def test_backfill_reports_failures_with_their_reason(fake_vitally, accounts, manager):
    account_update(
        account=accounts[2],
        actor=manager,
        data={"vitally_account_id": "no-such-account"},
        expected_version=ANY_VERSION,
    )
    output = run("vitally_sync", "--all")
    assert "2 pushed, 0 unchanged, 1 failed" in output
    assert f"account {accounts[2].pk}: Vitally has no account “no-such-account”" in output


def test_the_command_waits_out_429s_and_5xx_itself(fake_vitally, accounts):
    fake_vitally.script(Scripted(429, {"Retry-After": "1"}), Scripted(503))
    output = run("vitally_sync", "--account", str(accounts[0].pk))
    assert "1 pushed" in output and "Vitally answered 429 1 time." in output
    puts = fake_vitally.puts()
    assert [p["status"] for p in puts] == [429, 503, 200]
    assert puts[1]["at"] - puts[0]["at"] >= 1.0  # nothing sent before Retry-After ended


def test_without_flags_only_due_accounts_are_pushed(fake_vitally, accounts, manager):
    run("vitally_sync", "--all")
    phase_move(account=accounts[1], actor=manager, to="handed_off")
    output = run("vitally_sync")
    assert "Pushing 1 account to" in output and "1 pushed" in output
    assert fake_vitally.puts()[-1]["path"] == "/resources/accounts/customer-1"


def test_the_command_refuses_clearly_when_not_configured_or_asked_nonsense(
    accounts, settings, manager
):
    with pytest.raises(CommandError, match="no Vitally account id"):
        unlinked = account_create(actor=manager, name="Lonely")
        run("vitally_sync", "--account", str(unlinked.pk))
    with pytest.raises(CommandError, match="No account with id 999999"):
        run("vitally_sync", "--account", "999999")
    settings.VITALLY_API_KEY = ""
    with pytest.raises(CommandError, match="not configured"):
        run("vitally_sync", "--all")


def test_vitally_sweep_runs_one_pass(fake_vitally, accounts):
    assert run("vitally_sweep") == "Sweep: 3 pushed (3 requests).\n"
    assert run("vitally_sweep") == "Sweep: nothing due (0 requests).\n"


def test_check_fields_passes_when_vitally_has_every_mapped_key(fake_vitally):
    output = run("vitally_check_fields")
    assert "ok       vitally.custom.totalCpu  (Total CPU; Vitally type number)" in output
    assert "All 17 mapped trait keys exist in Vitally." in output
    assert fake_vitally.requests_log()[-1]["query"] == {"model": "accounts"}


def test_check_fields_reports_the_mapped_keys_vitally_lacks(fake_vitally, settings):
    fake_vitally.custom_fields = [
        f for f in fake_vitally.custom_fields if f["path"] != "vitally.custom.openHighRisks"
    ]
    settings.VITALLY_TRAIT_MAP = {"total_cpu": "vitally.custom.cpuCores"}
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 of 17 mapped trait keys do not exist"):
        call_command("vitally_check_fields", stdout=out)
    assert "MISSING  vitally.custom.cpuCores  (Total CPU)" in out.getvalue()
    assert "MISSING  vitally.custom.openHighRisks  (Open high/critical risks)" in out.getvalue()


def test_check_fields_says_when_vitally_refuses(fake_vitally):
    fake_vitally.api_key = "sk_other"
    with pytest.raises(CommandError, match="check the Vitally API key"):
        run("vitally_check_fields")


def test_run_fake_vitally_serves_the_demo_accounts(tmp_path):
    port = free_port()
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps([{"externalId": "extra", "name": "Extra", "traits": {"a": 1}}]))
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_fake_vitally", "--port", str(port), "--seed-demo",
         "--seed", str(seed), "--api-key", "sk_cmd", "--rate-limit", "5"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(url + "/_fake/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, process.stdout.read1().decode()
                time.sleep(0.1)
        auth = ("sk_cmd", "")
        demo = requests.get(url + "/resources/accounts/acme-robotics", auth=auth, timeout=5)
        assert demo.status_code == 200 and demo.json()["name"] == "Acme Robotics"
        assert demo.headers["RateLimit-Limit"] == "5, 5;window=60"
        extra = requests.get(url + "/resources/accounts/extra", auth=auth, timeout=5)
        assert extra.json()["traits"] == {"a": 1}
        assert "Helix Pharmaceuticals" in requests.get(url + "/", timeout=5).text
    finally:
        process.terminate()
        process.wait(10)
