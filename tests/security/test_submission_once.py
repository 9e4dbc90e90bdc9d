"""Create forms carry a one-time token: the same POST twice creates one row, and a refused
POST does not use the token up."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from handoff.common.models import SubmissionToken
from handoff.common.services import SUBMISSION_TOKEN_DAYS, submission_claim
from logs.models import Issue
from tests.security.snapshot import db_snapshot, snapshot_diff

pytestmark = pytest.mark.django_db


def _token(html: str) -> str:
    return re.search(r'name="submission" value="([^"]+)"', html).group(1)


def test_each_rendered_form_has_its_own_token(client_for, account, ie):
    client = client_for(ie)
    url = reverse("logs:issue_create", args=[account.pk])
    first, second = (_token(client.get(url).content.decode()) for _ in range(2))
    assert first != second and len(first) >= 32


def test_a_refused_post_keeps_the_token_for_the_corrected_one(client_for, account, ie):
    client = client_for(ie)
    url = reverse("logs:issue_create", args=[account.pk])
    token = _token(client.get(url).content.decode())
    refused = client.post(
        url, {"title": "", "severity": "high", "owner": ie.pk, "submission": token}
    )
    assert refused.status_code == 200 and not Issue.objects.exists()
    data = {"title": "Search is slow", "severity": "high", "owner": ie.pk, "submission": token}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert "already submitted and saved once" in again.content.decode()
    assert Issue.objects.count() == 1


def test_old_tokens_are_forgotten(ie):
    submission_claim(token="old", user=ie)
    SubmissionToken.objects.filter(pk="old").update(
        created_at=timezone.now() - datetime.timedelta(days=SUBMISSION_TOKEN_DAYS, minutes=1)
    )
    submission_claim(token="new", user=ie)
    assert list(SubmissionToken.objects.values_list("pk", flat=True)) == ["new"]


# Issue 12: the token was optional, so the same POST without it created two rows.
CREATE_FORMS = [
    ("accounts:create", (), {"name": "Fresh Customer"}),
    ("logs:issue_create", ("account",), {"title": "Slow", "severity": "high", "owner": "ie"}),
    ("logs:risk_create", ("account",), {"title": "Freeze", "likelihood": 3, "impact": 3}),
    ("logs:journal_create", ("account",), {"body": "Met the admins."}),
]


@pytest.mark.parametrize("url_name, args, data", CREATE_FORMS, ids=lambda v: str(v))
def test_a_create_post_without_its_token_creates_nothing(
    client_for, account, ie, url_name, args, data
):
    client = client_for(ie)
    url = reverse(url_name, args=[account.pk for _ in args])
    before = db_snapshot()
    data = {k: (ie.pk if v == "ie" else v) for k, v in data.items()}
    for _ in range(2):
        response = client.post(url, data)
        assert response.status_code == 200
        assert "sent without its one-time token, so nothing was saved" in response.content.decode()
    assert snapshot_diff(before, db_snapshot()) == []


def test_the_code_hosts_list_refuses_a_post_without_its_token(client_for, account, ie):
    from deployments.models import CodeHostConnection
    from tests.deployments.test_views import GITHUB, code_host_post

    url = reverse("deployments:code_hosts_edit", args=[account.pk])
    data = code_host_post([GITHUB])
    del data["submission"]
    response = client_for(ie).post(url, data)
    assert "sent without its one-time token, so nothing was saved" in response.content.decode()
    assert not CodeHostConnection.objects.exists()
    # ... and the refused form carries a fresh token, so sending it again works.
    data["submission"] = _token(response.content.decode())
    assert client_for(ie).post(url, data).status_code == 302
    assert CodeHostConnection.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_new_accounts_of_one_name_at_once_get_a_field_error_not_a_500(
    client_for, ie, monkeypatch
):
    """The uniqueness check and the insert race: a rival request saves the name between them."""
    import threading

    from django.db import connection

    from handoff.accounts.models import Account

    check = Account.full_clean
    rival_done = []

    def rival() -> None:
        try:
            Account.objects.create(name="Fresh Customer")  # its own connection: commits
        finally:
            connection.close()

    def check_then_rival_commits(self, *args, **kwargs):
        check(self, *args, **kwargs)
        if not rival_done:
            rival_done.append(True)
            thread = threading.Thread(target=rival)
            thread.start()
            thread.join()

    monkeypatch.setattr(Account, "full_clean", check_then_rival_commits)
    client = client_for(ie)
    url = reverse("accounts:create")
    token = _token(client.get(url).content.decode())
    response = client.post(url, {"name": "Fresh Customer", "submission": token})
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["name"])
    assert 'id="id_name_error"' in response.content.decode()
    assert Account.objects.filter(name="Fresh Customer").count() == 1  # the rival's
    assert not SubmissionToken.objects.exists()  # rolled back: the corrected form can be sent
