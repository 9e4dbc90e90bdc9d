"""A real web scanner against the portal, signed in as each role (issue 12). One command:
`make scan` (it installs Wapiti into var/scan-venv first).

    .venv/bin/python .ci/scan.py [--roles ie,ta,manager]

On the PostgreSQL server of DATABASE_URL it creates the database handoff_scan_run (dropped at
the end), migrates it, seeds the demo (`seed_demo`) and collects the static files, then starts
as separate processes a redis-server of its own on a free port (the Celery broker the views
queue pushes on), the fake Vitally, and gunicorn on loopback with production settings over
plain http (.ci/scan_settings.py: DEBUG off, no redirect to https, everything else as
deployed). No Celery worker: the scan is of the web process; queued pushes stay in the private
Redis and go with it.

It signs in as ie, ta and manager through the sign-in form (CSRF token and cookie, as a
browser does) and runs one Wapiti per role, at the same time, with that session's cookies,
the sign-out URLs excluded so the scan stays signed in, the modules in MODULES and the fixed
time budget in BUDGET. Each writes var/scan/<role>.json; the script prints, per role, the URLs
and forms crawled and, per module, the vulnerabilities, anomalies (a 500, a timeout) and
additionals found, plus every 5xx gunicorn answered.

Exit status 1 on any vulnerability, anomaly or 5xx not on ALLOWED (artefacts of plain-http
testing only, each with its reason), or when a role's crawl did not cover signed-in pages and
forms, or its session was signed out during the scan (a scan that only saw the sign-in page
proves nothing).
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / ".ci")]  # the portal, and scan_settings
OUT = ROOT / "var" / "scan"
SCAN_PYTHON = ROOT / "var" / "scan-venv" / "bin" / "python"  # Wapiti's own venv (make scan)
WAPITI = [str(SCAN_PYTHON), str(ROOT / ".ci" / "wapiti_run.py")]  # wapiti, cooperative limits
DB_NAME = "handoff_scan_run"
ROLES = ("ie", "ta", "manager")
# The demo's other accounts serve the same views with other ids: the scan keeps to one
# account in each phase (and Ion, whose changes wait for the TA's review), so its time goes to
# different pages rather than the same page twelve times. Demo names (handoff/accounts/demo.py).
SCANNED_ACCOUNTS = ("Acme Robotics", "Cobalt Health", "Dunmore Logistics", "Ion Semiconductors")
MODULES = "xss,permanentxss,sql,exec,file,redirect,crlf,csrf,http_headers,cookieflags,csp,methods"

# The time budget. The three roles run at the same time against one gunicorn (-w 3 on two
# cores): Wapiti attacks one request after the other, so three of them keep the server busy and
# each role gets the whole window. --max-scan-time bounds the crawl only, --max-attack-time each
# module (the passive http_headers, cookieflags and csp take a second). Crawl 45 s + 9 active
# modules × 20 s = 225 s a role, plus what is in flight when a limit is reached, Wapiti's start
# and its report: measured, `make scan` takes about 5 minutes with var/scan-venv in place
# (setup ~20 s), and installing Wapiti adds ~45 s, so a CI run stays within about 6 minutes.
BUDGET = {
    "max_scan_time": 45,  # crawl: ~200-800 URLs and ~100-500 forms a role (SCANNED_ACCOUNTS)
    "max_attack_time": 20,  # per module
    "depth": 6,  # dashboard → account → section → form → row → its edit form
    "max_links_per_page": 60,  # an account page links ~50 places; a list page's rows beyond
    # that are the same views with another id
    "timeout": 20,  # seconds per request before Wapiti calls it a timeout (an anomaly)
}

# Findings that exist only because the scan speaks plain http on loopback. Each entry: module,
# kind (vulnerability / anomaly / additional), a pattern of the finding's info, and why it is
# not a finding in production. Keep it small and specific: never a whole module.
ALLOWED: list[tuple[str, str, str, str]] = []

from bench.load import free_port, redis_start  # noqa: E402

REDIS_PORT = free_port()
SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "scan_settings",
    "PYTHONPATH": str(ROOT / ".ci"),
    "DEBUG": "0",
    "SECRET_KEY": "scan-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1",
    "STATIC_ROOT": str(OUT / "static"),
    "LOG_LEVEL": "WARNING",
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    # The scan signs in with the demo passwords, which production (LOCAL_LOGIN off) refuses.
    "LOCAL_LOGIN": "1",
}
# A developer's shell must not soften what is scanned.
SOFTENERS = (
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD", "STATIC_MANIFEST", "VITALLY_BASE_URL", "VITALLY_API_KEY",
    "EMAIL_BACKEND", "BEHIND_TLS_PROXY",
)  # fmt: skip
if __name__ == "__main__":
    for name in SOFTENERS:
        os.environ.pop(name, None)
    os.environ.update(SETTINGS)
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/handoff")
    OUT.mkdir(parents=True, exist_ok=True)
    REDIS = redis_start(REDIS_PORT)
    # The benchmarks' helpers: process groups and the fake Vitally (this sets up Django, and
    # points VITALLY_BASE_URL / VITALLY_API_KEY at the fake, as production has both set).
    from bench import vitally_sync_bench as vsb

    log = vsb.log


@dataclass
class Finding:
    role: str
    kind: str  # vulnerability, anomaly, additional
    module: str
    category: str
    method: str
    path: str
    parameter: str
    info: str

    def allowed(self) -> str | None:
        for module, kind, pattern, reason in ALLOWED:
            if self.module == module and self.kind == kind and re.search(pattern, self.info):
                return reason
        return None


def database_create() -> tuple[str, list[int], list[int]]:
    """handoff_scan_run, migrated and seeded with the demo; returns its DATABASE_URL, the ids
    of the accounts the scan leaves out and those of the users it signs in as."""
    from django.core.management import call_command
    from django.db import connection

    from handoff.accounts.models import Account
    from handoff.people.models import User

    connection.settings_dict["TEST"]["NAME"] = DB_NAME
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("collectstatic", "--no-input", verbosity=0)
    scanned = Account.objects.filter(name__in=SCANNED_ACCOUNTS)
    if scanned.count() != len(SCANNED_ACCOUNTS):
        raise RuntimeError(f"the demo has no longer all of {SCANNED_ACCOUNTS}: update the list")
    left_out = list(Account.objects.exclude(pk__in=scanned).values_list("pk", flat=True))
    scanners = list(User.objects.filter(username__in=ROLES).values_list("pk", flat=True))
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}" + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        + f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{DB_NAME}?conn_max_age=600"
    ), left_out, scanners  # fmt: skip


def gunicorn_start(procs, port: int):
    import requests

    process = procs.start(
        ["-m", "gunicorn", "handoff.wsgi:application", "-w", "3", "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "--log-level", "warning",
         "--access-logfile", str(OUT / "access.log"),
         "--access-logformat", '%(s)s %(m)s "%(U)s" "%(q)s"'],
        stdout=open(OUT / "gunicorn.out", "w"),  # noqa: SIM115  (the console e-mail backend)
        stderr=open(OUT / "gunicorn.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
            return process
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def sign_in(host: str, username: str) -> str:
    """Sign in through the form as a browser does; returns the Cookie header of the session.

    The cookies are Secure (production), so an http client would not send them back on its
    own: they are carried by hand, here and in Wapiti (-C)."""
    import requests

    from bench.html_forms import form_fields, with_values
    from handoff.accounts.demo import DEMO_PASSWORD

    page = requests.get(f"{host}/sign-in/", timeout=30)
    page.raise_for_status()
    flags = {c.name: c.secure for c in page.cookies}
    if flags != {"csrftoken": True}:
        raise RuntimeError(f"the sign-in page's cookies are not as production's Secure: {flags}")
    cookies = {"csrftoken": page.cookies["csrftoken"]}
    data = with_values(form_fields(page.text), username=username, password=DEMO_PASSWORD)
    response = requests.post(
        f"{host}/sign-in/", data, headers={"Cookie": _cookie_header(cookies)},
        allow_redirects=False, timeout=30,
    )  # fmt: skip
    if response.status_code != 302 or "sessionid" not in response.cookies:
        raise RuntimeError(f"signing in as {username} failed: {response.status_code}")
    # Wapiti's cookieflags module sees only the cookies set during the scan, never the session
    # cookie it is handed: check that one here.
    session = next(c for c in response.cookies if c.name == "sessionid")
    if not (session.secure and session.has_nonstandard_attr("HttpOnly")):
        raise RuntimeError("the session cookie is not Secure and HttpOnly")
    cookies.update({c.name: c.value for c in response.cookies})
    return _cookie_header(cookies)


def signed_in(host: str, cookie: str) -> bool:
    """Whether the session still opens the dashboard (signed out, it redirects to sign-in)."""
    import requests

    page = requests.get(f"{host}/", headers={"Cookie": cookie}, allow_redirects=False, timeout=30)
    return page.status_code == 200 and 'action="/sign-out/"' in page.text


def wapiti_args(
    host: str, role: str, cookie: str, left_out: list[int], scanners: list[int]
) -> list[str]:
    return [
        *WAPITI, "-u", f"{host}/", "--scope", "folder", "-m", MODULES,
        "-C", cookie,
        # Signing out would end the scan; so would the admin's pages of the three users the
        # scans sign in as (a new password signs their sessions out; deactivating or demoting
        # them ends or narrows the scan). The people admin's other pages are scanned.
        "-x", f"{host}/sign-out/", "-x", f"{host}/admin/logout/",
        "-x", f"{host}/admin/password_change/*", "-x", f"{host}/password/",
        *(arg for pk in scanners for arg in ("-x", f"{host}/admin/people/user/{pk}/*")),
        *(arg for pk in left_out for arg in ("-x", f"{host}/accounts/{pk}/*")),
        "-d", str(BUDGET["depth"]),
        "--max-links-per-page", str(BUDGET["max_links_per_page"]),
        "--max-scan-time", str(BUDGET["max_scan_time"]),
        "--max-attack-time", str(BUDGET["max_attack_time"]),
        "-t", str(BUDGET["timeout"]),
        # Every form's CSRF token: any change to it is refused (403) before the view runs, so
        # attacking it only spends the budget. Forms are attacked with it intact.
        "--skip", "csrfmiddlewaretoken",
        # Nothing leaves the machine: no out-of-band endpoint, no bug report.
        "--endpoint", "http://127.0.0.1:9/", "--dns-endpoint", "localhost", "--no-bugreport",
        "--flush-session", "--store-session", str(OUT / "session" / role),
        "--store-config", str(OUT / "config" / role),
        "-f", "json", "-o", str(OUT / f"{role}.json"), "-dr", "1", "-v", "1",
    ]  # fmt: skip


def report_read(role: str) -> tuple[dict, list[Finding]]:
    report = json.loads((OUT / f"{role}.json").read_text())
    findings = []
    for kind, key in (("vulnerability", "vulnerabilities"), ("anomaly", "anomalies"),
                      ("additional", "additionals")):  # fmt: skip
        for category, entries in report.get(key, {}).items():
            for entry in entries:
                findings.append(
                    Finding(
                        role,
                        kind,
                        entry.get("module", "?"),
                        category,
                        entry["method"],
                        entry["path"],
                        entry.get("parameter") or "",
                        entry.get("info") or "",
                    )  # fmt: skip
                )
    return report, findings


def coverage(report: dict) -> dict:
    """What the crawl reached: GET URLs and POST forms, and how many of them are signed-in
    pages (an account's pages and their forms; the sign-in page is all a signed-out crawl sees)."""
    crawled = [page["request"] for page in report["infos"].get("crawled_pages") or []]
    gets = [r for r in crawled if r["method"] == "GET"]
    posts = [r for r in crawled if r["method"] == "POST"]
    account = re.compile(r"^https?://[^/]+/accounts/\d+/")
    return {
        "urls": len(gets),
        "forms": len(posts),
        "account_urls": sum(bool(account.match(r["url"])) for r in gets),
        "account_forms": sum(bool(account.match(r["url"])) for r in posts),
        "sign_in_only": all("/sign-in/" in r["url"] for r in crawled),
    }


def attacked(role: str) -> dict[str, tuple[int, bool]]:
    """Per module, from Wapiti's log: how many crawled URLs and forms it attacked, and whether
    its time ran out before it had tried them all."""
    counts: dict[str, tuple[int, bool]] = {}
    module = None
    for line in (OUT / f"{role}.log").read_text(errors="replace").splitlines():
        if line.startswith("[*] Launching module "):
            module = line.removeprefix("[*] Launching module ").strip()
            counts[module] = (0, False)
        elif module and line.startswith("[+] "):
            counts[module] = (counts[module][0] + 1, counts[module][1])
        elif module and line.startswith("Max attack time was reached"):
            counts[module] = (counts[module][0], True)
    return counts


def server_errors() -> collections.Counter:
    """Every 5xx gunicorn answered, by method and path (the scanner reports only those its
    modules look for; a crawl that met a 500 is a 500 all the same)."""
    errors: collections.Counter = collections.Counter()
    for line in (OUT / "access.log").read_text(errors="replace").splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0].startswith("5"):
            errors[f"{parts[0]} {parts[1]} {parts[2].split(' ')[0].strip(chr(34))}"] += 1
    return errors


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument(
        "--crawl-time",
        type=float,
        default=BUDGET["max_scan_time"],
        help="seconds of crawling per role (Wapiti's --max-scan-time)",
    )
    parser.add_argument("--attack-time", type=float, default=BUDGET["max_attack_time"],
                        help="seconds per module and role (Wapiti's --max-attack-time); "
                        "raise it for a deeper scan than CI's")  # fmt: skip
    args = parser.parse_args()
    BUDGET.update(max_scan_time=args.crawl_time, max_attack_time=args.attack_time)
    roles = [r for r in args.roles.split(",") if r]
    if not SCAN_PYTHON.exists():
        sys.exit(f"{SCAN_PYTHON} is missing: run `make scan`, which installs Wapiti there.")
    for stale in [*OUT.glob("*.json"), OUT / "access.log"]:
        stale.unlink(missing_ok=True)

    from django.db import connection

    started = time.monotonic()
    old_name = connection.settings_dict["NAME"]
    log(f"creating the database {DB_NAME} (migrate, seed_demo, collectstatic)")
    database_url, left_out, scanners = database_create()
    procs = vsb.Processes({**os.environ, "DATABASE_URL": database_url})
    problems: list[str] = []
    try:
        vsb.fake_start(procs, 100_000)
        port = free_port()
        gunicorn_start(procs, port)
        host = f"http://127.0.0.1:{port}"
        cookies = {role: sign_in(host, role) for role in roles}
        log(f"setup took {time.monotonic() - started:.0f} s; scanning {host} as {', '.join(roles)}")
        scans = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
        for role in roles:
            scans[role] = subprocess.Popen(  # noqa: S603  (our own venv's wapiti)
                wapiti_args(host, role, cookies[role], left_out, scanners), cwd=OUT, env=env,
                stdout=open(OUT / f"{role}.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
            )  # fmt: skip
        for role, scan in scans.items():
            code = scan.wait()
            log(f"wapiti as {role} finished (exit {code}) at {time.monotonic() - started:.0f} s")
            if code != 0:
                problems.append(f"{role}: wapiti exited {code} (see var/scan/{role}.log)")
            if not signed_in(host, cookies[role]):
                problems.append(f"{role}: the session was signed out during the scan")
    finally:
        procs.stop_all()
        REDIS.terminate()
        REDIS.wait(10)
        connection.creation.destroy_test_db(old_name, verbosity=0)

    findings: list[Finding] = []
    covered = {}
    for role in roles:
        if not (OUT / f"{role}.json").exists():
            problems.append(f"{role}: no report")
            continue
        report, role_findings = report_read(role)
        findings += role_findings
        covered[role] = coverage(report)
        c = covered[role]
        if c["sign_in_only"] or not c["account_urls"] or not c["account_forms"]:
            problems.append(f"{role}: the crawl did not cover signed-in pages and forms: {c}")
    errors = server_errors()
    print_summary(roles, covered, findings, errors, time.monotonic() - started)
    print("\nURLs and forms attacked per module (* = its time ran out first)")
    done = {role: attacked(role) for role in roles if (OUT / f"{role}.log").exists()}
    print(f"{'module':<14}" + "".join(f"{r:>16}" for r in done))
    for module in MODULES.split(","):
        cells = [f"{n}{'*' if late else ''}" for n, late in
                 (done[r].get(module, (0, False)) for r in done)]  # fmt: skip
        print(f"{module:<14}" + "".join(f"{cell:>16}" for cell in cells))
    for finding in findings:
        if finding.kind != "additional" and not finding.allowed():
            problems.append(
                f"{finding.role}: {finding.kind} [{finding.module}] {finding.category}: "
                f"{finding.method} {finding.path} {finding.parameter!r}: {finding.info[:160]}"
            )
    problems += [f"server error ×{n}: {what}" for what, n in sorted(errors.items())]
    for problem in problems:
        print(f"FAILED: {problem}")
    print(f"{len(problems)} problems" if problems else "scan passed: 0 vulnerabilities, "
          "0 anomalies, 0 server errors outside the allow-list")  # fmt: skip
    return 1 if problems else 0


def print_summary(roles, covered, findings, errors, seconds) -> None:
    print(f"\nWapiti {MODULES}")
    print(f"budget: {BUDGET}; wall time {seconds:.0f} s\n")
    print(f"{'role':<10}{'URLs':>7}{'forms':>7}{'account URLs':>14}{'account forms':>15}")
    for role in roles:
        c = covered.get(role)
        if c:
            print(f"{role:<10}{c['urls']:>7}{c['forms']:>7}{c['account_urls']:>14}"
                  f"{c['account_forms']:>15}")  # fmt: skip
    print(
        f"\nfindings per module, each role vulnerabilities/anomalies/additionals "
        f"(allowed ones in brackets)\n{'module':<14}" + "".join(f"{r:>16}" for r in roles)
    )
    for module in MODULES.split(","):
        cells = []
        for role in roles:
            counts = []
            for kind in ("vulnerability", "anomaly", "additional"):
                mine = [f for f in findings if (f.role, f.module, f.kind) == (role, module, kind)]
                allowed = sum(1 for f in mine if f.allowed())
                counts.append(f"{len(mine)}" + (f"[{allowed}]" if allowed else ""))
            cells.append("/".join(counts))
        print(f"{module:<14}" + "".join(f"{cell:>16}" for cell in cells))
    seen = set()
    for f in findings:
        key = (f.kind, f.module, f.info, f.method, f.path)
        if f.allowed() and key not in seen:
            seen.add(key)
            print(f"allowed: [{f.module}] {f.info} ({f.method} {f.path}): {f.allowed()}")
    print(f"\nserver errors (5xx in gunicorn's access log): {sum(errors.values())}")


if __name__ == "__main__":
    sys.exit(main())
