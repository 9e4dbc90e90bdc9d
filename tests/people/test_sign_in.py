"""Password sign-in: LOCAL_LOGIN, the throttle (django-axes), answers that reveal no user name,
changing one's own password, and the session's idle and absolute limits."""

import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from handoff.mail.models import OutgoingEmail
from handoff.people.middleware import LAST_SEEN, SIGNED_IN_AT
from handoff.people.models import User
from tests.factories import UserFactory

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def irene(db):
    return UserFactory(username="irene", role=User.Role.IMPLEMENTATION_ENGINEER)


def _sign_in(client, username, password=PASSWORD, address="198.51.100.7", path="login"):
    return client.post(
        reverse(path), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _signed_in(client) -> bool:
    return SESSION_KEY in client.session


# --- LOCAL_LOGIN ---------------------------------------------------------------------------------
def test_with_local_login_on_the_page_has_the_password_form(client, irene, settings):
    settings.LOCAL_LOGIN = True
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' in page
    assert _sign_in(client, "irene").status_code == 302
    assert _signed_in(client)


def test_with_local_login_off_the_form_is_gone_and_a_forged_post_is_refused(
    client, irene, settings
):
    settings.LOCAL_LOGIN = False
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' not in page
    assert "<form" not in page

    forged = _sign_in(client, "irene")  # the right password, posted by hand
    assert forged.status_code == 200
    assert "Signing in with a password is turned off" in forged.content.decode()
    assert not _signed_in(client)
    # The admin's sign-in form asks the same backends.
    irene.is_staff = True
    irene.save()
    assert _sign_in(client, "irene", path="admin:login").status_code == 200
    assert not _signed_in(client)


def test_with_local_login_off_a_superuser_still_signs_in_with_a_password(client, settings, db):
    settings.LOCAL_LOGIN = False
    UserFactory(username="root", role="", is_staff=True, is_superuser=True)
    assert _sign_in(client, "root", path="admin:login").status_code == 302
    assert _signed_in(client)


def test_signing_out_says_so_on_the_sign_in_page(client, irene, settings):
    settings.LOCAL_LOGIN = True
    _sign_in(client, "irene")
    assert _signed_in(client)
    page = client.post(reverse("logout"), follow=True)
    assert not _signed_in(client)
    assert page.redirect_chain[-1][0] == reverse("login")
    assert "You have signed out of Handoff." in page.content.decode()


def test_local_login_defaults_to_debug():
    def local_login(debug: str) -> str:
        code = "from django.conf import settings; print(settings.LOCAL_LOGIN)"
        env = {k: v for k, v in os.environ.items() if k != "LOCAL_LOGIN"}
        env.update(DEBUG=debug, SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="handoff.settings")
        run = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    assert local_login("1") == "True"
    assert local_login("0") == "False"


# --- Throttle ------------------------------------------------------------------------------------
def test_after_the_limit_a_user_name_is_locked_even_with_the_right_password(
    client, irene, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _sign_in(client, "irene", "wrong").status_code == 200
    assert _sign_in(client, "irene", "wrong").status_code == 429  # the third failure locks
    locked = _sign_in(client, "irene", address="203.0.113.50")  # right password, other address
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-ins with this user name or from this address" in page
    assert "Wait 15 minutes" in page
    assert not _signed_in(client)
    # Another name from another address is not affected.
    UserFactory(username="tomas", role=User.Role.TECHNICAL_ADVISOR)
    assert _sign_in(client, "tomas", address="203.0.113.51").status_code == 302


def test_after_the_limit_an_address_is_locked_whatever_the_name(client, irene, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for name in ("alpha", "bravo", "charlie"):
        _sign_in(client, name, "wrong", address="203.0.113.9")
    assert _sign_in(client, "irene", address="203.0.113.9").status_code == 429
    assert not _signed_in(client)
    assert _sign_in(client, "irene", address="203.0.113.10").status_code == 302


def test_the_admin_sign_in_is_throttled_too(client, settings, db):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="root", role="", is_staff=True, is_superuser=True)
    for _ in range(2):
        _sign_in(client, "root", "wrong", path="admin:login")
    assert _sign_in(client, "root", path="admin:login").status_code == 429
    assert not _signed_in(client)


# --- Nothing reveals whether a user name exists ---------------------------------------------------
def _answer(response, typed: str) -> tuple[int, str]:
    body = response.content.decode().replace(typed, "NAME")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    body = re.sub(r'"X-CSRFToken": "[^"]*"', "", body)
    return response.status_code, body


@pytest.mark.parametrize("local_login", [True, False])
def test_no_page_or_email_reveals_whether_a_user_name_exists(irene, settings, local_login):
    """The same answers, step by step up to the lockout and past it, for a name that exists and
    one that does not; on the sign-in page and the admin's; and no e-mail to anyone."""
    settings.LOCAL_LOGIN = local_login
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="maya", role=User.Role.MANAGER, is_staff=True)
    for path, names in (("login", ("irene", "nobody-here")), ("admin:login", ("maya", "no-one"))):
        answers = []
        for number, name in enumerate(names):
            client = Client()
            address = f"192.0.2.{number + 10 * (path == 'login')}"
            answers.append(
                [
                    _answer(_sign_in(client, name, "wrong", address=address, path=path), name)
                    for _ in range(5)
                ]
            )
            assert not _signed_in(client)
        assert answers[0] == answers[1]
        assert [status for status, _ in answers[0]] == [200, 200, 429, 429, 429]
    assert not mail.outbox
    assert not OutgoingEmail.objects.exists()


# --- Changing one's own password -----------------------------------------------------------------
def test_a_person_with_a_password_changes_it_from_the_top_bar(client, irene):
    client.force_login(irene)
    page = client.get(reverse("accounts:my_work")).content.decode()
    assert f'href="{reverse("password_change")}"' in page
    new = {"new_password1": "Lantern-42-quiet", "new_password2": "Lantern-42-quiet"}
    wrong = client.post(reverse("password_change"), {"old_password": "nope", **new})
    assert wrong.status_code == 200
    assert 'id="id_old_password_error"' in wrong.content.decode()
    done = client.post(reverse("password_change"), {"old_password": PASSWORD, **new}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("accounts:my_work")
    assert "Your password was changed." in done.content.decode()
    assert _signed_in(client)  # this session goes on
    assert Client().login(username="irene", password="Lantern-42-quiet")


def test_a_person_who_signs_in_with_sso_has_no_password_to_change(client, db):
    person = UserFactory(username="ivy", role=User.Role.IMPLEMENTATION_ENGINEER)
    person.set_unusable_password()
    person.save()
    client.force_login(person)
    my_work = client.get(reverse("accounts:my_work")).content.decode()
    assert reverse("password_change") not in my_work
    assert client.get(reverse("password_change")).status_code == 403


def test_with_local_login_off_only_a_superuser_changes_a_password(client, irene, settings):
    settings.LOCAL_LOGIN = False
    client.force_login(irene)
    assert client.get(reverse("password_change")).status_code == 403
    root = UserFactory(username="root", role="", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get(reverse("password_change")).status_code == 200


# --- Session limits ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("clock", "seconds"), [(LAST_SEEN, 2 * 3600 + 1), (SIGNED_IN_AT, 12 * 3600 + 1)]
)
def test_a_session_ends_when_idle_or_too_old(client, irene, settings, clock, seconds):
    settings.SESSION_IDLE_SECONDS = 2 * 3600
    settings.SESSION_COOKIE_AGE = 12 * 3600
    client.force_login(irene)
    assert client.get(reverse("accounts:my_work")).status_code == 200
    session = client.session
    session[clock] -= seconds
    session.save()
    response = client.get(reverse("accounts:my_work"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not _signed_in(client)


def test_a_busy_session_writes_its_last_request_at_most_once_a_minute(client, irene):
    client.force_login(irene)
    first = client.session[LAST_SEEN]
    client.get(reverse("accounts:my_work"))
    assert client.session[LAST_SEEN] == first
    session = client.session
    session[LAST_SEEN] -= 61
    session.save()
    client.get(reverse("accounts:my_work"))
    assert client.session[LAST_SEEN] >= first
