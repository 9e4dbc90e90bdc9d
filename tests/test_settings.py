import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "SECRET_KEY": "a-production-like-secret-key-with-plenty-of-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "handoff.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}


def test_ci_runs_on_postgresql():
    if not os.environ.get("CI"):
        pytest.skip("only CI insists on PostgreSQL")
    assert connection.vendor == "postgresql"


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=PRODUCTION_ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_secret_key_is_required_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def _reconcile_seconds(**env: str) -> float:
    """VITALLY_RECONCILE_SECONDS as the settings compute it under `env` (a fresh process)."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'handoff.settings'; "
        "from django.conf import settings; print(settings.VITALLY_RECONCILE_SECONDS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return float(result.stdout.strip().splitlines()[-1])


def test_make_runs_demo_reads_vitally_back_every_two_minutes_and_production_every_six_hours():
    # `make run`: DEBUG, no Vitally configured, so the local fake; a hand edit there shows soon.
    assert _reconcile_seconds(DEBUG="1") == 120
    # A real Vitally, in development or in production, keeps the 6 hours; the variable wins.
    assert _reconcile_seconds(DEBUG="1", VITALLY_API_KEY="sk_real") == 21600
    assert _reconcile_seconds() == 21600
    assert _reconcile_seconds(DEBUG="1", VITALLY_RECONCILE_SECONDS="30") == 30
