"""Where an account page's view spends its time (issue 13: "profile before choosing").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/handoff REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/profile_page.py [--accounts 50] [--renders 30] [--top 25]

On the PostgreSQL server of DATABASE_URL it creates the database handoff_profile (dropped at the
end) and the benchmark's portfolio (bench/portfolio.py, the same rows a `make bench` account
has), then renders the first account's page `--renders` times,
signed in as the benchmark's manager, in this process (no HTTP, no gunicorn). It prints:

- wall time per render (without, then with the profiler), and how much of it the database
  took (the queries' own durations);
- the queries per render, and the per-render CPU time of the three parts a page is made of:
  building SQL (Django's query compiler), turning rows into objects, rendering templates;
- cProfile's functions with the most cumulative time.

The figures are this process's, on this machine: compare them with each other, not with
`make bench`'s req/s (which adds gunicorn, HTTP and concurrency).
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("STATIC_MANIFEST", "0")  # no collectstatic: plain static URLs
from bench import vitally_sync_bench as vsb  # noqa: E402  (sets the environment, Django set up)

DB_NAME = "handoff_profile"
# Where a function's file lies tells which part of a page it belongs to.
PARTS = {
    "SQL built (query compiler)": ("django/db/models/sql/",),
    "rows to objects (ORM iterators, model init)": (
        "django/db/models/query.py",
        "django/db/models/base.py",
    ),
    "templates rendered": ("django/template/",),
}


def part_seconds(stats: pstats.Stats) -> dict[str, float]:
    """Total own time of the functions whose file is in each part."""
    totals = dict.fromkeys(PARTS, 0.0)
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        for part, paths in PARTS.items():
            if any(path in filename for path in paths):
                totals[part] += own
                break
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key, e.g. tottime")
    parser.add_argument(
        "--page", choices=["account", "my-work"], default="account",
        help="the first account's page, or the benchmark manager's My work",
    )  # fmt: skip
    args = parser.parse_args()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from bench.portfolio import portfolio_generate, users_create

    # Not setup_test_environment(): its instrumented template rendering would be profiled too.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = DB_NAME
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        users = users_create()
        account = portfolio_generate(users=users, count=args.accounts, vitally_prefix="prof-")[0]
        client = Client()
        client.force_login(users["manager"][0])
        url = f"/accounts/{account.pk}/" if args.page == "account" else "/"
        warm = client.get(url, secure=True)  # imports, template loading
        assert warm.status_code == 200, warm.status_code

        with CaptureQueriesContext(connection) as queries:
            client.get(url, secure=True)
        # Read now: every request empties connection.queries (request_started → reset_queries).
        query_count = len(queries.captured_queries)
        db_seconds = sum(float(q["time"]) for q in queries.captured_queries)

        started = time.perf_counter()
        for _ in range(args.renders):
            client.get(url, secure=True)
        plain = (time.perf_counter() - started) / args.renders

        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(args.renders):
            client.get(url, secure=True)
        profile.disable()
        wall = (time.perf_counter() - started) / args.renders

        # The benchmark's baseline in this process: the same middleware stack, no page.
        with override_settings(ROOT_URLCONF="bench.urls"):
            client.get("/bench/trivial", secure=True)
            started = time.perf_counter()
            for _ in range(args.renders * 10):
                client.get("/bench/trivial", secure=True)
            trivial = (time.perf_counter() - started) / (args.renders * 10)

        stats = pstats.Stats(profile)
        print(f"{args.page} ({account.name}): {query_count} queries")
        share = f"{trivial / plain:.0%} of the page"
        print(f"  trivial view (same stack)    {trivial * 1000:7.1f} ms  ({share})")
        print(f"  wall per render              {plain * 1000:7.1f} ms")
        print(f"  wall per render (profiled)   {wall * 1000:7.1f} ms")
        print(f"  the database (one render)    {db_seconds * 1000:7.1f} ms")
        for part, seconds in part_seconds(stats).items():
            print(f"  {part:<44} {seconds / args.renders * 1000:7.1f} ms own CPU per render")
        print()
        stats.sort_stats(args.sort).print_stats(args.top)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        vsb.log("dropped the database")


if __name__ == "__main__":
    main()
