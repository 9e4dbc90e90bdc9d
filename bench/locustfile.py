"""The load benchmark's users (run by bench/load.py, one page at a time: BENCH_PAGE).

Each user is the benchmark manager, signed in (its own session), and requests its page in a
closed loop with no think time, so a page's req/s is what the two gunicorn workers can serve."""

import itertools
import os
import random
import sys

from locust import HttpUser, task

sys.path.insert(0, os.path.dirname(__file__))
from html_forms import form_fields, with_values  # noqa: E402

PAGE = os.environ["BENCH_PAGE"]
ACCOUNT_IDS = [int(x) for x in os.environ["BENCH_ACCOUNT_IDS"].split(",")]
SESSIONS = os.environ["BENCH_SESSIONS"].split(",")
_USER_NUMBERS = itertools.count()


class PortalUser(HttpUser):
    def on_start(self):
        # A session of the benchmark manager, signed in by bench/load.py beforehand: signing in
        # here would put 20 password hashes (~1 s of CPU each) inside the measured seconds.
        self.client.cookies.set("sessionid", SESSIONS.pop(), domain="127.0.0.1")
        # The edit POSTs: each user saves its own accounts, so no save is refused as stale
        # (two people saving one record is tested in tests/ and counted by the chaos run).
        number = next(_USER_NUMBERS)
        self.own_account_ids = ACCOUNT_IDS[number % 20 :: 20] or ACCOUNT_IDS

    @task
    def request_page(self):
        getattr(self, PAGE)()

    def get(self, url: str, name: str):
        """A page that must render: a redirect (to sign-in, say) is a failure, not a fast page."""
        with self.client.get(
            url, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            return response

    def trivial(self):
        self.get("/bench/trivial", name="trivial signed-in view")

    def dashboard(self):
        self.get(f"/accounts/?page={random.randint(1, 20)}", name="dashboard")

    def my_work(self):
        self.get("/", name="my work")

    def account(self):
        """Any of the accounts: every view loads and renders the record (there is no page
        cache)."""
        self.get(f"/accounts/{random.choice(ACCOUNT_IDS)}/", name="account page")

    def heatmap(self):
        self.get("/risks/", name="risk heatmap")

    def heatmap_cell(self):
        self.get("/risks/?likelihood=5&impact=5", name="risk heatmap, one cell")

    def edit(self):
        """The account edit form as a person uses it: open it, change the planned completion
        date, save (302 to the account). Only the POST is the measured row."""
        account_id = random.choice(self.own_account_ids)
        url = f"/accounts/{account_id}/edit/"
        form = self.get(url, name="edit form (GET, not measured)")
        data = with_values(
            form_fields(form.text),
            planned_completion_date=f"2027-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}",
        )
        with self.client.post(
            url, data, name="account edit POST", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"not saved: {response.status_code}")
