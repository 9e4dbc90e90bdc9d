"""One date style on pages: "5 Jan 2027", and "5 Jan 2027, 14:05" for a moment. ISO stays in
<time datetime>, exports and CSV."""

import datetime
import re

from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from vitally_sync.models import AccountSync, SyncAttempt


def _text(html: str) -> str:
    """What a person reads: tags (and so their datetime="..." attributes) removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_date_reads_5_jan_2027_on_the_dashboard_and_in_history(client_for, account, ie):
    client = client_for(ie)
    client.post(
        reverse("accounts:edit", args=[account.pk]),
        {"name": "Acme Robotics", "planned_completion_date": "2027-01-05", "version": 1},
    )

    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    assert '<time datetime="2027-01-05">5 Jan 2027</time>' in dashboard

    history = client.get(reverse("accounts:history", args=[account.pk])).content.decode()
    text = _text(history)
    # The change itself (History stores ISO) and the moment it happened, in the page's style.
    assert "Planned completion date — 5 Jan 2027" in text
    assert "2027-01-05" not in text and "Jan. 5" not in text
    moment = timezone.localtime()
    assert f"{moment:%-d %b %Y}, " in text
    assert re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}\b", text)
    assert "a.m." not in text and "p.m." not in text
    assert 'datetime="' in history  # machine-readable ISO stays on the <time> element


def test_django_formats_are_the_pages_style():
    rendered = Template("{{ d }} · {{ d|date }} · {{ t|date:'DATETIME_FORMAT' }} · {{ t }}").render(
        Context(
            {
                "d": datetime.date(2027, 1, 5),
                "t": datetime.datetime(2027, 1, 5, 14, 5, tzinfo=datetime.UTC),
            }
        )
    )
    assert rendered == "5 Jan 2027 · 5 Jan 2027 · 5 Jan 2027, 14:05 · 5 Jan 2027, 14:05"


def test_history_value_formats_only_real_iso_dates():
    template = Template("{% load history_tags %}{{ v|history_value }}")
    shown = [
        template.render(Context({"v": value}))
        for value in ("2027-01-05", "2027-01-05T14:05:00+00:00", "2027-13-40", "Kubernetes", 48)
    ]
    assert shown == ["5 Jan 2027", "5 Jan 2027, 14:05", "2027-13-40", "Kubernetes", "48"]


def test_admin_sync_list_shows_one_status_column_and_page_dates(client, admin_user, account):
    moment = datetime.datetime(2026, 12, 4, 14, 16, tzinfo=datetime.UTC)
    AccountSync.objects.create(
        account=account, status="attention", last_error="Vitally has no account",
        last_pushed_at=moment,
    )  # fmt: skip
    SyncAttempt.objects.create(account=account, at=moment, outcome="failed", change_version=1)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:vitally_sync_accountsync_changelist")).content.decode()
    headers = re.findall(r'<th scope="col"\s+class="[^"]*column-(\w+)', listing)
    assert "shown_as" in headers and "status" not in headers
    assert "4 Dec 2026, 14:16" in _text(listing)
    assert "Dec. 4" not in listing and "p.m." not in listing
    detail = client.get(reverse("admin:vitally_sync_accountsync_change", args=[account.pk]))
    assert "4 Dec 2026, 14:16 · " in detail.content.decode()
