"""The page cache (handoff/accounts/page_cache.py): a repeat view of the account page or the
handoff page is served from the cache with the viewer's own CSRF token, and anything that
changes what the page shows (a write under the account, a push, another person, a review, a
message) gets a freshly rendered page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from deployments.services import code_host_create
from handoff.accounts.page_cache import _placeholder
from handoff.accounts.services import account_update
from handoff.closeout.services import checklist_start, handoff_mark_reviewed
from handoff.common.services import ANY_VERSION
from logs.models import Risk
from logs.services import issue_create, journal_entry_create, risk_status_change
from tests.logs.factories import RiskFactory
from tests.query_budget import (
    ACCOUNT_PAGE_CACHED,
    HANDOFF_PAGE_CACHED,
    account_page_queries,
    handoff_page_queries,
)

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _handoff(account) -> str:
    return reverse("closeout:handoff", args=[account.pk])


def _without_tokens(html: str) -> str:
    html = TOKEN.sub('name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', html)


@pytest.mark.parametrize(
    "url, cached_queries",
    [
        (lambda a: reverse("accounts:detail", args=[a.pk]), ACCOUNT_PAGE_CACHED),
        (_handoff, HANDOFF_PAGE_CACHED),
    ],
    ids=["account page", "handoff page"],
)
def test_a_repeat_view_comes_from_the_cache_with_the_viewers_own_token(
    account, ta, url, cached_queries, django_assert_num_queries
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ta)
    first = client.get(url(account)).content.decode()
    with django_assert_num_queries(cached_queries):
        repeat = client.get(url(account)).content.decode()
    assert _without_tokens(repeat) == _without_tokens(first)
    assert _placeholder() not in repeat
    tokens = set(TOKEN.findall(repeat))
    assert len(tokens) == 1 and "csrf-" not in tokens.pop()
    # The token of the page served from the cache is the viewer's: a form on it goes through.
    token = TOKEN.search(repeat).group(1)
    response = client.post(
        reverse("closeout:handoff_mark_reviewed", args=[account.pk]),
        {"csrfmiddlewaretoken": token, "next": _handoff(account)},
    )
    assert response.status_code == 302


def _edit_account(account, actor):
    account_update(
        account=account, actor=actor, data={"name": "Zephyr Cache Co"}, expected_version=ANY_VERSION
    )
    return "Zephyr Cache Co"


def _add_issue(account, actor):
    issue_create(account=account, actor=actor, title="Zephyr indexer stalls", owner=actor)
    return "Zephyr indexer stalls"


def _add_note(account, actor):
    journal_entry_create(account=account, author=actor, title="Zephyr upgrade notes", body="ok")
    return "Zephyr upgrade notes"


def _add_code_host(account, actor):
    code_host_create(
        account=account,
        actor=actor,
        data={"kind": "gitlab_com", "url": "https://gitlab.com/zephyr", "repository_count": 4242},
    )
    return "4,242"


def _close_risk(account, actor):
    risk = RiskFactory(account=account, owner=actor, title="Zephyr capacity risk")
    return risk, "Zephyr capacity risk"


def _start_checklist(account, actor):
    checklist_start(account=account, actor=actor)
    return "done or not applicable"


@pytest.mark.parametrize(
    "write",
    [_edit_account, _add_issue, _add_note, _add_code_host, _start_checklist],
    ids=["account edit", "new issue", "new note", "new code host", "checklist started"],
)
def test_every_write_under_the_account_shows_on_the_next_view(
    client_for, account, ie, manager, template, write
):
    client = client_for(manager)
    client.get(_handoff(account))
    client.get(_handoff(account))  # cached now
    expected = write(account, ie)
    assert expected in client.get(_handoff(account)).content.decode()


def test_a_status_change_shows_on_the_next_view(client_for, account, ie, manager):
    risk, title = _close_risk(account, ie)
    client = client_for(manager)
    assert title in _risk_log(client.get(_handoff(account)).content.decode())  # open: listed
    risk_status_change(risk=risk, actor=ie, status=Risk.Status.CLOSED)
    assert title not in _risk_log(client.get(_handoff(account)).content.decode())


def _risk_log(html: str) -> str:
    return html[html.index('<section id="risk-log"') :].split("</section>", 1)[0]


def test_each_person_gets_the_page_as_they_see_it(account, ie, ta):
    pages = {}
    for user in (ie, ta, ie, ta):
        client = Client()
        client.force_login(user)
        pages[user.pk] = client.get(_handoff(account)).content.decode()
    assert f"<span>{ie}" in pages[ie.pk] and f"<span>{ta}" not in pages[ie.pk]
    assert f"<span>{ta}" in pages[ta.pk] and f"<span>{ie}" not in pages[ta.pk]


def test_marking_the_handoff_reviewed_shows_on_the_next_view(client_for, account, ta):
    client = client_for(ta)
    assert (
        "You have not reviewed this handoff yet" in client.get(_handoff(account)).content.decode()
    )
    handoff_mark_reviewed(account=account, actor=ta)
    assert "You marked this handoff reviewed" in client.get(_handoff(account)).content.decode()


def test_a_message_is_shown_once_and_never_kept(client_for, account, ta):
    client = client_for(ta)
    client.get(_handoff(account))  # the page is in the cache
    response = client.post(
        reverse("closeout:handoff_mark_reviewed", args=[account.pk]),
        {"next": _handoff(account)},
        follow=True,
    )
    shown = response.content.decode()
    message = re.search(r'<p class="message[^"]*">([^<]+)</p>', shown).group(1)
    assert message not in client.get(_handoff(account)).content.decode()
    assert message not in client.get(_handoff(account)).content.decode()


def test_the_page_cache_can_be_turned_off(
    client_for, account, ta, settings, django_assert_num_queries
):
    settings.HANDOFF_PAGE_CACHE_SECONDS = 0
    client = client_for(ta)
    client.get(_handoff(account))
    with django_assert_num_queries(handoff_page_queries(with_environments=False, reviewed=False)):
        client.get(_handoff(account))
    with django_assert_num_queries(account_page_queries(with_environments=False)):
        client.get(reverse("accounts:detail", args=[account.pk]))


def test_a_shared_cache_that_is_down_only_costs_the_render(client_for, account, ta, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    client = client_for(ta)
    for _ in range(2):
        response = client.get(_handoff(account))
        assert response.status_code == 200
        assert "Handoff: Acme Robotics" in response.content.decode()


def test_a_url_with_a_query_string_is_rendered_each_time_and_never_kept(
    client_for, account, ta, django_assert_num_queries
):
    client = client_for(ta)
    full = handoff_page_queries(with_environments=False, reviewed=False)
    for n in range(2):
        with django_assert_num_queries(full):
            client.get(_handoff(account) + f"?anything={n % 2}")
    with django_assert_num_queries(full):  # nor did those fill the cache for the plain URL
        client.get(_handoff(account))


def test_a_new_release_renders_afresh(client_for, account, ta, settings, django_assert_num_queries):
    from handoff.accounts import page_cache

    client = client_for(ta)
    settings.RELEASE = "2026.11.1"
    page_cache._deployment.cache_clear()
    try:
        client.get(_handoff(account))
        with django_assert_num_queries(HANDOFF_PAGE_CACHED):
            client.get(_handoff(account))
        settings.RELEASE = "2026.11.2"
        page_cache._deployment.cache_clear()  # the next release's processes
        with django_assert_num_queries(
            handoff_page_queries(with_environments=False, reviewed=False)
        ):
            client.get(_handoff(account))
    finally:
        page_cache._deployment.cache_clear()
