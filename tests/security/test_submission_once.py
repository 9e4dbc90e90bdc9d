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
