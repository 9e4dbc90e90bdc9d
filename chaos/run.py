"""Chaos run (issue 7): edits through the web while the sync's parts fail. One command:
`make chaos` (200 accounts, 3,000 edits, 30 s refusal) or `make chaos-short` (the CI version:
50 accounts, 300 edits, 10 s refusal).

    .venv/bin/python chaos/run.py [--short]

On the PostgreSQL server of DATABASE_URL it creates the database handoff_chaos (dropped at the
end) and starts, as separate processes: a redis-server of its own on a free port (broker and
limiter), gunicorn -w 2, a Celery worker (2 children) and beat, and the fake Vitally with faults
(10% 5xx, a burst of three 429s in every 100 requests, 20–320 ms latency, 2% of requests never
answered, 3% applied and then their answer lost). The portal reaches the fake through a TCP
proxy in this script, which can refuse connections without the fake losing its state.

Signed-in users (4 threads) make random edits through the real forms: the production deployment
(Total CPU, Total Memory, Sourcegraph instance URL, from a few values each, so edits often return
to earlier values), a new issue, a new risk. Meanwhile the script SIGKILLs the worker twice,
restarts Redis once, makes Vitally refuse connections, edits a trait by hand in Vitally on a few
accounts, and has Vitally announce a long 429 wait, during which it restarts Redis and SIGKILLs
the worker (the wait must survive both). Then it waits (bounded) for every account to be
acknowledged and compares, for each linked account, the traits in the fake with the portal's
current payload (the sync's own payload builder): every account must be equal, but for the
hand-edited trait of the hand-edited accounts, which the portal must not have overwritten; and
`vitally_reconcile --check` must report exactly those hand edits, nothing else.

Exit status 1 when a must-be-zero figure is not zero (or the queue does not drain).
"""

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "var" / "chaos"
DB_NAME = "handoff_chaos"

from bench.load import free_port, redis_start  # noqa: E402

REDIS_PORT, FAKE_PORT, PROXY_PORT = free_port(), free_port(), free_port()
SETTINGS = {
    # Production settings over plain http on loopback.
    "DJANGO_SETTINGS_MODULE": "handoff.settings",
    "DEBUG": "0",
    "SECRET_KEY": "chaos-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_MANIFEST": "0",
    "STATIC_ROOT": str(OUT / "static"),
    "LOG_LEVEL": "WARNING",
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "VITALLY_BASE_URL": f"http://127.0.0.1:{PROXY_PORT}",
    # The sync's documented settings, tightened so the run drains in a bounded time: a killed
    # worker's lease lapses after 15 s (still well above the 5 s read timeout), backoff is capped
    # at 15 s, beat sweeps every 5 s.
    "VITALLY_RATE_LIMIT_PER_MINUTE": "500",
    "VITALLY_READ_TIMEOUT": "5",
    "VITALLY_LEASE_SECONDS": "15",
    "VITALLY_BACKOFF_CAP_SECONDS": "15",
    "VITALLY_SWEEP_SECONDS": "5",
}
FAKE_FAULTS = [
    "--error-rate", "0.1",
    "--burst-429", "3", "--burst-429-every", "100", "--burst-retry-after", "2",
    "--latency-ms", "20", "--latency-jitter-ms", "300",
    "--timeout-rate", "0.02", "--timeout-seconds", "7",
    "--lose-answer-rate", "0.03", "--lose-answer-mode", "closed",
]  # fmt: skip
# Edited by hand "in Vitally" on a few accounts; the driver never edits it in the portal.
HAND_EDITED_KEY = "vitally.custom.infrastructureHostingProvider"
HAND_EDITED_VALUE = "Edited by hand in Vitally"
HAND_EDITS = 5
LOST_ANSWERS = 3  # applied by Vitally, answer never sent
# A 429 whose wait outlasts a Redis restart and a killed worker.
LONG_WAIT_SECONDS = 12
if __name__ == "__main__":
    os.environ.update(SETTINGS)
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff")
    (OUT / "static").mkdir(parents=True, exist_ok=True)
    REDIS = [redis_start(REDIS_PORT)]
    from bench import vitally_sync_bench as vsb  # Django set up; process helpers, the fake

    os.environ["VITALLY_BASE_URL"] = SETTINGS["VITALLY_BASE_URL"]  # vsb points it at the fake
    log = vsb.log


class RefusingProxy:
    """A TCP forwarder 127.0.0.1:PROXY_PORT → the fake. `refuse()` closes the listening socket
    and every open connection, so the portal gets "connection refused" (and broken keep-alive
    connections) while the fake keeps its state; `accept()` listens again."""

    def __init__(self, port: int, target: int):
        self.port, self.target = port, target
        self.listener: socket.socket | None = None
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()

    def accept(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._serve, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            connections, self.open = self.open, set()
        listener.close()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # refused: the listener is closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self.lock:
                self.open.discard(source)
                self.open.discard(sink)


def accounts_create(count: int) -> list:
    """Linked accounts with a production deployment, through the services (as people would)."""
    from deployments.models import Environment
    from deployments.services import environment_create
    from handoff.accounts.services import account_create
    from handoff.people.models import User

    manager = User.objects.create(username="bench", role=User.Role.MANAGER)
    accounts = []
    for n in range(count):
        account = account_create(
            actor=manager, name=f"Chaos {n:03d}", vitally_account_id=f"chaos-{n}", manager=manager
        )
        environment_create(
            account=account,
            actor=manager,
            kind=Environment.Kind.PRODUCTION,
            data={
                "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
                "hosting_provider": Environment.HostingProvider.AWS,
                "total_cpu": 32,
            },
        )
        accounts.append(account)
    return accounts


class Driver:
    """Threads of signed-in users making random edits through the real forms."""

    def __init__(self, host: str, account_ids: list[int], owner_id: int, total: int, threads: int):
        from bench.load import sessions_create

        self.host, self.ids, self.owner_id, self.total = host, account_ids, owner_id, total
        self.sessions = sessions_create(threads)
        self.done = 0  # edits attempted
        self.saved = 0
        self.saved_spans: list[tuple[float, float]] = []  # (started, ended) of each saved edit
        self.saved_by_kind: dict[str, int] = {"production": 0, "issue": 0, "risk": 0}
        self.conflicts = 0  # stale saves refused by optimistic concurrency: correct, not failures
        self.failures: list[tuple[float, float, str]] = []  # (started, ended, what)
        self.lock = threading.Lock()
        self.hold = threading.Event()  # set: keep editing after `total` until released
        self.stop = threading.Event()  # set: stop at once (the run failed)
        self.threads = [threading.Thread(target=self._run, args=(s,)) for s in self.sessions]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()

    def _claim(self) -> bool:
        with self.lock:
            if self.stop.is_set() or (self.done >= self.total and not self.hold.is_set()):
                return False
            self.done += 1
            return True

    def _run(self, session_key: str) -> None:
        import requests

        http = requests.Session()
        http.cookies.set("sessionid", session_key, domain="127.0.0.1")
        rng = random.Random(session_key)
        while self._claim():
            account_id = rng.choice(self.ids)
            kind = rng.choices(["production", "issue", "risk"], weights=[6, 2, 2])[0]
            started = time.time()
            try:
                ok, what = getattr(self, f"_{kind}")(http, account_id, rng)
            except Exception as error:  # noqa: BLE001 - any error is a failed edit, never a lost thread
                ok, what = False, f"{kind}: {type(error).__name__}: {error}"[:200]
            ended = time.time()
            with self.lock:
                if ok:
                    self.saved += 1
                    self.saved_spans.append((started, ended))
                    self.saved_by_kind[kind] += 1
                elif what == "conflict":
                    self.conflicts += 1
                else:
                    self.failures.append((started, ended, what))

    def _submit(self, http, path: str, values: dict) -> tuple[bool, str]:
        from bench.html_forms import form_fields, with_values

        url = self.host + path
        form = http.get(url, timeout=30)
        if form.status_code != 200:
            return False, f"GET {path}: {form.status_code}"
        data = with_values(form_fields(form.text), **values)
        response = http.post(url, data, timeout=30, allow_redirects=False)
        if response.status_code == 200 and "while you were editing" in response.text:
            return False, "conflict"  # two users edited the same record: refused as designed
        # A save redirects to a page of the account (never back to the form, nor to sign-in).
        target = urlsplit(response.headers.get("Location", "")).path
        account_prefix = "/".join(path.split("/")[:3]) + "/"  # /accounts/<id>/
        if response.status_code != 302 or not target.startswith(account_prefix) or target == path:
            return False, f"POST {path}: {response.status_code} {target}"
        return True, ""

    def _production(self, http, account_id, rng):
        return self._submit(
            http,
            f"/accounts/{account_id}/deployment/production/",
            {
                # Few values each: an edit often returns a field to an earlier value (the case a
                # lost answer turns into a silent difference if the portal trusts a hash).
                "total_cpu": rng.choice([16, 32, 64]),
                "total_memory_gb": rng.choice([64, 128]),
                "sourcegraph_instance_url": f"https://sg{rng.randint(1, 3)}.example.com",
            },
        )

    def _issue(self, http, account_id, rng):
        return self._submit(
            http,
            f"/accounts/{account_id}/issues/new/",
            {"title": f"Chaos issue {rng.randint(1, 10**6)}", "owner": self.owner_id,
             "severity": rng.choice(["low", "medium", "high", "critical"])},
        )  # fmt: skip

    def _risk(self, http, account_id, rng):
        return self._submit(
            http,
            f"/accounts/{account_id}/risks/new/",
            {"title": f"Chaos risk {rng.randint(1, 10**6)}", "owner": self.owner_id,
             "description": "Because of chaos, pushes may fail, which would lose a change.",
             "likelihood": rng.randint(1, 5), "impact": rng.randint(1, 5)},
        )  # fmt: skip


def worker_start(procs):
    return procs.start(
        ["-m", "celery", "-A", "handoff", "worker", "--concurrency=2", "--without-mingle",
         "--without-gossip", "--loglevel=WARNING", "-n", "chaos@%h"],
        stdout=subprocess.DEVNULL, stderr=open(OUT / "worker.log", "a"),  # noqa: SIM115
    )  # fmt: skip


def wait_for(driver: Driver, share: float, *, stalled_after: float = 60) -> None:
    """Until `share` of the edits were attempted; raises if the edits stop making progress
    (every driver thread gone, or the web stack hung), so the run fails instead of hanging."""
    last, since = driver.done, time.monotonic()
    while driver.done < driver.total * share:
        if driver.done != last:
            last, since = driver.done, time.monotonic()
        elif time.monotonic() - since > stalled_after or not any(
            t.is_alive() for t in driver.threads
        ):
            raise RuntimeError(f"the edits stopped at {driver.done} of {driver.total}")
        time.sleep(0.05)


def _fake_post(path: str, body: dict) -> int:
    import requests

    response = requests.post(f"http://127.0.0.1:{FAKE_PORT}{path}", json=body, timeout=10)
    if response.status_code not in (200, 404):
        response.raise_for_status()
    return response.status_code


def hand_edits(accounts) -> list[str]:
    """A person changes a trait of a few accounts in Vitally's UI (the fake's control path): of
    accounts spread over the list that Vitally already has (the fake creates an account at its
    first push)."""
    step = max(1, len(accounts) // HAND_EDITS)
    order = accounts[::step] + [a for a in accounts if a not in accounts[::step]]
    edited: list[str] = []
    deadline = time.monotonic() + 60
    while len(edited) < HAND_EDITS and time.monotonic() < deadline:
        for account in order:
            key = account.vitally_account_id
            if key in edited or len(edited) == HAND_EDITS:
                continue
            traits = {HAND_EDITED_KEY: HAND_EDITED_VALUE}
            if _fake_post(f"/_fake/accounts/{key}/traits", {"traits": traits}) == 200:
                edited.append(key)
        time.sleep(0.5)
    if len(edited) < HAND_EDITS:
        raise RuntimeError(f"only {len(edited)} accounts reached Vitally for the hand edits")
    return edited


def wait_recorded(*, timeout: float) -> bool:
    """True once PostgreSQL holds the long 429's wait (VitallyKey.paused_until): more than half
    of it ahead, so an earlier, short wait does not count."""
    from django.db.models.functions import Now

    from vitally_sync.models import VitallyKey

    ahead = Now() + timedelta(seconds=LONG_WAIT_SECONDS / 2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if VitallyKey.objects.filter(paused_until__gt=ahead).exists():
            return True
        time.sleep(0.05)
    return False


def long_wait_across_restarts(procs, events: list) -> None:
    """Vitally announces a long wait; while it runs, Redis restarts (empty) and the worker is
    SIGKILLed. Nobody may call Vitally before the wait ends (the fake logs who does)."""
    import requests

    since = time.time()
    _fake_post(
        "/_fake/control", {"rate_limit_next": 1, "rate_limit_retry_after": LONG_WAIT_SECONDS}
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entries = requests.get(
            f"http://127.0.0.1:{FAKE_PORT}/_fake/requests", params={"since": since}, timeout=10
        ).json()["requests"]
        if any(e.get("injected") == "rate_limit" for e in entries):
            break
        time.sleep(0.1)
    else:
        raise RuntimeError(
            f"no request reached Vitally within 60 s of asking for the long 429 "
            f"({len(entries)} requests since; see {OUT / 'worker.log'})"
        )
    events.append((time.time(), f"429 with a {LONG_WAIT_SECONDS} s wait"))
    # The fake logs the 429 when it answers; a worker killed before it has read that answer
    # never learned of the wait (as if the answer were lost), and its successor would be
    # blamed for ignoring it. The scenario is a wait the portal knows: kill once it is durable.
    if not wait_recorded(timeout=10):
        raise RuntimeError("the portal did not record the 429's wait within 10 s")
    log(f"a {LONG_WAIT_SECONDS} s 429 wait: restart Redis and SIGKILL the worker during it")
    os.killpg(procs.worker.pid, signal.SIGKILL)
    procs.worker.wait()
    REDIS[0].terminate()
    REDIS[0].wait(10)
    REDIS[0] = redis_start(REDIS_PORT)
    events.append((time.time(), "redis restarted, worker killed"))
    procs.worker = worker_start(procs)


def chaos(
    procs, driver: Driver, proxy: RefusingProxy, refuse_seconds: int, events: list, accounts
) -> tuple[dict, list[str]]:
    """The faults, at points of the edit run; the driver keeps editing until they are over."""
    driver.hold.set()
    outage, edited = {}, []
    steps = (
        (0.15, "kill"), (0.25, "hand"), (0.35, "redis"), (0.45, "long-wait"), (0.6, "kill"),
        (0.75, "refuse"),
    )  # fmt: skip
    for share, action in steps:
        wait_for(driver, share)
        worker = procs.worker
        if action == "hand":
            log("hand edits in Vitally; the next answers lost")
            edited = hand_edits(accounts)
            events.append((time.time(), f"{len(edited)} hand edits in Vitally"))
            # Beside the random share: the next three answers are lost, whatever the run's size.
            _fake_post("/_fake/control", {"lose_answer_next": LOST_ANSWERS})
            events.append((time.time(), f"the next {LOST_ANSWERS} answers lost"))
        elif action == "long-wait":
            long_wait_across_restarts(procs, events)
        elif action == "kill":
            log("SIGKILL the worker (and its children)")
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            events.append((time.time(), "worker killed"))
            time.sleep(3)
            procs.worker = worker_start(procs)
        elif action == "redis":
            log("restart Redis (5 s down)")
            outage["from"] = time.time()
            REDIS[0].terminate()
            REDIS[0].wait(10)
            time.sleep(5)
            REDIS[0] = redis_start(REDIS_PORT)
            outage["to"] = time.time()
            events.append((outage["from"], "redis down"))
            events.append((outage["to"], "redis up"))
        else:
            log(f"Vitally refuses connections for {refuse_seconds} s")
            proxy.refuse()
            events.append((time.time(), "vitally refusing"))
            time.sleep(refuse_seconds)
            proxy.accept()
            events.append((time.time(), "vitally back"))
    driver.hold.clear()
    return outage, edited


def drain(ids: list[int], timeout: float) -> float | None:
    """Seconds until every account's change version is acknowledged; None if not in time."""
    from django.db.models import F

    from vitally_sync.models import AccountSync

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        acked = AccountSync.objects.filter(
            account_id__in=ids, acked_version=F("account__change_version")
        ).count()
        if acked == len(ids):
            return time.monotonic() - started
        time.sleep(1)
    return None


def _fake_get(path: str):
    """A read of the fake's state: its faults apply to reads too, so try until it answers."""
    import requests

    for _ in range(50):
        try:
            response = requests.get(
                f"http://127.0.0.1:{FAKE_PORT}{path}", auth=(vsb.API_KEY, ""), timeout=10
            )
        except requests.RequestException:
            continue
        if response.status_code == 429:
            headers = response.headers
            time.sleep(float(headers.get("Retry-After") or headers.get("RateLimit-Reset") or 1))
        elif response.status_code < 500:
            return response
    raise RuntimeError(f"the fake did not answer GET {path}")


def compare(accounts) -> dict[str, list[str]]:
    """Vitally account id → the trait keys in the fake that differ from the portal's current
    payload, for the accounts that differ."""

    from handoff.accounts.models import Account
    from vitally_sync.conf import sync_config
    from vitally_sync.payloads import traits_build
    from vitally_sync.selectors import portal_values_get

    config = sync_config()

    # The portal's payloads first (one database connection), then the fake's state in parallel.
    accounts = list(Account.objects.filter(pk__in=[a.pk for a in accounts]))
    expected = {
        a.pk: traits_build(portal_values_get(account_id=a.pk), trait_map=config.trait_map)
        for a in accounts
    }

    def fetch(account) -> tuple[str, list[str]]:
        response = _fake_get(f"/resources/accounts/{account.vitally_account_id}")
        traits = response.json().get("traits", {}) if response.ok else {}
        differs = [
            key
            for key, value in expected[account.pk].items()
            if (key in traits if value is None else traits.get(key) != value)
        ]
        return account.vitally_account_id, differs

    with ThreadPoolExecutor(8) as pool:
        return {key: differs for key, differs in pool.map(fetch, accounts) if differs}


def reconcile_check(accounts, database_url: str) -> tuple[int, set[tuple[str, str]], str]:
    """The reconciler's own verdict after the run: `vitally_reconcile --check` reads every
    account back (the fake's faults off, the whole rate limit for it, so it is quick) and
    prints one line per field that differs. Returns its exit status, the (Vitally id, trait
    key) pairs it reported, and the tail of its output."""
    import re

    _fake_post(
        "/_fake/control",
        {"error_rate": 0, "timeout_rate": 0, "close_rate": 0, "lose_answer_rate": 0,
         "burst_429": 0, "latency_ms": 0, "latency_jitter_ms": 0},
    )  # fmt: skip
    run = subprocess.run(
        [sys.executable, "manage.py", "vitally_reconcile", "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "DATABASE_URL": database_url, "VITALLY_RECONCILE_SHARE": "1"},
    )  # fmt: skip
    by_pk = {a.pk: a.vitally_account_id for a in accounts}
    found = set()
    for line in run.stdout.splitlines():
        match = re.match(r".* \(account (\d+)\) \| .*? \| (\S+) \|", line)
        if match:
            found.add((by_pk.get(int(match.group(1)), "?"), match.group(2)))
    return run.returncode, found, (run.stdout + run.stderr)[-600:]


def sent_inside_a_429_wait() -> list[str]:
    """Requests the portal sent after it had a 429's answer and before that wait ended, from
    the portal's own record of its attempts (sent at, answered at, the announced wait).

    The portal has a 429 once the worker that received it has shared the pause in the limiter
    (the answer time is taken after that); from then on no worker may send until the wait
    ends. The wait is counted from when the answer came back over HTTP (sent at + duration),
    which is before the pause was shared, so the window never outlasts the pause."""
    from vitally_sync.models import SyncAttempt

    attempts = list(SyncAttempt.objects.order_by("at").values("id", "at", "answered_at"))
    waits = [
        (
            a["answered_at"],
            a["at"] + timedelta(milliseconds=a["duration_ms"], seconds=a["wait_seconds"]),
        )
        for a in SyncAttempt.objects.filter(
            outcome=SyncAttempt.Outcome.RATE_LIMITED, answered_at__isnull=False
        ).values("at", "answered_at", "duration_ms", "wait_seconds")
    ]
    return [
        f"attempt {a['id']} sent at {a['at']:%H:%M:%S.%f}"
        for a in attempts
        if any(start < a["at"] < end for start, end in waits)
    ]


def saved_but_missing(driver: Driver) -> list[str]:
    """Edits the driver counted as saved that are not in the database (new issues, risks)."""
    from logs.models import Issue, Risk

    stored = {
        "issue": Issue.objects.filter(title__startswith="Chaos issue").count(),
        "risk": Risk.objects.filter(title__startswith="Chaos risk").count(),
    }
    return [
        f"{kind}: {driver.saved_by_kind[kind]} saved, {count} stored"
        for kind, count in stored.items()
        if count != driver.saved_by_kind[kind]
    ]


def attempt_rows_pruned() -> int:
    """Accounts whose attempt rows reached the number kept: older ones may have been deleted,
    so the 429 check would not see every request."""
    from django.db.models import Count

    from vitally_sync.models import SyncAttempt
    from vitally_sync.services import ATTEMPTS_KEPT

    return (
        SyncAttempt.objects.values("account_id")
        .annotate(n=Count("id"))
        .filter(n__gte=ATTEMPTS_KEPT)
        .count()
    )


# A request reaching the fake this long after it answered a 429 cannot have been on its way
# before the portal had the 429: the portal ignored the wait. (Sooner, it may have been in
# flight: the time for the answer to reach the worker and the pause to be shared, plus the
# other request's way through this script's proxy on a busy 2-core machine.)
IN_FLIGHT_SECONDS = 1.0
# Stale saves (two users, one record) are refused by design, but they must stay rare.
STALE_SAVES_ALLOWED = 0.05


def fake_figures(log_entries: list[dict]) -> dict:
    """PUTs, retries, 429s, and requests that reached the fake inside an announced 429 wait,
    from the fake's own log: within IN_FLIGHT_SECONDS of the answer ("early": they may have
    been in flight) or later ("ignored": they must not exist)."""
    api = sorted(
        (e for e in log_entries if e["path"].startswith("/resources/")), key=lambda e: e["at"]
    )
    puts = [e for e in api if e["method"] == "PUT"]
    retries, failed_before = 0, set()
    for e in puts:
        if e["path"] in failed_before:
            retries += 1
        if e["status"] == 200:
            failed_before.discard(e["path"])
        else:
            failed_before.add(e["path"])
    waits = [(e["answered_at"], e["answered_at"] + e["wait"]) for e in api if e["status"] == 429]
    early = [e for e in api if any(start < e["at"] < end for start, end in waits)]
    ignored = [
        e for e in api if any(start + IN_FLIGHT_SECONDS < e["at"] < end for start, end in waits)
    ]
    return {
        "puts": len(puts),
        "puts_ok": sum(1 for e in puts if e["status"] == 200),
        "retries": retries,
        "5xx": sum(1 for e in puts if isinstance(e["status"], int) and e["status"] >= 500),
        "unanswered": sum(1 for e in puts if e["status"] in ("timeout", "closed", None)),
        "lost": sum(1 for e in puts if e["status"] == "lost"),  # applied, answer never sent
        "429s": len(waits),
        "early": early,
        "ignored": ignored,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--short", action="store_true", help="the CI version (~90 s)")
    args = parser.parse_args()
    n_accounts, n_edits, refuse_seconds, drain_timeout = (
        (50, 300, 10, 120) if args.short else (200, 3000, 30, 300)
    )
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = DB_NAME
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}" + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        + f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{DB_NAME}?conn_max_age=600"
    )  # fmt: skip
    procs = vsb.Processes({**os.environ, "DATABASE_URL": database_url})
    proxy = RefusingProxy(PROXY_PORT, FAKE_PORT)
    sync_settings = {
        k: v for k, v in SETTINGS.items() if k.startswith("VITALLY_") and k != "VITALLY_BASE_URL"
    }
    results: dict = {
        "accounts": n_accounts,
        "settings": sync_settings,
        "fake_faults": " ".join(FAKE_FAULTS),
    }
    events: list = []
    driver = None
    failed = True
    try:
        vsb.fake_start(procs, 600, *FAKE_FAULTS, port=FAKE_PORT)
        proxy.accept()
        log(f"creating {n_accounts} linked accounts in {DB_NAME}")
        accounts = accounts_create(n_accounts)
        port = free_port()
        procs.start(
            ["-m", "gunicorn", "handoff.wsgi:application", "-w", "2", "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning"],
            stderr=open(OUT / "gunicorn.log", "w"),  # noqa: SIM115
        )  # fmt: skip
        procs.worker = worker_start(procs)
        procs.start(
            ["-m", "celery", "-A", "handoff", "beat", "--loglevel=WARNING",
             f"--schedule={OUT / 'beat-schedule'}"],
            stdout=subprocess.DEVNULL, stderr=open(OUT / "beat.log", "w"),  # noqa: SIM115
        )  # fmt: skip
        host = f"http://127.0.0.1:{port}"
        import requests

        for _ in range(150):
            try:
                requests.get(host + "/healthz", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"gunicorn did not answer /healthz (see {OUT / 'gunicorn.log'})")
        from handoff.people.models import User

        owner = User.objects.get(username="bench")
        driver = Driver(host, [a.pk for a in accounts], owner.pk, n_edits, threads=4)
        started = time.time()
        log(f"driving {n_edits} edits with 4 signed-in users")
        driver.start()
        outage, hand_edited = chaos(procs, driver, proxy, refuse_seconds, events, accounts)
        driver.join()
        results["edit_seconds"] = round(time.time() - started, 1)
        log(f"{driver.saved} edits saved; waiting for the queue to drain (≤ {drain_timeout} s)")
        drained = drain([a.pk for a in accounts], drain_timeout)
        results["drain_seconds"] = None if drained is None else round(drained, 1)
        entries = requests.get(f"http://127.0.0.1:{FAKE_PORT}/_fake/requests", timeout=30).json()[
            "requests"
        ]
        figures = fake_figures(entries)
        early = sent_inside_a_429_wait()
        differing = compare(accounts)
        # Only the hand-edited trait of the hand-edited accounts may differ (a full push may
        # have restored the portal's value there: also fine). Anything else is out of sync.
        out_of_sync = [
            f"{key}: {', '.join(keys)}"
            for key, keys in differing.items()
            if key not in hand_edited or keys != [HAND_EDITED_KEY]
        ]
        kept = {key for key in hand_edited if differing.get(key) == [HAND_EDITED_KEY]}
        hand_edits_kept = len(kept)
        status, reported, reconcile_tail = reconcile_check(accounts, database_url)
        expected = {(key, HAND_EDITED_KEY) for key in kept}
        reconcile_wrong = sorted(reported ^ expected)
        if status not in (0, 1) or (status == 1) != bool(expected):
            reconcile_wrong.append(f"exit status {status}: {reconcile_tail}")
        # A failed request that overlapped the outage at all (a hung one too), give or take 1 s.
        during_outage = [
            f for f in driver.failures if f[0] <= outage["to"] + 1 and f[1] >= outage["from"] - 1
        ]
        missing = saved_but_missing(driver)
        results.update(
            edits=driver.saved,
            edit_conflicts=driver.conflicts,
            edit_failures=len(driver.failures),
            edit_failure_examples=sorted({what for _, _, what in driver.failures})[:10],
            saved_but_missing=missing,
            puts=figures["puts"],
            puts_acknowledged=figures["puts_ok"],
            retries=figures["retries"],
            injected_5xx=figures["5xx"],
            unanswered=figures["unanswered"],
            answers_lost_after_applying=figures["lost"],
            hand_edits=len(hand_edited),
            hand_edits_kept_in_vitally=hand_edits_kept,
            reconcile_reported=len(reported),
            reconcile_wrong=len(reconcile_wrong),
            reconcile_wrong_examples=[str(w) for w in reconcile_wrong[:10]],
            received_429=figures["429s"],
            sent_before_429_wait_ended=len(early),
            sent_before_429_wait_ended_examples=early[:10],
            in_flight_when_429_answered=len(figures["early"]) - len(figures["ignored"]),
            arrived_late_in_429_wait=len(figures["ignored"]),
            attempt_rows_pruned=attempt_rows_pruned(),
            out_of_sync=len(out_of_sync),
            out_of_sync_examples=out_of_sync[:10],
            web_failures_during_redis_outage=len(during_outage),
            edits_saved_during_redis_outage=sum(
                1 for start, _ in driver.saved_spans if outage["from"] <= start <= outage["to"]
            ),
            events=[(time.strftime("%H:%M:%S", time.localtime(t)), what) for t, what in events],
        )
        attempted = driver.saved + driver.conflicts + len(driver.failures)
        failed = (
            drained is None
            or results["edit_failures"]
            or missing
            or driver.saved == 0
            or driver.conflicts > STALE_SAVES_ALLOWED * attempted
            or results["sent_before_429_wait_ended"]
            or results["arrived_late_in_429_wait"]
            or results["attempt_rows_pruned"]  # the 429 check could not see every request
            or results["out_of_sync"]
            or results["reconcile_wrong"]  # the reconciler must report exactly the hand edits
            or results["web_failures_during_redis_outage"]
            or not results["edits_saved_during_redis_outage"]  # the outage was not exercised
            or not results["answers_lost_after_applying"]  # nor were lost answers
        )
    finally:
        if driver is not None:  # a failed step must not leave the users editing for ever
            driver.stop.set()
            driver.join()
        procs.stop_all()
        with contextlib.suppress(Exception):  # the proxy may never have started
            proxy.refuse()
        REDIS[0].terminate()
        REDIS[0].wait(10)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "chaos.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    report(results, bool(failed))
    return 1 if failed else 0


def report(r: dict, failed: bool) -> None:
    def must(value) -> str:
        return f"{value}  {'ok' if value == 0 else '← MUST BE 0'}"

    def at_least_1(value) -> str:
        return f"{value}  {'ok' if value else '← MUST BE > 0'}"

    def few(value) -> str:
        attempted = sum(r.get(k) or 0 for k in ("edits", "edit_conflicts", "edit_failures"))
        ok = (value or 0) <= STALE_SAVES_ALLOWED * attempted
        return f"{value}  {'ok' if ok else f'← MUST BE ≤ {STALE_SAVES_ALLOWED:.0%}'}"

    print(f"\nChaos run: {r['accounts']} linked accounts, {r.get('edit_seconds')} s of edits, "
          f"drained in {r.get('drain_seconds')} s")  # fmt: skip
    print(f"  events: {', '.join(f'{t} {w}' for t, w in r.get('events', []))}")
    rows = [
        ("edits saved", at_least_1(r.get("edits"))),
        ("stale saves refused (two users, one record)", few(r.get("edit_conflicts"))),
        ("edits failed (any time)", must(r.get("edit_failures"))),
        ("saved edits missing from the database", must(len(r.get("saved_but_missing", [])))),
        ("PUTs sent (acknowledged)", f"{r.get('puts')} ({r.get('puts_acknowledged')})"),
        ("retries", r.get("retries")),
        ("5xx injected / never answered", f"{r.get('injected_5xx')} / {r.get('unanswered')}"),
        ("answers lost after Vitally applied the PUT",
         at_least_1(r.get("answers_lost_after_applying"))),
        ("hand edits in Vitally (still kept there)",
         f"{r.get('hand_edits')} ({r.get('hand_edits_kept_in_vitally')})"),
        ("429s received", r.get("received_429")),
        ("requests sent before a 429's wait ended", must(r.get("sent_before_429_wait_ended"))),
        ("  reached Vitally > 1 s into a 429's wait", must(r.get("arrived_late_in_429_wait"))),
        ("  sooner (perhaps in flight)", r.get("in_flight_when_429_answered")),
        ("accounts whose attempt rows were pruned", must(r.get("attempt_rows_pruned"))),
        ("accounts out of sync", must(r.get("out_of_sync"))),
        ("differences the reconciler reported", r.get("reconcile_reported")),
        ("  other than the hand edits kept, or missed", must(r.get("reconcile_wrong"))),
        ("edits saved while Redis was down", at_least_1(r.get("edits_saved_during_redis_outage"))),
        ("web requests failed during the Redis outage",
         must(r.get("web_failures_during_redis_outage"))),
    ]  # fmt: skip
    for name, value in rows:
        print(f"  {name:<45}{value}")
    if r.get("edit_failure_examples"):
        print(f"  edit failures: {r['edit_failure_examples']}")
    if r.get("saved_but_missing"):
        print(f"  saved but missing: {r['saved_but_missing']}")
    if r.get("sent_before_429_wait_ended_examples"):
        print(f"  sent inside a 429's wait: {r['sent_before_429_wait_ended_examples']}")
    if r.get("reconcile_wrong_examples"):
        print(f"  reconcile: {r['reconcile_wrong_examples']}")
    if r.get("out_of_sync_examples"):
        print(f"  out of sync: {r['out_of_sync_examples']}")
    if r.get("drain_seconds") is None:
        print("  the queue did NOT drain in time")
    print("FAILED" if failed else "OK")


if __name__ == "__main__":
    sys.exit(main())
