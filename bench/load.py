"""Load benchmark (issue 7). One command: `make bench` (it sets up the locust venv first).

    .venv/bin/python bench/load.py [--accounts 500] [--seconds 7]

On the PostgreSQL server of DATABASE_URL (default 127.0.0.1:5432, user postgres) it creates the
database handoff_bench (dropped at the end), generates the portfolio (bench/portfolio.py), and
starts, as separate processes: a redis-server of its own on a free port (broker + limiter), the
fake Vitally, a Celery worker (prefork, 2 children, as in docker-compose.yml) and gunicorn -w 2
with persistent connections (conn_max_age=600) on DEBUG=0 settings plus one trivial signed-in
view (bench/settings.py).

Then, in one run:
1. Query counts of every page at 1× data, with the Django test client and
   CaptureQueriesContext (exact, whatever the machine's load).
2. locust, headless, 20 users, one page after another for --seconds each: req/s, p50, p95 per
   page, and req/s as a share of the trivial view's (measured in the same run, same stack).
   The edit POSTs save through the real form and service and make the worker push to the fake.
3. Peak RSS (VmHWM) of each gunicorn worker and each Celery process after the run.
4. Query counts again at 10× data: 10× the accounts (dashboard, heatmap) and 10× the rows of
   the measured account (account page, edit form).
It prints a table and writes var/bench/load.json.
"""

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_VENV = ROOT / "var" / "bench-venv"
OUT = ROOT / "var" / "bench"
DB_NAME = "handoff_bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_start(port: int) -> subprocess.Popen:
    """A private redis-server on loopback (never the machine's shared one)."""
    process = subprocess.Popen(  # noqa: S603
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


_REDIS_PORT = free_port()
if __name__ == "__main__":
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        REDIS_URL=f"redis://127.0.0.1:{_REDIS_PORT}/0",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff"),
        # DEBUG=0 over plain http on loopback: production settings minus TLS.
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        STATIC_MANIFEST="0",
        LOCAL_LOGIN="1",  # production-like otherwise: its people have passwords, not SSO
        LOG_LEVEL="WARNING",
        STATIC_ROOT=str(OUT / "static"),  # nothing is served from it; it only has to exist
    )
    (OUT / "static").mkdir(parents=True, exist_ok=True)
    REDIS = redis_start(_REDIS_PORT)
    # The Vitally benchmark's helpers: process group handling and the fake (sets up Django).
    from bench import vitally_sync_bench as vsb
else:  # imported by chaos/run.py for its helpers only
    vsb = None


PAGES = [
    ("trivial", "trivial signed-in view"),
    ("dashboard", "dashboard"),
    # The manager's landing page: every list of what needs them, over the whole portfolio.
    ("my_work", "my work"),
    # Rendered from the database every time: there is no page cache.
    ("account", "account page"),
    ("edit", "account edit POST"),
    ("heatmap_cell", "risk heatmap, one cell"),
    # Last: at 500 accounts it renders every open risk, so requests locust abandons at its stop
    # keep gunicorn busy for a while after (settle() waits for them, at most a minute).
    ("heatmap", "risk heatmap"),
]


def query_counts(account_id: int, new_date: str) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from handoff.people.models import User

    client = Client()
    client.force_login(User.objects.get(username="bench"))
    client.get("/")  # the first request of a client warms per-process caches; not counted
    counts = {}

    def count(name, call):
        with CaptureQueriesContext(connection) as ctx:
            response = call()
        # A page must render: a redirect (to sign-in, say) would count the wrong queries.
        expected = 302 if name.endswith("POST") else 200
        assert response.status_code == expected, (name, response.status_code)
        counts[name] = len(ctx.captured_queries)
        return response

    from bench.html_forms import form_fields, with_values

    count("trivial signed-in view", lambda: client.get("/bench/trivial"))
    count("dashboard", lambda: client.get("/accounts/?page=2"))
    count("my work", lambda: client.get("/"))
    count("account page", lambda: client.get(f"/accounts/{account_id}/"))
    count("risk heatmap", lambda: client.get("/risks/"))
    count("risk heatmap, one cell", lambda: client.get("/risks/?likelihood=5&impact=5"))
    form = count("account edit GET", lambda: client.get(f"/accounts/{account_id}/edit/"))
    data = with_values(form_fields(form.content.decode()), planned_completion_date=new_date)
    response = count(
        "account edit POST", lambda: client.post(f"/accounts/{account_id}/edit/", data)
    )
    assert response.status_code == 302, "the edit POST did not save"
    return counts


def sessions_create(count: int) -> list[str]:
    """Signed-in sessions of the benchmark manager, one per locust user."""
    from django.test import Client

    from handoff.people.models import User

    user = User.objects.get(username="bench")
    keys = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        keys.append(client.cookies["sessionid"].value)
    return keys


def locust_run(page: str, host: str, account_ids: list[int], seconds: int) -> dict:
    prefix = OUT / f"locust_{page}"
    subprocess.run(  # noqa: S603
        [str(BENCH_VENV / "bin" / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"),
         "--headless", "-u", "20", "-r", "20", "-t", f"{seconds}s", "--host", host,
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, "BENCH_PAGE": page, "BENCH_SESSIONS": ",".join(sessions_create(20)),
             "BENCH_ACCOUNT_IDS": ",".join(map(str, account_ids))},
        check=False, stdout=subprocess.DEVNULL, stderr=open(f"{prefix}.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def settle(host: str) -> None:
    """Let gunicorn finish the requests locust abandoned at its stop, so they do not count
    against the next page: wait until /healthz answers quickly (at most 60 s)."""
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = time.monotonic()
        requests.get(host + "/healthz", timeout=60)
        if time.monotonic() - started < 0.05:
            return
        time.sleep(0.5)


_NONE = {"Request Count": 0, "Failure Count": 0, "Requests/s": 0, "50%": 0, "95%": 0}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=7, help="locust time per page")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    from django.db import connection

    from bench.portfolio import account_grow, portfolio_generate, users_create

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = DB_NAME
    vsb.log(f"creating the database {DB_NAME}")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}" + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        + f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{DB_NAME}?conn_max_age=600"
    )  # fmt: skip
    env = {**os.environ, "DATABASE_URL": database_url}
    procs = vsb.Processes(env)
    results: dict = {"accounts": args.accounts, "users": 20, "seconds_per_page": args.seconds}
    try:
        started = time.monotonic()
        users = users_create()
        accounts = portfolio_generate(users=users, count=args.accounts, vitally_prefix="bench-")
        results["generate_seconds"] = round(time.monotonic() - started, 1)
        vsb.log(f"generated {args.accounts} accounts in {results['generate_seconds']} s")
        measured = accounts[0].pk
        results["queries_1x"] = query_counts(measured, "2027-03-04")

        vsb.fake_start(procs, 100_000)
        worker = procs.start(
            ["-m", "celery", "-A", "handoff", "worker", "--concurrency=2", "--without-mingle",
             "--without-gossip", "--loglevel=WARNING", "-n", "bench-load@%h"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port = free_port()
        gunicorn = procs.start(
            ["-m", "gunicorn", "handoff.wsgi:application", "-w", "2", "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning"],
            stderr=open(OUT / "gunicorn.log", "w"),  # noqa: SIM115
        )  # fmt: skip
        host = f"http://127.0.0.1:{port}"
        import requests

        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(host + "/healthz", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        ids = [a.pk for a in accounts]
        stats = {}
        for page, name in PAGES:
            vsb.log(f"locust: {name}, 20 users, {args.seconds} s")
            # A page none of whose requests finished in the time has no row: 0 req/s.
            stats[name] = locust_run(page, host, ids, args.seconds).get(name, _NONE)
            settle(host)
        trivial_rps = float(stats["trivial signed-in view"]["Requests/s"])
        results["load"] = {
            name: {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "req_per_s": round(float(row["Requests/s"]), 1),
                "p50_ms": int(float(row["50%"] if row["50%"] != "N/A" else 0)),
                "p95_ms": int(float(row["95%"] if row["95%"] != "N/A" else 0)),
                "share_of_trivial": round(float(row["Requests/s"]) / trivial_rps, 2),
            }
            for name, row in stats.items()
        }
        results["peak_rss_mb"] = {
            "gunicorn workers": [peak_rss_mb(p) for p in children(gunicorn.pid)],
            "celery worker (main)": peak_rss_mb(worker.pid),
            "celery worker (children)": [peak_rss_mb(p) for p in children(worker.pid)],
        }
        procs.stop_all()

        vsb.log(f"growing to 10× ({args.accounts * 10} accounts, 10× the measured account's rows)")
        started = time.monotonic()
        portfolio_generate(users=users, count=args.accounts * 9, start=args.accounts)
        account_grow(account=accounts[0], users=users, times=10)
        vsb.log(f"grown in {time.monotonic() - started:.1f} s")
        results["queries_10x"] = query_counts(measured, "2027-05-06")  # a real change again
    finally:
        procs.stop_all()
        REDIS.terminate()
        REDIS.wait(10)
        connection.creation.destroy_test_db(old_name, verbosity=0)
    (OUT / "load.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print_table(results)
    problems = run_problems(results)
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


def run_problems(r: dict) -> list[str]:
    """What makes the figures untrustworthy: a page that served nothing, a failed request (a
    redirect where a page was asked for, an edit that did not save), no memory figure."""
    problems = []
    for name, row in r["load"].items():
        if not row["requests"]:
            problems.append(f"{name}: no request finished")
        if row["failures"]:
            problems.append(f"{name}: {row['failures']} of {row['requests']} requests failed")
    if not r["peak_rss_mb"]["gunicorn workers"]:
        problems.append("no gunicorn worker found for the memory figure")
    return problems


def print_table(r: dict) -> None:
    print(f"\nLoad: {r['accounts']} accounts, 20 users, {r['seconds_per_page']} s per page, "
          "gunicorn -w 2, PostgreSQL, conn_max_age=600")  # fmt: skip
    print(f"{'page':<26}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'÷ trivial':>11}{'fails':>7}"
          f"{'queries 1×':>12}{'10×':>6}")  # fmt: skip
    for name, row in r["load"].items():
        q1, q10 = r["queries_1x"].get(name, "-"), r["queries_10x"].get(name, "-")
        print(f"{name:<26}{row['req_per_s']:>8}{row['p50_ms']:>8}{row['p95_ms']:>8}"
              f"{row['share_of_trivial']:>10.0%}{row['failures']:>7}{q1:>12}{q10:>6}")  # fmt: skip
    print(f"{'account edit GET':<26}{'':>42}{r['queries_1x']['account edit GET']:>12}"
          f"{r['queries_10x']['account edit GET']:>6}")  # fmt: skip
    rss = r["peak_rss_mb"]
    print(
        f"peak RSS: gunicorn workers {rss['gunicorn workers']} MB; Celery worker main "
        f"{rss['celery worker (main)']} MB, children {rss['celery worker (children)']} MB"
    )
    share = r["load"]["account page"]["share_of_trivial"]
    equal = r["queries_1x"] == r["queries_10x"]
    pages = max(v for k, v in r["queries_10x"].items() if "POST" not in k)
    post = r["queries_10x"]["account edit POST"]
    print(
        f"goals: account page ≥ 20% of trivial: {share:.0%} "
        f"({'met' if share >= 0.2 else 'NOT met'}); query counts equal at 1× and 10×: "
        f"{'yes' if equal else 'NO'}; pages ≤ 25: at most {pages} "
        f"({'met' if pages <= 25 else 'NOT met'}), the edit POST {post}; "
        f"peak RSS ≤ 150 MB: {'met' if max(_all_rss(rss)) <= 150 else 'NOT met'}"
    )


def _all_rss(rss: dict) -> list[float]:
    return [*rss["gunicorn workers"], rss["celery worker (main)"], *rss["celery worker (children)"]]


if __name__ == "__main__":
    sys.exit(main())
