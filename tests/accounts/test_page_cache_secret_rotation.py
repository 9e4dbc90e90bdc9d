"""A SECRET_KEY rotation (new key, old one in SECRET_KEY_FALLBACKS, so sessions survive) with a
shared cache (CACHE_URL, as docker-compose sets): pages kept by a process on the old key carry
the old placeholder, which a process on the new key would not replace (every form on the page
would then post `csrf-<hex>` and fail with 403). The secret is part of the key, so the new
process renders afresh."""

import re

import pytest
from django.urls import reverse

from handoff.accounts import page_cache

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_a_rotated_secret_key_does_not_serve_pages_with_a_dead_placeholder(
    client_for, account, ta, settings
):
    url = reverse("closeout:handoff", args=[account.pk])
    client = client_for(ta)
    client.get(url)  # kept by the "old" process
    old = settings.SECRET_KEY
    settings.SECRET_KEY_FALLBACKS = [old]
    settings.SECRET_KEY = "a-brand-new-secret-key-after-rotation-0123456789"
    page_cache._placeholder.cache_clear()  # a new process
    page_cache._deployment.cache_clear()
    try:
        response = client.get(url)
        assert response.status_code == 200  # still signed in (fallback)
        tokens = set(TOKEN.findall(response.content.decode()))
        assert not any(t.startswith("csrf-") for t in tokens), tokens
    finally:
        page_cache._placeholder.cache_clear()
        page_cache._deployment.cache_clear()
