"""The mirror's pull with a real Celery worker (Redis broker) and the fake over HTTP."""

import pytest

from tests.vitally_sync.conftest import CPU
from tests.vitally_sync.test_e2e import clean_broker, wait_for, worker  # noqa: F401
from tests.vitally_sync.test_mirror import seed
from vitally_sync import tasks
from vitally_sync.models import MirrorState, VitallyAccount

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_worker_pulls_a_thousand_accounts_in_ten_pages_then_only_what_changed(
    fake_vitally, settings
):
    settings.VITALLY_MIRROR_SHARE = 1.0
    seed(fake_vitally, 1000)
    with worker():
        tasks.mirror_pull.delay()  # as beat: no full pass yet, so a full one
        assert wait_for(lambda: MirrorState.objects.filter(last_full_at__isnull=False).exists())
        assert VitallyAccount.objects.count() == 1000
        gets = fake_vitally.requests_log(method="GET", path_prefix="/resources/accounts")
        assert len(gets) == 10 and {g["query"]["limit"] for g in gets} == {"100"}
        pulled_at = MirrorState.objects.get().last_pull_at
        fake_vitally.hand_edit("ext-0123", {CPU: 9999})
        tasks.mirror_pull.delay()  # the full pass is recent: an incremental one
        assert wait_for(lambda: MirrorState.objects.get().last_pull_at > pulled_at)
    gets = fake_vitally.requests_log(method="GET", path_prefix="/resources/accounts")
    assert len(gets) == 11, [(g["query"], g["status"]) for g in gets]  # one page for the change
    assert VitallyAccount.objects.get(external_id="ext-0123").traits[CPU] == 9999
