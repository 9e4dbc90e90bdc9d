"""The Vitally sync page (vitally_sync:health): every account's sync, trouble first, for managers
and admins, in place of the Django admin's list."""

import datetime
import html as html_lib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory
from tests.query_budget import SYNC_HEALTH_QUERIES
from vitally_sync.conf import sync_config
from vitally_sync.models import AccountSync, SyncAttempt, TraitDifference

pytestmark = pytest.mark.django_db

HEALTH = "/vitally/"
NOW = timezone.now()
# The page's order: trouble first, then the rest.
ORDER = ["failed", "attention", "retrying", "differs", "stale", "pending", "synced", "not_linked"]


@pytest.fixture
def sync_on(settings):
    """The sync configured (nothing is sent: the page only reads)."""
    settings.VITALLY_BASE_URL = "https://vitally.invalid"
    settings.VITALLY_API_KEY = "sk_test_portal"
    settings.VITALLY_TRAIT_MAP = ""
    return sync_config()


@pytest.fixture
def staff(db):
    return UserFactory(username="ada", role="", is_staff=True)


def ago(**delta) -> datetime.datetime:
    return NOW - datetime.timedelta(**delta)


def attempt(account, outcome: str, status: int, message: str, when) -> None:
    SyncAttempt.objects.create(
        account=account,
        at=when,
        answered_at=when,
        change_version=account.change_version,
        outcome=outcome,
        http_status=status,
        message=message,
    )


def one_of_each(manager, *, suffix: str = "") -> dict[str, Account]:
    """An account in each state the page tells apart, written as the sync writes its rows."""
    config = sync_config()

    def account(name, **fields):
        return AccountFactory(
            name=f"{name}{suffix}",
            change_version=5,
            changed_at=fields.pop("changed_at", NOW),
            implementation_engineer=None,
            technical_advisor=None,
            manager=manager,
            **fields,
        )

    def sync(acc, status, **fields):
        defaults = {"acked_version": 4, "config_fingerprint": config.fingerprint}
        AccountSync.objects.create(account=acc, status=status, **{**defaults, **fields})
        return acc

    made = {
        "synced": sync(
            account("Synced Co"), "synced", acked_version=5, last_pushed_at=ago(hours=2)
        ),
        "differs": sync(account("Differs Co"), "synced", acked_version=5, differences=1),
        "pending": account("Pending Co"),  # edited a moment ago, no sync row yet
        # A change made an hour ago that no worker has pushed (the worker or beat is down).
        "stale": sync(account("Stale Co", changed_at=ago(hours=1)), "synced"),
        "retrying": sync(
            account("Retrying Co", changed_at=ago(minutes=20)),
            "retrying",
            attempts=3,
            next_attempt_at=NOW + datetime.timedelta(minutes=2),
            last_error="Vitally answered 503: Service Unavailable.",
            last_error_at=ago(minutes=1),
        ),
        "attention": sync(
            account("Attention Co", changed_at=ago(days=2)),
            "attention",
            attempts=1,
            failed_version=5,
            next_attempt_at=NOW + datetime.timedelta(minutes=40),
            last_error="Vitally has no account 'attention-co' (404).",
            last_error_at=ago(minutes=20),
        ),
        "failed": sync(
            account("Failed Co", changed_at=ago(minutes=30)),
            "failed",
            failed_key=config.key_fingerprint,
            last_error="Vitally refuses the API key (401).",
            last_error_at=ago(minutes=5),
        ),
        "not_linked": account("Unlinked Co", vitally_account_id=""),
    }
    TraitDifference.objects.create(
        account=made["differs"],
        trait_key="vitally.custom.totalCpu",
        field_name="total_cpu",
        portal_value=48,
        vitally_value=64,
        first_seen_at=ago(hours=3),
        last_seen_at=ago(minutes=10),
    )
    attempt(made["synced"], "pushed", 200, "", ago(hours=2))
    attempt(made["retrying"], "transient", 503, "Service Unavailable", ago(minutes=1))
    attempt(made["attention"], "failed", 404, "No such account", ago(minutes=20))
    return made


def page(client, query: str = "", **headers):
    response = client.get(HEALTH + query, headers=headers)
    assert response.status_code == 200
    return response


def states_listed(response) -> list[str]:
    return [row.state for row in response.context["health"].rows]


def text(response) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- Who may see it -----------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["manager", "staff"])
def test_managers_and_admins_see_it_and_the_top_bar_links_it(client_for, who, manager, staff):
    response = page(client_for({"manager": manager, "staff": staff}[who]))
    assert '<a href="/vitally/" aria-current="page">Vitally sync</a>' in response.content.decode()
    # Both may import: the page leads there too.
    assert '<a class="button" href="/vitally/import/">Import from Vitally</a>' in response.text


@pytest.mark.parametrize("who", ["ie", "ta"])
def test_others_get_the_403_page_with_the_reason_and_no_link(client_for, who, ie, ta):
    client = client_for({"ie": ie, "ta": ta}[who])
    response = client.get(HEALTH)
    assert response.status_code == 403
    assert "You can’t see the Vitally sync of every account" in text(response)
    assert "for managers and the portal's admins" in text(response)
    assert 'href="/vitally/"' not in client.get(reverse("accounts:dashboard")).content.decode()


def test_a_manager_without_staff_and_a_staff_member_without_a_role_may(manager, staff):
    # The permission module's one rule: managers and admins, whatever else they are.
    from handoff.permissions import Action, can

    nobody = UserFactory(username="nobody", role="")
    assert [can(u, Action.VITALLY_HEALTH) for u in (manager, staff, nobody)] == [
        True,
        True,
        False,
    ]


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(HEALTH)
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


# --- What it lists, in which order --------------------------------------------------------------
def test_trouble_comes_first_then_the_rest_with_counts(client_for, manager, sync_on):
    made = one_of_each(manager)
    response = page(client_for(manager))
    assert states_listed(response) == ORDER
    # The badge each row shows is the account page's, for every state but the stale one,
    # which the badge calls Pending.
    badges = [row.badge.state for row in response.context["health"].rows]
    assert badges == [s if s != "stale" else "pending" for s in ORDER]
    counts = response.context["health"].counts
    assert counts == {**dict.fromkeys(ORDER, 1), "not_configured": 0}
    assert response.context["health"].trouble == 5
    body = text(response)
    assert "Any trouble 5" in body and "Needs attention 1" in body and "Not linked 1" in body
    assert "8 accounts" in body
    # Each row: its account's Vitally page, the badge's words, the page's one date format.
    html = response.content.decode()
    panel = reverse("vitally_sync:panel", args=[made["attention"].pk])
    assert f'<a href="{panel}">Attention Co</a>' in html
    assert re.search(
        rf'id="vitally-badge-{made["attention"].pk}" class="badge sync-attention bad"', html
    )
    attention = next(r for r in response.context["health"].rows if r.state == "attention")
    assert attention.since == made["attention"].changed_at  # the change Vitally lacks
    shown = timezone.localtime(attention.since)
    assert f"{shown.day} {shown:%b %Y, %H:%M}" in body
    assert "waiting 2 days" in body
    assert "Failed (HTTP 404)" in body and "Vitally has no account 'attention-co' (404)." in body
    assert "Error, retrying (HTTP 503)" in body
    assert not re.search(r"\b(a\.m\.|p\.m\.)", body)


def test_since_is_when_the_state_began(client_for, manager, sync_on):
    made = one_of_each(manager)
    rows = {r.state: r for r in page(client_for(manager)).context["health"].rows}
    assert rows["synced"].since == AccountSync.objects.get(pk=made["synced"].pk).last_pushed_at
    assert rows["differs"].since == TraitDifference.objects.get().first_seen_at
    assert rows["stale"].since == made["stale"].changed_at
    assert rows["stale"].waiting_for == "1\xa0hour"
    assert rows["pending"].waiting_for == ""  # a few seconds: the normal time to a push
    assert rows["not_linked"].since is None


def test_push_now_only_where_a_push_helps(client_for, manager, sync_on):
    made = one_of_each(manager)
    html = page(client_for(manager)).content.decode()
    offered = {
        state
        for state, account in made.items()
        if reverse("vitally_sync:push", args=[account.pk]) in html
    }
    assert offered == {"attention", "retrying", "stale"}


def test_push_now_from_the_page_comes_back_to_it_with_its_filters(client_for, manager, sync_on):
    made = one_of_each(manager)
    client = client_for(manager)
    push = reverse("vitally_sync:push", args=[made["attention"].pk])
    response = client.post(push, {"back": f"{HEALTH}?state=attention&manager=me"}, follow=True)
    assert response.redirect_chain == [(f"{HEALTH}?state=attention&manager=me", 302)]
    assert "Push requested" in text(response)
    assert AccountSync.objects.get(pk=made["attention"].pk).push_requested


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/vitally/",
        "//evil.example/vitally/",
        "/accounts/",
        "/vitally/\r\nSet-Cookie: x=1",
        "/vitally/?state=x\r\nSet-Cookie:%20x=1",
    ],
)
def test_a_forged_back_address_never_leaves_the_page(client_for, manager, sync_on, back):
    made = one_of_each(manager)
    push = reverse("vitally_sync:push", args=[made["retrying"].pk])
    response = client_for(manager).post(push, {"back": back})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(HEALTH) or location == reverse(
        "vitally_sync:panel", args=[made["retrying"].pk]
    )
    assert "\n" not in location and "\r" not in location


def test_the_sync_off_says_so_and_lists_every_account_as_not_configured(client_for, manager):
    AccountFactory(manager=manager)
    response = page(client_for(manager))
    assert "The Vitally sync is not configured" in text(response)
    assert states_listed(response) == ["not_configured"]


# --- Filters ------------------------------------------------------------------------------------
def test_filter_by_state_trouble_and_manager(client_for, manager, sync_on):
    other = UserFactory(username="otto", role=User.Role.MANAGER)
    one_of_each(manager)
    one_of_each(other, suffix=" (Otto's)")
    client = client_for(manager)
    assert states_listed(page(client, "?state=attention")) == ["attention", "attention"]
    assert states_listed(page(client, "?state=trouble&manager=me")) == ORDER[:5]
    mine = page(client, "?manager=me")
    assert len(mine.context["health"].rows) == 8
    assert all(r.account.manager_id == manager.pk for r in mine.context["health"].rows)
    theirs = page(client, f"?manager={other.pk}&state=stale")
    assert [r.account.name for r in theirs.context["health"].rows] == ["Stale Co (Otto's)"]
    # The counts follow the person filter, not the state: each is a link keeping it.
    assert theirs.context["health"].counts["synced"] == 1
    assert 'href="?state=failed&amp;manager=me"' in page(client, "?manager=ME").content.decode()
    # The filter bar applies as you choose (htmx), with the URL kept shareable.
    html = page(client).content.decode()
    assert 'data-hx-get="/vitally/"' in html and 'data-hx-push-url="true"' in html
    assert '<option value="me">Me</option>' in html


def test_htmx_gets_the_rows_alone(client_for, manager, sync_on):
    one_of_each(manager)
    response = page(client_for(manager), "?state=failed", HX_Request="true")
    html = response.content.decode()
    assert "<html" not in html and "Failed Co" in html and "Synced Co" not in html


@pytest.mark.parametrize(
    "query",
    [
        "state=nope",
        "state=%00",
        "state=",
        "manager=%C2%B2",
        "manager=" + "9" * 30,
        "manager=-1",
        "manager=1.5",
        "manager=%00",
        "manager=abc",
        "state[]=failed",
        "state=failed&state=synced",
    ],
)
def test_a_malformed_filter_is_ignored_never_a_500(client_for, manager, sync_on, query):
    one_of_each(manager)
    client = client_for(manager)
    response = page(client, "?" + query)
    if query == "state=failed&state=synced":  # the last value wins, as in every list
        assert states_listed(response) == ["synced"]
        return
    assert states_listed(response) == ORDER
    if query.split("=")[1] not in ("", "%00"):
        assert "that filter is ignored" in text(response) or query.startswith("state[]")


def test_a_manager_id_that_is_no_manager_is_ignored(client_for, manager, ie, sync_on):
    one_of_each(manager)
    response = page(client_for(manager), f"?manager={ie.pk}")
    assert states_listed(response) == ORDER
    assert "that filter is ignored" in text(response)


# --- Long lists and the query budget ------------------------------------------------------------
def test_a_long_list_shows_its_first_rows_and_how_many(client_for, manager, sync_on, monkeypatch):
    monkeypatch.setattr("vitally_sync.views.ROWS_SHOWN", 3)
    one_of_each(manager)
    response = page(client_for(manager))
    assert states_listed(response) == ORDER[:3]
    assert "8 accounts: the first 3 show, trouble first." in text(response)


def test_the_page_costs_the_same_at_1x_and_10x(client_for, manager, sync_on):
    client = client_for(manager)
    counts, rows = [], []
    for size in (1, 10):
        Account.objects.all().delete()
        for n in range(size):
            one_of_each(manager, suffix=f" {n:02}")
        for query, headers in (("", {}), ("?state=trouble&manager=me", {"HX-Request": "true"})):
            with CaptureQueriesContext(connection) as queries:
                response = page(client, query, **headers)
            rows.append(len(response.context["health"].rows))
            counts.append(len(queries))
    assert rows == [8, 5, 50, 50]  # ten times the accounts; the page shows its first 50
    # The whole page: SYNC_HEALTH_QUERIES; the rows alone do without the filter bar's people
    # and the notes Vitally has not taken.
    assert counts == [SYNC_HEALTH_QUERIES, SYNC_HEALTH_QUERIES - 2] * 2, counts


# --- Reachable: My work and the admin point here ------------------------------------------------
def test_my_work_links_all_sync_trouble_here(client_for, manager, sync_on):
    made = one_of_each(manager)
    html = client_for(manager).get(reverse("accounts:my_work")).content.decode()
    assert '<a href="/vitally/?state=trouble">All sync trouble, every account</a>' in html
    # The manager's own list: what needs someone, a difference in Vitally included.
    start = html.index("Vitally sync trouble")
    listed = html[start : html.index("All sync trouble", start)]
    for state in ("failed", "attention", "retrying", "differs"):
        assert made[state].name in listed, state
    for state in ("synced", "pending", "not_linked"):
        assert made[state].name not in listed, state


def test_the_admin_leaves_its_sync_list_to_this_page(client, admin_user, manager, sync_on):
    made = one_of_each(manager)
    client.force_login(admin_user)
    index = client.get(reverse("admin:index"))
    listed = {m["object_name"] for app in index.context["app_list"] for m in app["models"]}
    assert "AccountSync" not in listed and "TraitDifference" in listed
    listing = client.get(reverse("admin:vitally_sync_accountsync_changelist")).content.decode()
    assert f'<a href="{HEALTH}">Vitally sync</a> page shows every account' in listing
    row = reverse("admin:vitally_sync_accountsync_change", args=[made["attention"].pk])
    assert client.get(row).status_code == 200  # the raw state stays readable for staff


# --- Valid HTML -----------------------------------------------------------------------------------
def test_the_page_and_its_rows_are_valid_html(client_for, manager, sync_on, tmp_path):
    """The Nu checker, on the page with a row in every state (the portal-wide page list renders
    it with the sync off, every row "Not configured") and on its htmx rows."""
    from tests.test_html_validity import _vnu_errors

    one_of_each(manager)
    client = client_for(manager)
    rows = page(client, "?state=trouble", HX_Request="true").content.decode()
    head = '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
    pages = {
        "vitally-sync": page(client).content.decode(),
        "vitally-sync-rows": f"{head}<body>{rows}</body></html>",
    }
    errors = _vnu_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
