"""Failed sign-ins are logged for the security review (issue 12): name, address, time."""

import logging

from django.urls import reverse

from handoff.people.models import User
from tests.factories import UserFactory


def test_a_failed_sign_in_is_logged_with_name_address_and_time(client, caplog, db):
    UserFactory(username="irene", role=User.Role.IMPLEMENTATION_ENGINEER)
    with caplog.at_level(logging.WARNING, logger="handoff.security"):
        client.post(
            reverse("login"),
            {"username": "irene\nFAKE entry", "password": "wrong"},
            REMOTE_ADDR="203.0.113.9",
        )
    (record,) = [r for r in caplog.records if r.name == "handoff.security"]
    line = record.getMessage()
    assert "username='irene\\nFAKE entry'" in line  # repr: no forged second line
    assert "\n" not in line
    assert "address='203.0.113.9'" in line
    assert record.created > 0  # the time: the log line's own timestamp


def test_the_admin_sign_in_is_logged_too(client, caplog, db):
    with caplog.at_level(logging.WARNING, logger="handoff.security"):
        client.post(reverse("admin:login"), {"username": "root", "password": "x"})
    assert any("username='root'" in r.getMessage() for r in caplog.records)


def test_a_right_password_logs_nothing(client, caplog, db):
    user = UserFactory(username="tomas", role=User.Role.TECHNICAL_ADVISOR)
    user.set_password("right-password-1")
    user.save()
    with caplog.at_level(logging.WARNING, logger="handoff.security"):
        client.post(reverse("login"), {"username": "tomas", "password": "right-password-1"})
    assert not [r for r in caplog.records if r.name == "handoff.security"]
