"""The benchmark's floor: a Celery task that does nothing but one HTTP call to the fake.
Loaded into the benchmark's worker with `celery worker --include bench.vitally_probe`."""

import requests
from celery import shared_task

_session = requests.Session()  # pooled, like the Vitally client's


@shared_task(name="bench.vitally_probe", ignore_result=True)
def vitally_probe(url: str) -> None:
    _session.get(url, timeout=5)
