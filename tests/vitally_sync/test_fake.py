"""The fake Vitally follows the contract the client relies on (vitally-api.md §8)."""

import base64
import contextlib
import io
import time

import pytest
import requests

from vitally_sync.fake import FakeVitally, Scripted

KEY = "sk_fake_test"


@pytest.fixture
def fake():
    fake = FakeVitally(
        api_key=KEY,
        seed_accounts=[
            {"externalId": "acme", "name": "Acme", "traits": {"keep": 1, "old": "x"}},
            {"externalId": "borealis", "name": "Borealis"},
        ],
    )
    fake.start()
    yield fake
    fake.stop()


def call(fake, method, path, *, key=KEY, **kwargs):
    auth = (key, "") if key is not None else None
    return requests.request(method, fake.url + path, auth=auth, timeout=5, **kwargs)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer " + KEY,  # the wrong scheme seen in the wild
        "Basic " + base64.b64encode(b"sk_other:").decode(),
        "Basic not-base64!!",
    ],
)
def test_requests_without_the_right_basic_auth_get_401(fake, header):
    headers = {"Authorization": header} if header else {}
    response = requests.get(fake.url + "/resources/accounts/acme", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"error": "Authorization header not present."}


def test_basic_auth_is_the_key_as_user_name_with_an_empty_password(fake):
    header = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    response = requests.get(
        fake.url + "/resources/accounts/acme", headers={"Authorization": header}, timeout=5
    )
    assert response.status_code == 200


def test_get_by_vitally_id_or_external_id(fake):
    by_external = call(fake, "GET", "/resources/accounts/acme").json()
    by_id = call(fake, "GET", f"/resources/accounts/{by_external['id']}").json()
    assert by_id == by_external
    assert by_id["name"] == "Acme"
    assert call(fake, "GET", "/resources/accounts/nobody").status_code == 404


def test_put_merges_traits_shallowly_and_null_deletes(fake):
    before = call(fake, "GET", "/resources/accounts/acme").json()
    time.sleep(0.002)
    response = call(
        fake,
        "PUT",
        "/resources/accounts/acme",
        json={"traits": {"vitally.custom.totalCpu": 56, "old": None, "nested": {"a": 1}}},
    )
    assert response.status_code == 200
    account = response.json()
    assert account["traits"] == {"keep": 1, "vitally.custom.totalCpu": 56, "nested": {"a": 1}}
    assert account["updatedAt"] > before["updatedAt"]
    assert account["name"] == "Acme"  # top-level fields not sent stay
    # A nested object is replaced, not merged (shallow).
    call(fake, "PUT", "/resources/accounts/acme", json={"traits": {"nested": {"b": 2}}})
    assert fake.account_get("acme")["traits"]["nested"] == {"b": 2}


def test_put_to_an_unknown_account_is_404_unless_the_fake_auto_creates(fake):
    response = call(fake, "PUT", "/resources/accounts/ghost", json={"traits": {"a": 1}})
    assert response.status_code == 404
    assert response.json() == {"error": "Account not found"}
    fake.auto_create = True
    response = call(fake, "PUT", "/resources/accounts/ghost", json={"traits": {"a": 1}})
    assert response.status_code == 200
    assert response.json()["autoCreatedByFake"] is True
    assert fake.account_get("ghost")["traits"] == {"a": 1}


def test_put_with_bad_traits_is_400(fake):
    response = call(fake, "PUT", "/resources/accounts/acme", json={"traits": [1, 2]})
    assert response.status_code == 400
    assert "traits" in response.json()["error"]


def test_post_requires_external_id_and_name_and_rejects_duplicates(fake):
    response = call(fake, "POST", "/resources/accounts", json={"name": "X"})
    assert (response.status_code, response.json()) == (400, {"message": "externalId is required"})
    response = call(fake, "POST", "/resources/accounts", json={"externalId": "cobalt"})
    assert response.json() == {"message": "name is required"}
    created = call(
        fake, "POST", "/resources/accounts", json={"externalId": "cobalt", "name": "Cobalt"}
    )
    assert created.status_code == 200 and created.json()["externalId"] == "cobalt"
    again = call(fake, "POST", "/resources/accounts", json={"externalId": "cobalt", "name": "C"})
    assert again.status_code == 409
    fake.duplicate = "upsert"
    again = call(fake, "POST", "/resources/accounts", json={"externalId": "cobalt", "name": "C"})
    assert again.status_code == 200 and again.json()["name"] == "C"


def test_list_is_newest_first_with_an_opaque_cursor(fake):
    for n in range(5):
        fake.account_create(external_id=f"extra-{n}", name=f"Extra {n}")
        time.sleep(0.002)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"from": cursor} if cursor else {})}
        body = call(fake, "GET", "/resources/accounts", params=params).json()
        seen += [a["externalId"] for a in body["results"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert seen[0] == "extra-4"  # most recently updated first
    assert call(fake, "GET", "/resources/accounts", params={"from": "junk"}).status_code == 400
    big = call(fake, "GET", "/resources/accounts", params={"limit": 1000}).json()
    assert len(big["results"]) == 7 and big["next"] is None


def test_custom_fields_is_a_bare_array_of_the_portal_keys(fake):
    body = call(fake, "GET", "/resources/customFields", params={"model": "accounts"}).json()
    assert isinstance(body, list)
    paths = {f["path"] for f in body}
    assert "vitally.custom.totalCpu" in paths and "vitally.custom.handoffStatus" in paths
    assert {"id", "label", "type", "path", "createdAt"} <= set(body[0])
    assert [f["label"].lower() for f in body] == sorted(f["label"].lower() for f in body)
    assert call(fake, "GET", "/resources/customFields").status_code == 400


def test_notes_need_a_vitally_account_id_are_unique_on_external_id_and_archive_on_delete(fake):
    account = fake.account_get("acme")
    note = {"note": "<p>SSO done</p>", "noteDate": "2024-05-02T08:15:00.000Z"}
    assert call(fake, "POST", "/resources/notes", json=note).status_code == 400
    response = call(fake, "POST", "/resources/notes", json={**note, "accountId": "acme"})
    assert response.status_code == 400  # an externalId is not a Vitally id
    body = {**note, "accountId": account["id"], "externalId": "n-1", "tags": ["a", "b"]}
    first = call(fake, "POST", "/resources/notes", json=body).json()
    refused = call(fake, "POST", "/resources/notes", json={**body, "tags": ["c"]})
    assert refused.status_code == 409 and len(fake.notes_list("n-1")) == 1
    fake.note_duplicate = "upsert"
    second = call(fake, "POST", "/resources/notes", json={**body, "tags": ["c"]}).json()
    assert first["id"] == second["id"] and second["tags"] == ["c"]
    assert len(fake.notes_list("n-1")) == 1
    deleted = call(fake, "DELETE", f"/resources/notes/{first['id']}").json()
    assert deleted["archivedAt"]
    listed = call(fake, "GET", "/resources/accounts/acme/notes").json()["results"]
    assert [n["id"] for n in listed] == [first["id"]]
    by_external = call(fake, "GET", "/resources/notes/n-1", params={"source": "api"})
    assert by_external.status_code == 200


def test_rate_limit_headers_and_429_over_the_limit_in_a_sliding_minute(fake):
    fake.rate_limit_per_minute = 3
    answers = [call(fake, "GET", "/resources/accounts/acme") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "3, 3;window=60"
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    reset = int(answers[3].headers["RateLimit-Reset"])
    assert 58 <= reset <= 60  # seconds until the earliest request leaves the window


def test_scripted_answers_and_injected_faults(fake):
    fake.script(Scripted(503), Scripted(429, {"Retry-After": "2"}))
    put = {"json": {"traits": {"a": 1}}}
    assert call(fake, "GET", "/resources/accounts/acme").status_code == 200  # not a PUT
    assert call(fake, "PUT", "/resources/accounts/acme", **put).status_code == 503
    limited = call(fake, "PUT", "/resources/accounts/acme", **put)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert call(fake, "PUT", "/resources/accounts/acme", **put).status_code == 200

    fake.error_rate = 1.0
    assert call(fake, "GET", "/resources/accounts/acme").status_code in (500, 502, 503)
    fake.error_rate = 0.0
    fake.close_rate = 1.0
    with pytest.raises(requests.ConnectionError):
        call(fake, "GET", "/resources/accounts/acme")
    fake.close_rate = 0.0
    fake.timeout_rate, fake.timeout_seconds = 1.0, 1.0
    with pytest.raises(requests.Timeout):
        requests.get(fake.url + "/resources/accounts/acme", auth=(KEY, ""), timeout=0.3)
    fake.timeout_rate = 0.0
    fake.burst_429, fake.burst_429_every = 2, 3
    statuses = [call(fake, "GET", "/resources/accounts/acme").status_code for _ in range(6)]
    assert statuses.count(429) == 4


def test_stopped_fake_refuses_connections_and_restarts_on_the_same_port(fake):
    url = fake.url
    fake.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_fake/health", timeout=2)
    fake.start()
    assert fake.url == url
    assert requests.get(url + "/_fake/health", timeout=2).json() == {"ok": True}


def test_the_page_lists_accounts_traits_and_latest_requests(fake):
    call(fake, "PUT", "/resources/accounts/acme", json={"traits": {"vitally.custom.x": "<b>"}})
    page = requests.get(fake.url + "/", timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert "Acme" in text and "Borealis" in text
    assert "vitally.custom.x" in text and "&lt;b&gt;" in text  # escaped
    assert "/resources/accounts/acme" in text
    log = requests.get(fake.url + "/_fake/requests", timeout=5).json()
    assert log["requests"][-1]["method"] == "PUT"
    assert log["status_counts"] == {"200": 1}
    since = log["requests"][-1]["at"]
    later = requests.get(fake.url + "/_fake/requests", params={"since": since}, timeout=5)
    assert later.json()["requests"] == []


def test_the_log_records_when_a_429_was_answered_and_the_wait_it_announced(fake):
    """What the chaos run checks clients against: no request inside an announced wait."""
    fake.script(Scripted(429, {"Retry-After": "2"}))
    fake.rate_limit_per_minute = 2
    put = {"json": {"traits": {"a": 1}}}
    statuses = [call(fake, "PUT", "/resources/accounts/acme", **put).status_code for _ in range(4)]
    assert statuses == [429, 200, 200, 429]
    log = fake.requests_log(method="PUT")
    assert [e.get("wait") for e in log] == [2.0, None, None, pytest.approx(60, abs=2)]
    assert all(e["at"] <= e["answered_at"] for e in log)


def test_the_page_shows_what_each_request_sent_so_a_change_can_be_seen_arriving(fake):
    traits = {"vitally.custom.totalCpu": 40, "vitally.custom.note": "<b>hi</b>"}
    assert call(fake, "PUT", "/resources/accounts/acme", json={"traits": traits}).ok
    page = requests.get(fake.url + "/", timeout=5).text
    assert "<li><code>totalCpu</code>: 40</li>" in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page and "<b>hi</b>" not in page


def put_traits(fake, key, traits, **kwargs):
    return call(fake, "PUT", f"/resources/accounts/{key}", json={"traits": traits}, **kwargs)


def control(fake, changes=None):
    if changes is None:
        return requests.get(fake.url + "/_fake/control", timeout=5)
    return requests.post(fake.url + "/_fake/control", json=changes, timeout=5)


def test_the_control_endpoint_lists_the_switches_and_sets_them_at_run_time(fake):
    switches = control(fake).json()
    assert switches["error_rate"] == 0.0 and switches["rate_limit_per_minute"] == 1000
    assert KEY not in switches["api_key"]  # masked: the fake may hold a real key
    answer = control(fake, {"error_rate": 1, "rate_limit_per_minute": 5, "latency_ms": 1.5})
    assert answer.status_code == 200
    assert answer.json()["error_rate"] == 1 and answer.json()["rate_limit_per_minute"] == 5
    assert (fake.error_rate, fake.rate_limit_per_minute, fake.latency_ms) == (1, 5, 1.5)
    assert call(fake, "GET", "/resources/accounts/acme").status_code in (500, 502, 503)
    assert control(fake).json()["rate_limit_per_minute"] == 5
    # Set from Python, seen over HTTP.
    fake.close_rate = 0.25
    assert control(fake).json()["close_rate"] == 0.25


@pytest.mark.parametrize(
    "changes",
    [
        {"error_rate": 0.5, "no_such_switch": 1},  # one unknown name: nothing is set
        {"error_rate": 0.5, "burst_429": 1.5},  # a count must be a whole number
        {"error_rate": 0.5, "burst_429": True},  # a bool is not a count
        {"error_rate": 1.5},  # a rate is from 0 to 1
        {"error_rate": "0.5"},  # a string is not a number
        {"error_rate": 0.5, "latency_ms": -1},
        {"error_rate": 0.5, "api_key": ""},
        {"error_rate": 0.5, "duplicate": "merge"},
        [["error_rate", 0.5]],  # not an object
    ],
)
def test_the_control_endpoint_rejects_unknown_names_and_wrong_types_and_changes_nothing(
    fake, changes
):
    before = control(fake).json()
    answer = control(fake, changes)
    assert answer.status_code == 400
    assert answer.json()["error"]
    assert control(fake).json() == before
    assert fake.error_rate == 0.0


def test_the_control_endpoint_rejects_a_body_that_is_not_json(fake):
    answer = requests.post(fake.url + "/_fake/control", data="error_rate=1", timeout=5)
    assert answer.status_code == 400 and "JSON object" in answer.json()["error"]
    assert fake.error_rate == 0.0


def test_the_api_key_can_be_changed_at_run_time_like_a_revoked_key(fake):
    assert call(fake, "GET", "/resources/accounts/acme").status_code == 200
    assert control(fake, {"api_key": "sk_rolled_key"}).status_code == 200
    assert call(fake, "GET", "/resources/accounts/acme").status_code == 401  # the old key
    assert call(fake, "GET", "/resources/accounts/acme", key="sk_rolled_key").status_code == 200


def test_a_fake_with_a_wrong_switch_value_does_not_start():
    with pytest.raises(ValueError, match="error_rate must be a number from 0 to 1"):
        FakeVitally(error_rate=2)


def test_the_page_lists_the_switches(fake):
    fake.error_rate = 0.125
    page = requests.get(fake.url + "/", timeout=5).text
    assert "<code>error_rate</code></th><td>0.125</td>" in page
    assert KEY not in page


def test_a_burst_of_401s_with_the_right_key_ends_after_n_requests(fake):
    assert control(fake, {"auth_fail_next": 2}).json()["auth_fail_next"] == 2
    answers = [put_traits(fake, "acme", {"n": n}) for n in (1, 2, 3)]
    assert [a.status_code for a in answers] == [401, 401, 200]
    assert answers[0].json() == {"error": "Unauthorized"}
    assert fake.account_get("acme")["traits"]["n"] == 3  # the 401s changed nothing
    assert fake.auth_fail_next == 0
    log = fake.puts("acme")
    assert [e.get("injected") for e in log] == ["auth_fail", "auth_fail", None]
    # Set from Python as well; a request with no key uses up the burst too.
    fake.auth_fail_next = 1
    assert call(fake, "GET", "/resources/accounts/acme", key=None).status_code == 401
    assert call(fake, "GET", "/resources/accounts/acme").status_code == 200


def test_a_long_retry_after_is_enforced_and_requests_sent_before_it_ends_are_early(fake):
    control(fake, {"rate_limit_next": 2, "rate_limit_retry_after": 1.0})
    first = put_traits(fake, "acme", {"n": 1})
    assert first.status_code == 429
    assert (first.headers["Retry-After"], first.headers["RateLimit-Reset"]) == ("1", "1")
    # Inside the wait: 429 again, with what is left of it; it does not use up rate_limit_next.
    early = put_traits(fake, "acme", {"n": 2})
    assert early.status_code == 429
    assert 0 < float(early.headers["Retry-After"]) <= 1
    assert call(fake, "GET", "/resources/accounts/acme", key=None).status_code == 401  # early too
    assert fake.rate_limit_next == 1
    assert fake.rate_limit_wait_remaining() > 0
    assert [(e["method"], e["status"]) for e in fake.early_requests()] == [
        ("PUT", 429),
        ("GET", 401),
    ]
    assert all(0 < e["early_by"] <= 1 for e in fake.early_requests())
    time.sleep(fake.rate_limit_wait_remaining() + 0.05)
    # After the wait: the second of the two announced waits, not early.
    second = put_traits(fake, "acme", {"n": 3})
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    time.sleep(fake.rate_limit_wait_remaining() + 0.05)
    assert put_traits(fake, "acme", {"n": 4}).status_code == 200
    assert fake.account_get("acme")["traits"]["n"] == 4  # only the last one was applied
    assert len(fake.early_requests()) == 2
    log = fake.puts("acme")
    assert [e.get("early", False) for e in log] == [False, True, False, False]
    assert [e.get("wait") for e in log][0::2] == [1.0, 1.0]
    assert [e.get("injected") for e in log] == ["rate_limit"] * 3 + [None]


def test_a_200_whose_body_is_an_error_applies_nothing(fake):
    control(fake, {"error_body_next": 2})
    answers = [put_traits(fake, "acme", {"n": n}) for n in (1, 2, 3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json() for a in answers[:2]] == [{"error": "Internal error"}] * 2
    assert answers[2].json()["traits"]["n"] == 3
    fake.error_body_next = 1
    created = call(fake, "POST", "/resources/accounts", json={"externalId": "new", "name": "N"})
    assert created.status_code == 200 and created.json() == {"error": "Internal error"}
    assert fake.account_get("new") is None  # the POST created nothing
    log = fake.requests_log()
    assert [e.get("injected") for e in log] == ["error_body", "error_body", None, "error_body"]
    assert [e.get("applied") for e in log] == [False, False, None, False]


def test_a_lost_answer_closes_the_connection_after_the_put_was_applied(fake):
    control(fake, {"lose_answer_next": 1, "lose_answer_mode": "closed"})
    with pytest.raises(requests.ConnectionError):
        put_traits(fake, "acme", {"vitally.custom.totalCpu": 64})
    assert fake.account_get("acme")["traits"]["vitally.custom.totalCpu"] == 64  # applied
    (lost,) = fake.puts("acme")
    assert lost["status"] == "lost" and lost["applied"] is True
    assert (lost["applied_status"], lost["lost_mode"]) == (200, "closed")
    assert fake.status_counts["lost"] == 1
    assert fake.lose_answer_next == 0
    # The count is used up: the retry is answered.
    assert put_traits(fake, "acme", {"vitally.custom.totalCpu": 64}).status_code == 200


def test_a_lost_answer_after_a_post_created_the_account_times_out_the_client(fake):
    fake.lose_answer_mode, fake.timeout_seconds, fake.lose_answer_next = "timeout", 1.0, 1
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            fake.url + "/resources/accounts",
            json={"externalId": "cobalt", "name": "Cobalt", "traits": {"a": 1}},
            auth=(KEY, ""),
            timeout=(2, 0.3),
        )
    assert fake.account_get("cobalt")["traits"] == {"a": 1}  # created all the same
    # The retry a client would make is now a duplicate.
    again = call(fake, "POST", "/resources/accounts", json={"externalId": "cobalt", "name": "C"})
    assert again.status_code == 409
    (lost,) = [e for e in fake.requests_log(method="POST") if e["status"] == "lost"]
    assert (lost["applied"], lost["applied_status"], lost["lost_mode"]) == (True, 200, "timeout")


def test_only_answers_that_would_be_2xx_are_lost(fake):
    fake.lose_answer_next = 1
    assert put_traits(fake, "ghost", {"a": 1}).status_code == 404  # not lost, not counted
    assert fake.lose_answer_next == 1


def test_a_lose_answer_rate_is_seeded_like_the_other_faults():
    def statuses(seed):
        fake = FakeVitally(
            api_key=KEY,
            seed_accounts=[{"externalId": "acme", "name": "Acme"}],
            lose_answer_rate=0.5,
            random_seed=seed,
        )
        fake.start()
        try:
            for n in range(12):
                with contextlib.suppress(requests.ConnectionError):
                    put_traits(fake, "acme", {"n": n})
            assert fake.account_get("acme")["traits"] == {"n": 11}  # every PUT applied
            return [e["status"] for e in fake.puts("acme")]
        finally:
            fake.stop()

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, "lost"}


def test_a_hand_edit_changes_traits_like_vitallys_ui_and_is_not_an_api_request(fake):
    before = fake.account_get("acme")
    time.sleep(0.002)
    edited = fake.hand_edit("acme", {"vitally.custom.totalCpu": 8, "old": None})
    assert edited["traits"] == {"keep": 1, "vitally.custom.totalCpu": 8}
    assert fake.account_get("acme")["traits"] == edited["traits"]
    assert edited["updatedAt"] > before["updatedAt"]
    assert fake.requests_log() == [] and list(fake.arrivals) == []  # not an API request
    assert [(e["key"], e["traits"]) for e in fake.hand_edits] == [
        ("acme", {"vitally.custom.totalCpu": 8, "old": None})
    ]
    assert fake.hand_edits[0]["id"] == before["id"]
    with pytest.raises(KeyError):
        fake.hand_edit("nobody", {"a": 1})
    # A client reading the account back sees the hand edit.
    got = call(fake, "GET", "/resources/accounts/acme").json()
    assert got["traits"]["vitally.custom.totalCpu"] == 8


def test_a_hand_edit_over_http_needs_no_key_and_404s_for_an_unknown_account(fake):
    borealis_id = fake.account_get("borealis")["id"]
    url = fake.url + "/_fake/accounts/{}/traits"
    edited = requests.post(url.format(borealis_id), json={"traits": {"x": "<i>"}}, timeout=5)
    assert edited.status_code == 200 and edited.json()["traits"] == {"x": "<i>"}
    assert fake.account_get("borealis")["traits"] == {"x": "<i>"}
    missing = requests.post(url.format("nobody"), json={"traits": {"x": 1}}, timeout=5)
    assert missing.status_code == 404
    bad = requests.post(url.format("borealis"), json={"x": 1}, timeout=5)
    assert bad.status_code == 400
    assert fake.requests_log() == [] and len(fake.hand_edits) == 1
    page = requests.get(fake.url + "/", timeout=5).text
    assert "Hand edits (1" in page and f"<code>{borealis_id}</code>" in page
    assert "<code>x</code>: &quot;&lt;i&gt;&quot;" in page


def test_run_fake_vitally_has_flags_for_the_new_faults(monkeypatch):
    from django.core.management import CommandError, call_command

    from vitally_sync.management.commands.run_fake_vitally import Command

    usage = Command().create_parser("manage.py", "run_fake_vitally").format_help()
    for flag in (
        "--lose-answer-rate", "--lose-answer-next", "--lose-answer-mode", "--auth-fail-next",
        "--rate-limit-next", "--rate-limit-retry-after", "--error-body-next", "--random-seed",
    ):  # fmt: skip
        assert flag in usage
    assert "/_fake/control" in usage

    started = []
    monkeypatch.setattr(FakeVitally, "serve_forever", lambda self, **kw: started.append(self))
    call_command(
        "run_fake_vitally",
        "--lose-answer-rate=0.25", "--lose-answer-next=2", "--lose-answer-mode=timeout",
        "--auth-fail-next=3", "--rate-limit-next=1", "--rate-limit-retry-after=90",
        "--error-body-next=4", "--random-seed=7",
        stdout=io.StringIO(),
    )  # fmt: skip
    (fake,) = started
    assert (fake.lose_answer_rate, fake.lose_answer_next, fake.lose_answer_mode) == (
        0.25,
        2,
        "timeout",
    )
    assert (fake.auth_fail_next, fake.rate_limit_next, fake.rate_limit_retry_after) == (3, 1, 90)
    assert fake.error_body_next == 4
    with pytest.raises(CommandError, match="lose_answer_rate must be a number from 0 to 1"):
        call_command("run_fake_vitally", "--lose-answer-rate=2", stdout=io.StringIO())
