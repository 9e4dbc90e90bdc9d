"""The handoff buttons post `next`, the page to go back to. Only a path of this site is
followed; anything else goes to the handoff page. A `next` that was not a path used to be
looked up as a view name by redirect(): "a[b]" was a NoReverseMatch, a 500 (found by
test_generated_inputs.py), and "logout" a redirect to the sign-out page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("next_", "goes_to"),
    [
        ("a[b]", "handoff"),
        ("logout", "handoff"),
        ("accounts:dashboard", "handoff"),
        ("", "handoff"),
        ("//evil.example/", "handoff"),
        ("https://evil.example/", "handoff"),
        ("/\\evil.example", "handoff"),
        ("/mine/", "/mine/"),
        ("/mine/\r\nSet-Cookie: x=1", "/mine/%0D%0ASet-Cookie:%20x=1"),
    ],
)
def test_next_is_followed_only_as_a_path_of_this_site(
    client_for, account, ie, template, next_, goes_to
):
    client = client_for(ie)
    response = client.post(reverse("closeout:checklist_start", args=[account.pk]), {"next": next_})
    assert response.status_code == 302
    expected = reverse("accounts:detail", args=[account.pk]) if goes_to == "handoff" else goes_to
    assert response["Location"] == f"{expected}#closeout"
