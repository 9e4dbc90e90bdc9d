"""The account page offers each viewer only what the server lets them do: every link on it opens
for them, and every button it shows is accepted (a read-only viewer never meets "You can’t…"
by following the page). Each role against each phase: an implementation engineer on another's
account and on their own after handoff, the technical advisor before and after handoff, a
manager."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import resolve, reverse

from handoff.permissions import REFUSALS

pytestmark = pytest.mark.django_db

VIEWERS = ["ie", "other_ie", "ta", "manager"]
ACCOUNTS = ["acme", "globex", "umbrella", "initech"]


class _Actions(HTMLParser):
    """The page's links (href, data-hx-get) and its POST forms with their fields."""

    def __init__(self):
        super().__init__()
        self.links: set[str] = set()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._form: tuple[str, dict[str, str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in ("href", "data-hx-get"):
            if a.get(name, "").startswith("/"):
                self.links.add(a[name])
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = (a.get("action") or "", {})
            self.forms.append(self._form)
        elif (
            tag in ("input", "button")
            and self._form
            and a.get("name")
            and (a.get("type") not in ("radio", "checkbox") or "checked" in a)
        ):
            self._form[1].setdefault(a["name"], a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _ours(url: str) -> bool:
    path = urlsplit(url).path
    return not path.startswith("/static/") and resolve(path).url_name != "logout"


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("which", ACCOUNTS)
def test_every_action_the_account_page_offers_is_allowed(client_for, world, viewer, which):
    _follow_every_action(client_for(world.user(viewer)), getattr(world, which), viewer)


@pytest.fixture
def vitally_on(settings):
    """The Vitally sync configured (the world's accounts are linked): the panel offers Push now
    and Read Vitally back now. Nothing here calls Vitally (the workers would); what the read
    button queues on the broker is removed after."""
    from handoff.celery import app

    settings.VITALLY_BASE_URL = "http://127.0.0.1:9"  # never asked: no worker runs here
    app.control.purge()
    yield
    app.control.purge()


@pytest.mark.parametrize("viewer", [*VIEWERS, "admin_user"])
@pytest.mark.parametrize("which", ACCOUNTS)
def test_with_the_vitally_sync_on_every_action_offered_is_allowed(
    request, client_for, world, vitally_on, viewer, which
):
    user = request.getfixturevalue(viewer) if viewer == "admin_user" else world.user(viewer)
    offered = _follow_every_action(client_for(user), getattr(world, which), viewer)
    read = reverse("vitally_sync:read", args=[getattr(world, which).pk])
    # Offered to whoever keeps the record in the account's phase, managers and admins.
    assert (read in offered) is (viewer in ("manager", "admin_user", KEEPER[which])), viewer


# Who keeps each account's record: its implementation engineer in implementation and while
# its handoff is requested (acme, globex, umbrella), its technical advisor once handed off.
KEEPER = {"acme": "ie", "globex": "other_ie", "umbrella": "ie", "initech": "ta"}


def _follow_every_action(client, account, viewer) -> set[str]:
    """Follow every link and press every button of the account page; return the forms'
    actions."""
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    assert page.status_code == 200
    found = _Actions()
    found.feed(page.content.decode())
    refused = []
    for url in sorted(u for u in found.links if _ours(u)):
        response = client.get(url, HTTP_HX_REQUEST="true" if "hx" in url else None)
        if response.status_code == 403:
            refused.append(f"GET {url}")
    for action, fields in found.forms:
        if not _ours(action or page.wsgi_request.path):
            continue
        with transaction.atomic():  # each button on its own, as pressed first
            response = client.post(action, fields)
            transaction.set_rollback(True)
        if response.status_code == 403:
            refused.append(f"POST {action} {sorted(fields)}")
    assert not refused, f"{viewer} on {account.name} is offered what is refused: {refused}"
    return {action for action, _ in found.forms}


def test_the_refusals_speak_the_pages_words():
    for action, words in REFUSALS.items():
        assert words.endswith(".") and words[0].isupper(), action
        for internal in ("maintainer", "_", "here.", action.value):
            assert internal not in words, (action, internal)
