"""Wapiti 3.2.3 as `wapiti`, with its two time limits made cooperative. Run with var/scan-venv's
python (.ci/scan.py does): `var/scan-venv/bin/python .ci/wapiti_run.py <wapiti arguments>`.

Wapiti enforces --max-scan-time and --max-attack-time by cancelling the running coroutine
(asyncio.wait_for). A cancel that lands while the module reads its session database (SQLite,
through aiosqlite) leaves that read transaction open, and the next write, the list of pages
attacked, then fails with "database is locked": Wapiti dies without writing its report (seen
in the first runs of `make scan`). Here:

- the crawl is told to stop (its stop event, which it checks between pages) when its time is
  up, so it finishes the pages in flight and saves them;
- once a module's time is up it attacks no further page (its `must_attack` says no), and every
  request it still tries to send fails at once as a network error (which each module counts and
  skips), so a page with many fields and payloads ends within a request, not minutes later, and
  the module closes its reads normally.

Wapiti's own cancel stays as a backstop, GRACE seconds later, for a request that hangs.
"""

import asyncio
import time

import httpx
from wapitiCore.controller.wapiti import Wapiti
from wapitiCore.main.wapiti import wapiti_asyncio_wrapper
from wapitiCore.net.crawler import AsyncCrawler

GRACE = 60.0
_browse = Wapiti.browse
_run_attack_module = Wapiti.run_attack_module
_async_send = AsyncCrawler.async_send
_deadline: list[float | None] = [None]  # the running module's, while one runs


async def browse(self, stop_event: asyncio.Event, parallelism: int = 8):
    budget = self._max_scan_time
    if not budget:
        return await _browse(self, stop_event, parallelism)
    timer = asyncio.get_running_loop().call_later(budget, stop_event.set)
    self._max_scan_time = budget + GRACE
    try:
        return await _browse(self, stop_event, parallelism)
    finally:
        timer.cancel()
        self._max_scan_time = budget


async def async_send(self, request, *args, **kwargs):
    deadline = _deadline[0]
    if deadline is not None and time.monotonic() >= deadline:
        raise httpx.RequestError("the module's --max-attack-time is up")
    return await _async_send(self, request, *args, **kwargs)


async def run_attack_module(self, attack_module):
    budget = self._max_attack_time
    if not budget:
        return await _run_attack_module(self, attack_module)
    deadline = time.monotonic() + budget
    must_attack = attack_module.must_attack

    async def must_attack_in_time(request, response=None):
        return time.monotonic() < deadline and await must_attack(request, response)

    attack_module.must_attack = must_attack_in_time
    self._max_attack_time = budget + GRACE
    _deadline[0] = deadline
    try:
        return await _run_attack_module(self, attack_module)
    finally:
        _deadline[0] = None
        self._max_attack_time = budget
        if time.monotonic() >= deadline:
            print(f"Max attack time was reached for module {attack_module.name}, stopped.")


Wapiti.browse = browse
Wapiti.run_attack_module = run_attack_module
AsyncCrawler.async_send = async_send

if __name__ == "__main__":
    wapiti_asyncio_wrapper()
