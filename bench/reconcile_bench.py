"""Benchmark of the reconcile: reading 1,000 accounts back from Vitally. One command, on
PostgreSQL and Redis:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/reconcile_bench.py

It creates a throwaway database (<name>_reconcile_bench, dropped at the end), runs the fake as a
process, and:

1. generates 1,000 linked accounts with a full record (bench/portfolio.py: production
   deployment, code hosts, logs) and pushes them with `manage.py vitally_sync --all`, so the
   portal knows what Vitally holds;
2. changes a field by hand in the fake on 20 of them (every 50th: Total CPU);
3. runs `manage.py vitally_reconcile --check` with VITALLY_RATE_LIMIT_PER_MINUTE=60000 and the
   default VITALLY_RECONCILE_SHARE (0.1): at most 6,000 reads a minute, so 1,000 reads take at
   least 10 s. It reports the command's duration, the reads the fake received, their rate as a
   share of the rate limit (first to last read, by the fake's clock), the most reads in any one
   second, the differences printed and the exit code.

4. reads 200 of them back in this process at VITALLY_RATE_LIMIT_PER_MINUTE=6000 (600 reads a
   minute, one per 100 ms: slower than a read costs), where the pace alone sets the rate.

The fake runs with Nagle's algorithm off: as `run_fake_vitally` starts it, its HTTP server
writes an answer's headers and body separately and, on a kept-alive connection, the body waits
for the client's delayed ACK, about 40 ms per request on loopback (vitally_sync/fake.py leaves
StreamRequestHandler.disable_nagle_algorithm at False). That measures the fake, not the portal.

The Redis database given in REDIS_URL is the broker and the limiter; its queue and limiter keys
are cleared. Use a Redis database nobody else uses.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a line per read in this process
from bench import vitally_sync_bench as vsb  # noqa: E402  (sets the environment, Django set up)

ACCOUNTS = 1000
EDITED_EVERY = 50
RATE = 60_000  # VITALLY_RATE_LIMIT_PER_MINUTE for the run
SHARE = 0.1  # the default VITALLY_RECONCILE_SHARE
PREFIX = "rc-"
CPU = "vitally.custom.totalCpu"
PACED_RATE = 6000
PACED_ACCOUNTS = 200
# run_fake_vitally with Nagle's algorithm off (see the docstring); the fake's code unchanged.
FAKE_WITHOUT_NAGLE = (
    "import sys, django; django.setup(); "
    "from vitally_sync import fake; fake._Handler.disable_nagle_algorithm = True; "
    "from django.core.management import call_command; "
    "call_command('run_fake_vitally', *sys.argv[1:])"
)

import math  # noqa: E402

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.portfolio import portfolio_generate, users_create  # noqa: E402
from handoff.celery import app  # noqa: E402
from vitally_sync.limiter import RedisRateLimiter  # noqa: E402
from vitally_sync.models import AccountSync  # noqa: E402
from vitally_sync.reconcile import reconcile_pass  # noqa: E402

log = vsb.log


def run(procs: vsb.Processes, *args: str, env: dict | None = None) -> tuple[int, str, float]:
    started = time.monotonic()
    command = procs.start(
        ["manage.py", *args], env=env or {}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    output, _ = command.communicate()
    return command.returncode, output, time.monotonic() - started


def fake_start(procs: vsb.Processes) -> None:
    procs.start(
        ["-c", FAKE_WITHOUT_NAGLE, "--port", str(vsb.FAKE_PORT), "--api-key", vsb.API_KEY,
         "--rate-limit", "1000000", "--auto-create"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{vsb.FAKE_URL}/_fake/health", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the fake did not start")


def reads_since(since: float) -> list[float]:
    return sorted(
        e["at"]
        for e in vsb.fake_requests(since)
        if e["method"] == "GET" and e["path"].startswith(f"/resources/accounts/{PREFIX}")
    )


def most_in_one_second(reads: list[float]) -> int:
    return max(sum(1 for t in reads[i:] if t < start + 1.0) for i, start in enumerate(reads))


def paced_figures(accounts) -> dict:
    """In this process, a pace slower than a read costs: the share alone sets the rate."""
    settings.VITALLY_RATE_LIMIT_PER_MINUTE = PACED_RATE
    RedisRateLimiter(os.environ["REDIS_URL"]).reset()
    log(f"reading {PACED_ACCOUNTS} back at {PACED_RATE}/min x {SHARE} (in this process)")
    since = time.time()
    started = time.monotonic()
    report = reconcile_pass(
        account_ids=[a.pk for a in accounts[:PACED_ACCOUNTS]],
        due_only=False,
        budget=math.inf,
        max_wait=math.inf,
        wait_pauses=True,
    )
    seconds = time.monotonic() - started
    reads = reads_since(since)
    rate = (len(reads) - 1) / (reads[-1] - reads[0]) * 60
    return {
        "rate_limit_per_minute": PACED_RATE,
        "reconcile_share": SHARE,
        "accounts": PACED_ACCOUNTS,
        "floor_seconds": round(PACED_ACCOUNTS / (PACED_RATE * SHARE) * 60, 1),
        "seconds": round(seconds, 1),
        "reads": len(reads),
        "reads_per_minute": round(rate, 1),
        "share_of_rate_limit_used": round(rate / PACED_RATE, 4),
        "most_reads_in_one_second": most_in_one_second(reads),
        "allowed_per_second": PACED_RATE * SHARE / 60,
        "summary": str(report),
    }


def reconcile_figures(procs: vsb.Processes) -> dict:
    log(f"generating {ACCOUNTS} linked accounts with a full record")
    accounts = portfolio_generate(users=users_create(), count=ACCOUNTS, vitally_prefix=PREFIX)
    fake_start(procs)
    log("pushing them (vitally_sync --all): the portal learns what Vitally holds")
    code, output, seconds = run(
        procs, "vitally_sync", "--all", env={"VITALLY_RATE_LIMIT_PER_MINUTE": str(RATE)}
    )
    synced = AccountSync.objects.filter(acked_traits__isnull=False).count()
    if code or synced != ACCOUNTS:
        raise RuntimeError(f"the backfill did not push every account ({synced}):\n{output}")
    log(f"pushed {synced} accounts in {seconds:.1f} s")
    edited = [a for n, a in enumerate(accounts) if n % EDITED_EVERY == 0]
    for account in edited:
        response = requests.post(
            f"{vsb.FAKE_URL}/_fake/accounts/{account.vitally_account_id}/traits",
            json={"traits": {CPU: 128}},
            timeout=5,
        )
        response.raise_for_status()
    RedisRateLimiter(os.environ["REDIS_URL"]).reset()  # the pacer starts afresh too
    log(f"{len(edited)} accounts changed by hand in the fake; reconciling at {RATE}/min x {SHARE}")
    since = time.time()
    code, output, seconds = run(
        procs,
        "vitally_reconcile",
        "--check",
        env={"VITALLY_RATE_LIMIT_PER_MINUTE": str(RATE), "VITALLY_RECONCILE_SHARE": str(SHARE)},
    )
    reads = reads_since(since)
    span = reads[-1] - reads[0]
    rate = (len(reads) - 1) / span * 60
    lines = [line for line in output.splitlines() if " | vitally.custom." in line]
    summary = next((line for line in output.splitlines() if line.startswith("Reconcile in")), "")
    figures = {
        "accounts": ACCOUNTS,
        "hand_edited": len(edited),
        "rate_limit_per_minute": RATE,
        "reconcile_share": SHARE,
        "floor_seconds": round(ACCOUNTS / (RATE * SHARE) * 60, 1),
        "command_seconds": round(seconds, 1),
        "reads": len(reads),
        "reads_span_seconds": round(span, 1),
        "reads_per_minute": round(rate, 1),
        "share_of_rate_limit_used": round(rate / RATE, 4),
        "most_reads_in_one_second": most_in_one_second(reads),
        "allowed_per_second": RATE * SHARE / 60,
        "differences_printed": len(lines),
        "check_exit_code": code,
        "command_summary": summary,
    }
    return {"reconcile_1000": figures, "paced": paced_figures(accounts)}


def main() -> None:
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"{old_name}_reconcile_bench"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}"
        + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        + f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{test_name}?conn_max_age=600",
        "LOG_LEVEL": "WARNING",
        "VITALLY_BASE_URL": vsb.FAKE_URL,
        "VITALLY_API_KEY": vsb.API_KEY,
    }
    procs = vsb.Processes(env)
    RedisRateLimiter(os.environ["REDIS_URL"]).reset()
    app.control.purge()
    try:
        results = reconcile_figures(procs)
    finally:
        procs.stop_all()
        app.control.purge()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
