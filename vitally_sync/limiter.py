"""The one rate limit every worker and command obeys before calling Vitally.

- Pacing: GCRA ("generic cell rate algorithm"): one request every 60/N seconds, N =
  VITALLY_RATE_LIMIT_PER_MINUTE, so no 60-second window ever holds more than N requests and a
  backfill runs at a steady N per minute instead of bursting into Vitally's own limit.
- Pause: after a 429, nobody calls Vitally before the moment the response named.

The durable copy of a 429's wait, and the state of a refused API key, live in PostgreSQL
(models.VitallyKey, services.key_state_get): Redis keeps nothing on disk, so it is the fast
path only.

`RedisRateLimiter` keeps this state in Redis (one Lua script, Redis's clock), so it is shared by
every worker process and host: used whenever REDIS_URL is set. `LocalRateLimiter` keeps it in
memory and is shared only by the threads of one process: the fallback for the embedded default
(`make run` without Redis: kombu's filesystem broker and one worker). There, a `vitally_sync`
command run beside the worker has its own budget.
"""

import math
import threading
import time
from functools import lru_cache
from typing import Protocol

import redis

PREFIX = "handoff:vitally"


class RateLimiter(Protocol):
    def try_acquire(self, *, per_minute: float) -> float:
        """Take a request slot: 0.0 when granted, else the seconds to wait (nothing taken)."""

    def pause(self, seconds: float) -> None:
        """No request from anyone for `seconds` (a 429); extends, never shortens, a pause."""

    def paused_for(self) -> float:
        """Seconds left in the current pause (0.0 when none)."""


def acquire(limiter: RateLimiter, *, per_minute: float, max_wait: float, sleep=time.sleep) -> float:
    """Wait (up to `max_wait` seconds in all) for a slot. Returns 0.0 once one is taken, or the
    wait still ahead when that would exceed `max_wait`: the caller then stores it in
    next_attempt_at instead of holding a worker."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = limiter.try_acquire(per_minute=per_minute)
        if wait <= 0:
            return 0.0
        if time.monotonic() + wait > deadline:
            return wait
        sleep(wait)


# KEYS: tat, pause. ARGV: emission interval (ms). Returns 0 (granted) or the ms to wait.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return pause - now end
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat > now then return tat - now end
redis.call('SET', KEYS[1], tat + interval, 'PX', interval + 60000)
return 0
"""
# KEYS: pause. ARGV: ms. Sets the pause end to max(current end, now + ms).
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""
_PAUSE_LEFT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(redis.call('GET', KEYS[1]) or '0')
if pause > now then return pause - now end
return 0
"""


class RedisRateLimiter:
    def __init__(self, url: str, *, prefix: str = PREFIX):
        self._redis = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        self.prefix = prefix
        # This process's own memory of the pauses it set: a Redis restarted empty (it keeps
        # nothing on disk) must not forget a 429 this process received.
        self._pause_until = 0.0
        self._gcra = self._redis.register_script(_GCRA)
        self._pause = self._redis.register_script(_PAUSE)
        self._pause_left = self._redis.register_script(_PAUSE_LEFT)

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _own_pause_left(self) -> float:
        return max(0.0, self._pause_until - time.time())

    def try_acquire(self, *, per_minute: float) -> float:
        if (own := self._own_pause_left()) > 0:
            return own
        interval_ms = max(1, int(60_000 / per_minute))
        wait_ms = self._gcra(keys=[self._key("tat"), self._key("pause")], args=[interval_ms])
        return int(wait_ms) / 1000

    def pause(self, seconds: float) -> None:
        self._pause_until = max(self._pause_until, time.time() + seconds)
        self._pause(keys=[self._key("pause")], args=[max(1, math.ceil(seconds * 1000))])

    def paused_for(self) -> float:
        shared = int(self._pause_left(keys=[self._key("pause")])) / 1000
        return max(shared, self._own_pause_left())

    def reset(self) -> None:
        """Forget all state (tests and the benchmark)."""
        self._pause_until = 0.0
        keys = list(self._redis.scan_iter(match=f"{self.prefix}:*"))
        if keys:
            self._redis.delete(*keys)


class LocalRateLimiter:
    """The same rules in memory, for one process (see the module docstring)."""

    def __init__(self, *, clock=time.time):
        self._lock = threading.Lock()
        self._clock = clock
        self._tat = 0.0
        self._pause_until = 0.0

    def try_acquire(self, *, per_minute: float) -> float:
        with self._lock:
            now = self._clock()
            if self._pause_until > now:
                return self._pause_until - now
            tat = max(self._tat, now)
            if tat > now:
                return tat - now
            self._tat = tat + 60.0 / per_minute
            return 0.0

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, self._clock() + seconds)

    def paused_for(self) -> float:
        with self._lock:
            return max(0.0, self._pause_until - self._clock())

    def reset(self) -> None:
        with self._lock:
            self._tat = self._pause_until = 0.0


@lru_cache(maxsize=4)
def _limiter_for(redis_url: str) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else LocalRateLimiter()


def limiter_get(redis_url: str) -> RateLimiter:
    """Redis-backed when REDIS_URL is set, else the in-process fallback."""
    return _limiter_for(redis_url or "")
