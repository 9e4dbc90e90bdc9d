"""Benchmark of the Vitally sync (issue 6). One command, on PostgreSQL and Redis:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/vitally_sync_bench.py

It creates a throwaway database (<name>_vitally_bench, dropped at the end), runs the fake and a
real Celery worker as separate processes, and measures, in one run:

1. Backfill: 1,000 linked accounts, `manage.py vitally_sync --all` with
   VITALLY_RATE_LIMIT_PER_MINUTE=540 against a fake that allows 600/minute: the achieved rate
   (PUTs per minute between the first and the last PUT, by the fake's clock) as % of 540, and
   the 429s received. Takes about two minutes: that is the rate limit working.
2. The floor: a no-op Celery task that makes one HTTP call to the fake, from `delay()` to the
   fake receiving the call (p50/p95).
3. Save → Vitally: from the commit of an edit to the fake receiving the PUT (p50/p95), one edit
   per account so coalescing does not delay it.
4. Burst: 100 edits of one account as fast as the service allows: PUTs sent.

Timings come from one clock (time.time() on this machine: the fake logs arrival times).
The Redis database given in REDIS_URL is used as the broker and the limiter; its queue and
limiter keys are cleared. Use a Redis database nobody else uses.
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

API_KEY = "sk_bench"  # noqa: S105  (the fake's key for this run)
BACKFILL_ACCOUNTS = 1000
BACKFILL_RATE = 540
FAKE_RATE = 600
SAMPLES = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAKE_PORT = free_port()
FAKE_URL = f"http://127.0.0.1:{FAKE_PORT}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handoff.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
os.environ.update(VITALLY_BASE_URL=FAKE_URL, VITALLY_API_KEY=API_KEY)
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("Set DATABASE_URL to a PostgreSQL server (the worker shares the database).")
if not os.environ.get("REDIS_URL"):
    sys.exit("Set REDIS_URL (the broker and the shared rate limiter).")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from handoff.accounts.models import Account  # noqa: E402
from handoff.accounts.services import account_create  # noqa: E402
from handoff.celery import app  # noqa: E402
from handoff.closeout.services import handoff_request, handoff_withdraw  # noqa: E402
from handoff.people.models import User  # noqa: E402
from vitally_sync.limiter import RedisRateLimiter  # noqa: E402
from vitally_sync.models import AccountSync  # noqa: E402


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Processes:
    def __init__(self, env: dict):
        self.env = env
        self.running: list[subprocess.Popen] = []

    def start(self, args: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and manage.py)
            [sys.executable, *args],
            cwd=ROOT,
            env={**self.env, **kwargs.pop("env", {})},
            start_new_session=True,
            **kwargs,
        )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def stop_all(self) -> None:
        for process in self.running:
            self.stop(process)


def fake_start(
    procs: Processes, rate: int, *flags: str, port: int | None = None
) -> subprocess.Popen:
    """The fake as a process; `flags` add faults (see run_fake_vitally --help)."""
    port = port or FAKE_PORT
    fake = procs.start(
        ["manage.py", "run_fake_vitally", "--port", str(port), "--api-key", API_KEY,
         "--rate-limit", str(rate), "--auto-create", *flags],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_fake/health", timeout=1)
            return fake
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the fake did not start")


def fake_requests(since: float = 0.0) -> list[dict]:
    response = requests.get(FAKE_URL + "/_fake/requests", params={"since": since}, timeout=10)
    return response.json()["requests"]


def arrival(since: float, match, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in fake_requests(since):
            if match(entry):
                return entry["at"]
        time.sleep(0.01)
    raise RuntimeError("the fake never received the expected request")


def wait_synced(accounts, timeout: float = 120.0) -> None:
    ids = [a.pk for a in accounts]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = AccountSync.objects.filter(account_id__in=ids).select_related("account")
        if len(rows) == len(ids) and all(r.acked_version == r.account.change_version for r in rows):
            return
        time.sleep(0.05)
    raise RuntimeError("accounts did not sync in time")


def backfill(procs: Processes, manager) -> dict:
    log(f"creating {BACKFILL_ACCOUNTS} linked accounts (no worker running)")
    for n in range(BACKFILL_ACCOUNTS):
        account_create(actor=manager, name=f"Backfill {n:04d}", vitally_account_id=f"bf-{n:04d}")
    app.control.purge()  # their kicks: the backfill is what pushes them
    fake = fake_start(procs, FAKE_RATE)
    log(f"backfill: vitally_sync --all at {BACKFILL_RATE}/min against a fake at {FAKE_RATE}/min")
    started = time.time()
    command = procs.start(
        ["manage.py", "vitally_sync", "--all"],
        env={"VITALLY_RATE_LIMIT_PER_MINUTE": str(BACKFILL_RATE)},
        stdout=subprocess.PIPE,
        text=True,
    )
    output, _ = command.communicate()
    summary = [line for line in output.splitlines() if line.startswith("Done in")]
    puts = [
        e
        for e in fake_requests(started)
        if e["method"] == "PUT" and e["path"].startswith("/resources/accounts/bf-")
    ]
    ok = [e["at"] for e in puts if e["status"] == 200]
    span = max(ok) - min(ok)
    rate = (len(ok) - 1) / span * 60
    procs.stop(fake)
    return {
        "accounts": BACKFILL_ACCOUNTS,
        "pushed": len(ok),
        "seconds": round(span, 1),
        "rate_per_minute": round(rate, 1),
        "percent_of_limit": round(rate / BACKFILL_RATE * 100, 1),
        "429s": sum(1 for e in puts if e["status"] == 429),
        "command_summary": summary[0] if summary else output[-300:],
    }


def floor_and_latency(manager) -> dict:
    from bench.vitally_probe import vitally_probe

    sent = time.time()
    vitally_probe.delay(FAKE_URL + "/_fake/ping?n=warmup")
    arrival(sent, lambda e: e["query"].get("n") == "warmup", timeout=60)
    log("worker ready; measuring the floor")
    floor = []
    for n in range(SAMPLES):
        sent = time.time()
        vitally_probe.delay(f"{FAKE_URL}/_fake/ping?n={n}")
        floor.append(arrival(sent, lambda e, n=n: e["query"].get("n") == str(n)) - sent)
        time.sleep(0.1)

    log("save → Vitally latency")
    accounts = [
        account_create(actor=manager, name=f"Latency {n:02d}", vitally_account_id=f"lat-{n}")
        for n in range(SAMPLES)
    ]
    wait_synced(accounts)
    time.sleep(2.5)  # past the coalescing window of their creation pushes
    latency = []
    for account in accounts:
        committed = []
        with transaction.atomic():
            # Runs right after COMMIT, before the kick: "the save is durable" from here.
            transaction.on_commit(lambda committed=committed: committed.append(time.time()))
            # The phase moves only through the handoff workflow: "Request handoff".
            handoff_request(account=account, actor=manager, notify=False)
        key = account.vitally_account_id
        got = arrival(
            committed[0],
            lambda e, key=key: e["method"] == "PUT" and e["path"].endswith(f"/{key}"),
        )
        latency.append(got - committed[0])
        # Past the limiter's pacing (one request per 120 ms at 500/min): measure the path,
        # not the wait the rate limit imposes on back-to-back saves.
        time.sleep(0.3)
    return {
        "samples": SAMPLES,
        "floor_ms": {
            "p50": round(statistics.median(floor) * 1000, 1),
            "p95": round(percentile(floor, 0.95) * 1000, 1),
        },
        "save_to_vitally_ms": {
            "p50": round(statistics.median(latency) * 1000, 1),
            "p95": round(percentile(latency, 0.95) * 1000, 1),
        },
        "p95_over_floor_p95": round(percentile(latency, 0.95) / percentile(floor, 0.95), 2),
    }


def burst(manager) -> dict:
    log("burst: 100 edits of one account")
    account = account_create(actor=manager, name="Burst", vitally_account_id="burst")
    wait_synced([account])
    time.sleep(2.5)  # past the coalescing window of its creation push
    started = time.time()
    # The phase moves only through the handoff workflow: request handoff, then withdraw it.
    for n in range(100):
        if n % 2 == 0:
            handoff_request(account=account, actor=manager, notify=False)
        else:
            handoff_withdraw(account=account, actor=manager)
    edits_took = time.time() - started
    wait_synced([account])
    puts = [
        e for e in fake_requests(started) if e["method"] == "PUT" and e["path"].endswith("/burst")
    ]
    final = requests.get(
        FAKE_URL + "/resources/accounts/burst", auth=(API_KEY, ""), timeout=5
    ).json()
    phase = Account.objects.get(pk=account.pk).get_phase_display()
    return {
        "edits": 100,
        "edits_took_s": round(edits_took, 2),
        "puts": len(puts),
        "vitally_equals_portal": final["traits"].get("vitally.custom.handoffStatus") == phase,
    }


def main() -> None:
    old_name = connection.settings_dict["NAME"]
    # Its own name: never the test suite's test_<name>, which may be in use.
    connection.settings_dict["TEST"]["NAME"] = f"{old_name}_vitally_bench"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}"
        + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        + f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{test_name}"
        # Persistent connections, as in production (docker-compose.yml): otherwise every task
        # opens a PostgreSQL connection, which the no-database floor task never pays.
        + "?conn_max_age=600",
        "LOG_LEVEL": "WARNING",
        "VITALLY_BASE_URL": FAKE_URL,
        "VITALLY_API_KEY": API_KEY,
    }
    procs = Processes(env)
    RedisRateLimiter(os.environ["REDIS_URL"]).reset()
    app.control.purge()
    results: dict = {}
    try:
        manager = User.objects.create(username="bench", role=User.Role.MANAGER)
        if "--skip-backfill" not in sys.argv:  # a quicker run while working on the rest
            results["backfill"] = backfill(procs, manager)
            log(f"backfill: {results['backfill']}")
        fake_start(procs, 1000)
        RedisRateLimiter(os.environ["REDIS_URL"]).reset()
        procs.start(
            ["-m", "celery", "-A", "handoff", "worker", "--pool=solo", "--without-mingle",
             "--without-gossip", "--loglevel=WARNING", "--include", "bench.vitally_probe",
             "-n", "bench@%h"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        results["latency"] = floor_and_latency(manager)
        log(f"latency: {results['latency']}")
        results["burst"] = burst(manager)
        log(f"burst: {results['burst']}")
    finally:
        procs.stop_all()
        app.control.purge()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
