"""The portal's settings plus one URL for the load benchmark: a trivial signed-in view.

Kept out of the product: only the benchmark's gunicorn runs with this module."""

from handoff.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
