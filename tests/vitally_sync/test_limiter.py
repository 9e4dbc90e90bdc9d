"""The rate limiter is shared by every worker (Redis), paces evenly and honours 429 pauses."""

import math
import threading
import time

import pytest

from vitally_sync.limiter import (
    LocalRateLimiter,
    RedisRateLimiter,
    acquire,
    limiter_get,
)


@pytest.fixture
def two_redis_limiters(settings):
    """Two instances = two worker processes talking to the same Redis."""
    return RedisRateLimiter(settings.REDIS_URL), RedisRateLimiter(settings.REDIS_URL)


def test_limiter_get_uses_redis_when_redis_url_is_set_else_memory(settings):
    assert isinstance(limiter_get(settings.REDIS_URL), RedisRateLimiter)
    assert isinstance(limiter_get(""), LocalRateLimiter)
    assert limiter_get("") is limiter_get("")  # one per process


def test_slots_are_paced_one_per_interval_across_instances(two_redis_limiters):
    first, second = two_redis_limiters
    assert first.try_acquire(per_minute=60) == 0
    wait = second.try_acquire(per_minute=60)  # the other "worker" sees the taken slot
    assert 0.5 < wait <= 1.0
    assert first.try_acquire(per_minute=60) > 0.5


def count_grants(limiters, *, per_minute: int, seconds: float) -> tuple[int, float]:
    grants = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run(limiter):
        while time.monotonic() < stop_at:
            if limiter.try_acquire(per_minute=per_minute) == 0:
                with lock:
                    grants.append(limiter)
            else:
                time.sleep(0.002)

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(grants), time.monotonic() - started


def test_two_instances_together_never_exceed_the_shared_rate(two_redis_limiters):
    per_minute = 1200  # one slot per 50 ms
    granted, elapsed = count_grants(two_redis_limiters, per_minute=per_minute, seconds=0.6)
    # Grants are at least 50 ms apart, so at most one per 50 ms of the time that passed.
    assert granted <= math.floor(elapsed / 0.05) + 1
    assert granted >= 5


def test_separate_memory_limiters_do_not_share_which_is_why_redis_is_used():
    per_minute = 1200
    granted, elapsed = count_grants(
        [LocalRateLimiter(), LocalRateLimiter()], per_minute=per_minute, seconds=0.6
    )
    assert granted > math.floor(elapsed / 0.05) + 1  # each process had its own budget


def test_a_429_pause_stops_every_instance_until_it_ends(two_redis_limiters):
    first, second = two_redis_limiters
    first.pause(2)
    assert 1.5 < second.paused_for() <= 2.0
    assert 1.5 < second.try_acquire(per_minute=60_000) <= 2.0
    first.pause(0.5)  # a shorter pause never shortens a longer one
    assert second.paused_for() > 1.0


def test_a_redis_restarted_empty_does_not_make_the_process_that_got_the_429_forget_it(
    two_redis_limiters, redis_client
):
    first, second = two_redis_limiters
    first.pause(2)
    redis_client.delete(f"{first.prefix}:pause")  # Redis came back empty (it keeps no disk)
    assert second.paused_for() == 0  # the other process never saw the 429...
    assert 1.5 < first.paused_for() <= 2.0  # ...but the one that received it still waits
    assert 1.5 < first.try_acquire(per_minute=60_000) <= 2.0
    first.reset()
    assert first.try_acquire(per_minute=60_000) == 0


def test_acquire_waits_within_max_wait_else_returns_the_wait(two_redis_limiters):
    first, second = two_redis_limiters
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        time.sleep(seconds)

    assert acquire(first, per_minute=600, max_wait=5, sleep=sleep) == 0
    assert acquire(second, per_minute=600, max_wait=5, sleep=sleep) == 0
    assert slept and 0 < slept[0] <= 0.1  # it waited for the next slot, then took it
    first.pause(3)
    wait = acquire(second, per_minute=600, max_wait=1, sleep=sleep)
    assert 2 < wait <= 3  # too long to hold a worker: the caller stores it in next_attempt_at


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_memory_fallback_follows_the_same_rules():
    clock = Clock()
    limiter = LocalRateLimiter(clock=clock)
    assert limiter.try_acquire(per_minute=60) == 0
    assert limiter.try_acquire(per_minute=60) == pytest.approx(1.0)
    clock.now += 1.0
    assert limiter.try_acquire(per_minute=60) == 0
    limiter.pause(5)
    clock.now += 2
    assert limiter.paused_for() == pytest.approx(3)
    assert limiter.try_acquire(per_minute=60) == pytest.approx(3)
