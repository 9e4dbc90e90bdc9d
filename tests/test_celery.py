"""Celery is wired to a real broker: a real worker executes the portal's tasks."""

import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from handoff.accounts.tasks import clear_expired_sessions
from handoff.celery import app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_broker_comes_from_redis_url_in_tests():
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    assert app.conf.broker_url.startswith("redis://")
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_beat_schedule_includes_session_cleanup():
    entry = app.conf.beat_schedule["clear-expired-sessions"]
    assert entry["task"] == "accounts.clear_expired_sessions"


def test_real_worker_runs_the_session_cleanup_task():
    expired = timezone.now() - datetime.timedelta(days=1)
    Session.objects.create(session_key="x" * 32, session_data="e30=", expire_date=expired)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        clear_expired_sessions.delay()
        deadline = time.monotonic() + 20
        while Session.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not Session.objects.exists()
