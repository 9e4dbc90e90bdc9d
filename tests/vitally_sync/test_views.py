"""What people see: the badge on the dashboard and the account page, the Vitally panel, Push now."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory
from tests.phases import phase_move
from vitally_sync.conf import sync_config
from vitally_sync.fake import Scripted
from vitally_sync.models import AccountSync
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(ie, ta, manager):
    """Shared people for bulk accounts (each factory user costs a password hash)."""
    return {"implementation_engineer": ie, "technical_advisor": ta, "manager": manager}


@pytest.fixture
def pushed(fake_vitally, account):
    """The fixture account, linked to the fake and pushed once."""
    fake_vitally.account_create(external_id=account.vitally_account_id, name=account.name)
    sync_account_push(account_id=account.pk)
    return account


def row_badges(response) -> dict[str, str]:
    page = response.content.decode()
    badges = {}
    for account in response.context["page"].object_list:
        start = page.index(f">{account.name}</a>")
        snippet = page[start : page.index("</tr>", start)]
        badges[account.name] = snippet.split('class="badge sync-')[1].split(" ")[0]
    return badges


def test_dashboard_rows_show_each_sync_state(client_for, ie, fake_vitally, people):
    def make(name, vitally_id, **sync):
        account = AccountFactory(name=name, vitally_account_id=vitally_id, **people)
        if sync:
            AccountSync.objects.create(account=account, **sync)

    fp = sync_config().fingerprint
    make("Synced Co", "synced-co", acked_version=1, status="synced", config_fingerprint=fp)
    make("Pending Co", "pending-co", status="pending")
    make("Never Co", "never-co")  # no sync row yet: the sweeper has not seen it
    make("Retrying Co", "retrying-co", status="retrying", attempts=2)
    make("Attention Co", "attention-co", status="attention", failed_version=1, last_error="404")
    key = sync_config().key_fingerprint
    make("Refused Co", "refused-co", status="failed", failed_key=key, last_error="HTTP 401")
    AccountFactory(name="Unlinked Co", vitally_account_id="", **people)
    response = client_for(ie).get(reverse("accounts:dashboard"))
    assert row_badges(response) == {
        "Attention Co": "attention",
        "Never Co": "pending",
        "Pending Co": "pending",
        "Refused Co": "failed",
        "Retrying Co": "retrying",
        "Synced Co": "synced",
        "Unlinked Co": "not_linked",
    }
    assert '<th scope="col">Vitally</th>' in response.content.decode()


@pytest.mark.parametrize("accounts", [3, 60])
def test_the_badge_column_adds_no_query_to_the_dashboard(
    client_for, ie, accounts, django_assert_num_queries, fake_vitally, people
):
    for account in AccountFactory.create_batch(accounts, **people):
        AccountSync.objects.create(
            account=account,
            acked_version=1,
            status="synced",
            config_fingerprint=sync_config().fingerprint,
        )
    client = client_for(ie)
    # session, user, count, page rows (people and sync state joined), engineers, advisors
    with django_assert_num_queries(6):
        response = client.get(reverse("accounts:dashboard"))
    assert response.content.decode().count("sync-synced") == min(accounts, 25)


def test_badges_say_not_configured_when_the_sync_is_off(client_for, ie, account, settings):
    settings.VITALLY_API_KEY = ""
    response = client_for(ie).get(reverse("accounts:dashboard"))
    assert row_badges(response) == {"Acme Robotics": "not_configured"}
    page = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "The Vitally sync is not configured" in page
    assert "Push now" not in page


def test_a_broken_trait_map_turns_the_sync_off_without_breaking_pages(
    client_for, ie, pushed, settings, fake_vitally
):
    settings.VITALLY_TRAIT_MAP = '{"total_cpus": "vitally.custom.x"}'
    dashboard = client_for(ie).get(reverse("accounts:dashboard"))
    assert row_badges(dashboard) == {"Acme Robotics": "not_configured"}
    page = client_for(ie).get(reverse("accounts:detail", args=[pushed.pk])).content.decode()
    assert "The Vitally sync is off: VITALLY_TRAIT_MAP is invalid" in page
    assert sync_account_push(account_id=pushed.pk).outcome.value == "skipped"


def test_account_page_shows_badge_last_push_and_the_vitally_page_what_was_sent_and_a_preview(
    client_for, ie, pushed, manager
):
    phase_move(account=pushed, actor=manager, to="handed_off")
    page = client_for(ie).get(reverse("accounts:detail", args=[pushed.pk])).content.decode()
    assert 'href="#vitally"' in page  # in the section nav
    assert "Vitally <span" in page  # the badge beside the phase in the header
    assert 'class="badge sync-pending' in page
    panel = page[page.index('id="vitally-panel"') :]
    last_push = panel.split("Last push")[1].split("</div>")[0]
    assert "Never" not in last_push
    details = reverse("vitally_sync:panel", args=[pushed.pk])
    assert f'<a href="{details}">Vitally details' in panel
    assert "The portal and Vitally" not in panel  # the trait table is on the Vitally page
    assert f'data-hx-get="{details}?summary=1"' in panel  # refreshes itself until it lands
    page = client_for(ie).get(details).content.decode()
    panel = page[page.index('id="vitally-panel"') :]
    assert "The portal and Vitally" in panel
    assert "1 trait differs from what Vitally holds (highlighted): only those are sent" in panel
    assert '<tr class="changed">' in panel
    assert "Implementation" in panel and "Handed off" in panel  # last sent → now
    assert "vitally.custom.handoffStatus" in panel
    assert "What Vitally acknowledged (JSON)" in panel
    assert "Recent requests" in panel and "Pushed" in panel
    assert 'hx-trigger="every 2s"' in panel  # refreshes itself until it lands


def test_panel_shows_the_last_error_and_the_failed_badge(client_for, ie, account, fake_vitally):
    fake_vitally.api_key = "sk_rolled"
    sync_account_push(account_id=account.pk)
    page = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    panel = page[page.index('id="vitally-panel"') :]
    assert 'class="badge sync-failed bad"' in panel
    assert "so nothing is sent with it" in panel
    assert "administrators" in panel
    assert "hx-swap-oob" not in page  # a full page has the header badge already
    assert "Vitally refused the API key (HTTP 401): check the Vitally API key." in panel
    assert "hx-trigger" not in panel  # nothing on its way: no polling
    assert "Never" in panel  # never pushed successfully


def test_panel_for_an_unlinked_account(client_for, ie, fake_vitally):
    account = AccountFactory(vitally_account_id="")
    page = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "This account has no Vitally account id" in page
    assert "Push now" not in page


def test_the_vitally_section_costs_the_same_queries_whatever_its_history(
    client_for, ie, pushed, fake_vitally, settings
):
    client = client_for(ie)
    url = reverse("accounts:detail", args=[pushed.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one_attempt:
        client.get(url)
    for _ in range(4):
        fake_vitally.script(Scripted(502))
        AccountSync.objects.filter(pk=pushed.pk).update(full_push_asked=F("full_push_asked") + 1)
        sync_account_push(account_id=pushed.pk)
    with CaptureQueriesContext(connection) as five_attempts:
        client.get(url)
    assert len(five_attempts) == len(one_attempt)
    sync_queries = [q["sql"] for q in one_attempt if "vitally_sync_" in q["sql"]]
    # The sync row rides on the account's queries; the record loads the differences found in
    # Vitally (read by the section and the attention list). The attempts are on the Vitally page.
    joined = [q for q in sync_queries if q.startswith('SELECT "accounts_account"')]
    assert joined and all("LEFT OUTER JOIN" in q for q in joined)
    own = [q for q in sync_queries if q not in joined]
    assert len(own) == 1
    assert sum('FROM "vitally_sync_traitdifference"' in q for q in own) == 1


def test_push_now_button_only_for_people_who_may_push(client_for, pushed, ie, ta):
    url = reverse("accounts:detail", args=[pushed.pk])
    assert "Push now" in client_for(ie).get(url).content.decode()  # the assigned IE
    other_ta = UserFactory(username="other-ta", role=User.Role.TECHNICAL_ADVISOR)
    assert "Push now" not in client_for(other_ta).get(url).content.decode()


def test_push_now_is_refused_on_the_server_for_someone_who_may_not(client_for, pushed):
    other_ie = UserFactory(username="other-ie", role=User.Role.IMPLEMENTATION_ENGINEER)
    response = client_for(other_ie).post(reverse("vitally_sync:push", args=[pushed.pk]))
    assert response.status_code == 403
    assert AccountSync.objects.get(pk=pushed.pk).push_requested is False
    assert not AuditEvent.objects.filter(action=AuditEvent.Kind.ACTION).exists()


def test_push_now_asks_a_worker_and_never_calls_vitally_in_the_request(
    client_for, pushed, ie, fake_vitally, django_capture_on_commit_callbacks
):
    before = len(fake_vitally.requests_log())
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(ie).post(
            reverse("vitally_sync:push", args=[pushed.pk]), {"summary": "1"}
        )
    assert response.status_code == 302  # back to the account page's Vitally section
    assert response["Location"] == reverse("accounts:detail", args=[pushed.pk]) + "#vitally"
    assert len(callbacks) == 1  # the kick, after the commit
    assert len(fake_vitally.requests_log()) == before
    sync = AccountSync.objects.get(pk=pushed.pk)
    assert sync.push_requested and sync.next_attempt_at is None
    event = AuditEvent.objects.get(action=AuditEvent.Kind.ACTION)
    assert event.actor == ie and event.account_id == pushed.pk


def test_push_now_over_htmx_returns_the_panel_with_a_notice(client_for, pushed, ie):
    response = client_for(ie).post(
        reverse("vitally_sync:push", args=[pushed.pk]), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert "<html" not in page and 'id="vitally-panel"' in page
    assert "Push requested: a worker sends the current values" in page
    assert 'class="badge sync-pending' in page


def test_push_now_on_an_unlinked_account_sends_nothing(client_for, ie, fake_vitally):
    account = AccountFactory(vitally_account_id="", implementation_engineer=ie)
    response = client_for(ie).post(reverse("vitally_sync:push", args=[account.pk]), follow=True)
    assert "has no Vitally account id: nothing was sent" in response.content.decode()
    assert not AccountSync.objects.exists()


def test_push_now_needs_post_and_a_real_account(client_for, pushed, ie):
    client = client_for(ie)
    assert client.get(reverse("vitally_sync:push", args=[pushed.pk])).status_code == 405
    assert client.post(reverse("vitally_sync:push", args=[999999])).status_code == 404


def test_panel_partial_for_polling(client_for, pushed, ta):
    response = client_for(ta).get(
        reverse("vitally_sync:panel", args=[pushed.pk]), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert 'class="badge sync-synced ok"' in page
    assert "hx-trigger" not in page
    # The header badge is refreshed out of band with the panel.
    assert f'id="vitally-badge-{pushed.pk}"' in page and 'hx-swap-oob="true"' in page


def test_anonymous_people_are_sent_to_sign_in(client, pushed):
    for url in (
        reverse("vitally_sync:panel", args=[pushed.pk]),
        reverse("vitally_sync:push", args=[pushed.pk]),
    ):
        response = client.post(url) if url.endswith("push/") else client.get(url)
        assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_admin_lists_failing_accounts_and_retries_them(client, admin_user, fake_vitally, people):
    failed = AccountFactory(name="Failed Co", vitally_account_id="failed-co", **people)
    AccountSync.objects.create(
        account=failed, status="attention", failed_version=1, last_error="Vitally has no account"
    )
    fine = AccountFactory(name="Fine Co", vitally_account_id="fine-co", **people)
    AccountSync.objects.create(account=fine, status="synced", acked_version=1)
    client.force_login(admin_user)
    url = reverse("admin:vitally_sync_accountsync_changelist")
    listing = client.get(url, {"attention": "failing"}).content.decode()
    assert "Failed Co" in listing and "Fine Co" not in listing
    assert "Vitally has no account" in listing
    assert "Fine Co" in client.get(url, {"status__exact": "synced"}).content.decode()
    response = client.post(
        url, {"action": "retry_now", "_selected_action": [failed.pk]}, follow=True
    )
    assert "Asked the workers to push 1 account(s) now." in response.content.decode()
    sync = AccountSync.objects.get(pk=failed.pk)
    assert sync.push_requested
    detail = client.get(reverse("admin:vitally_sync_accountsync_change", args=[failed.pk]))
    assert detail.status_code == 200 and "Vitally has no account" in detail.content.decode()


def test_admin_cannot_add_or_delete_sync_rows(client, admin_user, fake_vitally):
    client.force_login(admin_user)
    assert client.get(reverse("admin:vitally_sync_accountsync_add")).status_code == 403


def test_accounts_without_sync_rows_and_timezone_aware_times_render(client_for, ie, pushed):
    AccountSync.objects.filter(pk=pushed.pk).update(
        status="retrying", next_attempt_at=timezone.now(), attempts=1
    )
    Account.objects.filter(pk=pushed.pk).update(change_version=99)
    page = client_for(ie).get(reverse("accounts:detail", args=[pushed.pk])).content.decode()
    assert "Next attempt" in page and "(attempt 2)" in page


@pytest.mark.parametrize(
    "sync, expected",
    [
        (
            {
                "status": "failed",
                "failed_key": "CURRENT",
                "last_error": "401: check the Vitally API key",
            },
            [("critical", "Vitally sync: failed", "401: check the Vitally API key")],
        ),
        (
            {"status": "attention", "failed_version": 99, "last_error": "404: no such account"},
            [("critical", "Vitally sync: needs attention", "404: no such account")],
        ),
        (
            {"status": "retrying", "last_error": "503 from Vitally"},
            [("warning", "Vitally sync: retrying", "503 from Vitally")],
        ),
        ({"status": "synced", "acked_version": 99, "config_fingerprint": "CURRENT"}, []),
    ],
)
def test_the_handoff_attention_strip_shows_a_failed_or_retrying_sync(
    client_for, ta, fake_vitally, people, sync, expected, django_assert_num_queries
):
    from handoff.record import account_record_get
    from vitally_sync.contribution import vitally_attention_items

    account = AccountFactory(vitally_account_id="strip-co", **people)
    config = sync_config()
    current = {"failed_key": config.key_fingerprint, "config_fingerprint": config.fingerprint}
    sync = {name: current[name] if value == "CURRENT" else value for name, value in sync.items()}
    AccountSync.objects.create(account=account, **sync)
    loaded = account_record_get(account.pk)
    with django_assert_num_queries(0):  # the sync row rides on the record's account query
        items = vitally_attention_items(loaded)
    assert [(i.level, i.title, i.detail) for i in items] == expected
    page = client_for(ta).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    for _level, title, _detail in expected:
        assert title in page
    if not expected:
        assert "Vitally sync:" not in page  # a synced account raises nothing


def test_a_push_shows_on_cached_pages_though_the_account_did_not_change(
    client_for, manager, pushed, fake_vitally
):
    """The sync row changes without the account's change_version: its state is part of the
    page cache's key (accounts/page_cache.py), so the next view shows it."""
    client = client_for(manager)
    for url in (
        reverse("accounts:detail", args=[pushed.pk]),
        reverse("accounts:detail", args=[pushed.pk]),
    ):
        client.get(url)
        assert "Vitally refused the API key" not in client.get(url).content.decode()
    AccountSync.objects.filter(pk=pushed.pk).update(
        status=AccountSync.Status.FAILED,
        failed_key=sync_config().key_fingerprint,
        last_error="Vitally refused the API key (HTTP 401): check the Vitally API key.",
    )
    for url in (
        reverse("accounts:detail", args=[pushed.pk]),
        reverse("accounts:detail", args=[pushed.pk]),
    ):
        assert "Vitally refused the API key" in client.get(url).content.decode()
