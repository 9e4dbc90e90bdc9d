"""A fake Vitally REST API for `make run`, the tests and the benchmark (vitally-api.md §8).

A real HTTP server (stdlib, one thread per connection) on loopback, so the real client, rate
limiter and retries are exercised. It implements:

- Basic auth with one API key (the key as user name, empty password); 401 {"error": ...}.
- Accounts: list (cursor pagination, sortBy, newest first), POST (externalId and name required;
  a duplicate externalId is rejected with 409 or upserted, `duplicate="upsert"`), GET / PUT /
  DELETE by Vitally id, then externalId. PUT merges traits shallowly; null deletes a trait.
- GET /resources/customFields?model=accounts: a bare array, seeded with the portal's trait keys.
- Admins (the mirror's import): GET /resources/admins/search?email= (a bare array of the
  admins with that e-mail, case-insensitive); `admin_create()` adds one.
- Notes: POST (note, noteDate and a Vitally accountId required; unique on externalId: a
  duplicate is refused with 409, or updates with `note_duplicate="upsert"`), list, GET / PUT by
  id, DELETE sets archivedAt (a PUT to an archived note is accepted and leaves it archived,
  out of sight); the page lists them. The note's HTML is kept to Vitally's allow-list
  (vitally-api.md §5): other tags are dropped, their text kept (script and style go whole), so
  what is read back is not what was sent.
- RateLimit-Limit / -Remaining / -Reset on every answer; 429 over N requests in any 60 s.
- Faults: error rate (500/502/503), latency, 429 bursts, timeouts (no answer), closed
  connections, scripted answers for the next requests (tests), and `stop()` to refuse
  connections altogether. Faults at least as hostile as the real service:
  - apply, then lose the answer (`lose_answer_next`, `lose_answer_rate`, `lose_answer_mode`
    "closed" or "timeout"): the client sees no answer although Vitally changed the account;
  - a burst of 401s with the right key that ends (`auth_fail_next`); the key can be changed;
  - a long Retry-After enforced until it ends (`rate_limit_next`, `rate_limit_retry_after`):
    every request inside the wait gets 429 and is logged as early (`early_requests()`);
  - a 200 whose body is an error, nothing applied (`error_body_next`);
  - hand edits, as a person in Vitally's UI would make them: traits (`hand_edit()`), a note's
    subject or text (`note_hand_edit()`), a note archived (`note_hand_archive()`) or deleted
    outright (`note_hand_delete()`, gone: GET and PUT answer 404).
  Every switch can be changed at run time: as an attribute, or with POST /_fake/control.
- A page at / listing the accounts, the latest requests, the hand edits and the switches, to
  watch changes arrive; /_fake/requests gives the request log as JSON.

Fake-only conveniences, never Vitally behaviour: `auto_create` makes a PUT to an unknown key
create the account; /_fake/* paths need no auth.
"""

import base64
import binascii
import html
import json
import math
import random
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from vitally_sync.payloads import trait_fields

DEFAULT_API_KEY = "sk_demo_fake_vitally"  # noqa: S105  (the fake's demo key)
CUSTOM_FIELD_MODELS = {
    "users", "accounts", "organizations", "customObjects", "tasks", "notes", "projects",
    "conversations", "team",
}  # fmt: skip


# The switches changeable at run time: as attributes from Python, or over HTTP with
# POST /_fake/control {"name": value, ...}. Each maps to what it accepts (a kind or choices).
_RATE, _NUMBER, _COUNT, _KEY, _BOOL = "rate", "number", "count", "key", "bool"
SWITCHES: dict[str, Any] = {
    "api_key": _KEY,
    "rate_limit_per_minute": _COUNT,
    "error_rate": _RATE,
    "latency_ms": _NUMBER,
    "latency_jitter_ms": _NUMBER,
    "timeout_rate": _RATE,
    "timeout_seconds": _NUMBER,
    "close_rate": _RATE,
    "burst_429": _COUNT,
    "burst_429_every": _COUNT,
    "burst_retry_after": _NUMBER,
    "lose_answer_rate": _RATE,
    "lose_answer_next": _COUNT,
    "lose_answer_mode": ("closed", "timeout"),
    "auth_fail_next": _COUNT,
    "rate_limit_next": _COUNT,
    "rate_limit_retry_after": _NUMBER,
    "error_body_next": _COUNT,
    "auto_create": _BOOL,
    "duplicate": ("reject", "upsert"),
    # Notes (issue 16, item 4): what a POST with an externalId Vitally holds does ("unique on
    # externalId" is documented, the answer is not): 409 (the hostile default) or an update.
    "note_duplicate": ("reject", "upsert"),
    # Lose only the answers of requests whose path starts with this ("": every path).
    "lose_answer_path": "prefix",
}
_EXPECTED = {
    _RATE: "a number from 0 to 1",
    _NUMBER: "a number >= 0",
    _COUNT: "a whole number >= 0",
    _KEY: "a non-empty string",
    _BOOL: "true or false",
    "prefix": "a string",
}


def switch_problem(name: str, value: Any) -> str | None:
    """Why `value` cannot be given to the switch `name`, or None when it can."""
    kind = SWITCHES.get(name)
    if kind is None:
        return f"unknown switch {name!r} (known: {', '.join(sorted(SWITCHES))})"
    if isinstance(kind, tuple):
        ok = value in kind
        expected = " or ".join(repr(choice) for choice in kind)
    else:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        ok = {
            _RATE: is_number and math.isfinite(value) and 0 <= value <= 1,
            _NUMBER: is_number and math.isfinite(value) and value >= 0,
            _COUNT: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            _KEY: isinstance(value, str) and value.strip() != "",
            _BOOL: isinstance(value, bool),
            "prefix": isinstance(value, str),
        }[kind]
        expected = _EXPECTED[kind]
    return None if ok else f"{name} must be {expected}, not {json.dumps(value, default=str)}"


def _masked(key: str) -> str:
    """The API key as the page and /_fake/control show it: enough to tell keys apart, not to
    use one (the fake may be given the real VITALLY_API_KEY and listen beyond loopback)."""
    return f"{key[:5]}… ({len(key)} chars)" if len(key) >= 12 else f"… ({len(key)} chars)"


def _merge_traits(target: dict, traits: dict) -> None:
    """Vitally's trait update: a shallow merge where null deletes the trait."""
    for key, value in traits.items():
        if value is None:
            target.pop(key, None)  # null deletes the trait
        else:
            target[key] = value  # shallow merge: other traits stay


# Vitally's note HTML allow-list (vitally-api.md §5, K7; not in the official docs).
NOTE_TAGS = {
    "a",
    "img",
    "p",
    "div",
    "br",
    "ul",
    "ol",
    "nl",
    "li",
    "b",
    "u",
    "i",
    "strong",
    "em",
    "code",
}
NOTE_ATTRIBUTES = {"a": {"href", "name", "target"}, "img": {"src", "alt", "width", "height"}}
_VOID = {"br", "img"}


class _NoteCleaner(HTMLParser):
    """Keeps the allowed tags and attributes; drops other tags but keeps their text (a
    <script> or <style> goes whole), as Vitally strips a note's HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        if self.hidden or tag not in NOTE_TAGS:
            return
        kept = "".join(
            f' {name}="{html.escape(value or "", quote=True)}"'
            for name, value in attrs
            if name in NOTE_ATTRIBUTES.get(tag, ())
        )
        self.out.append(f"<{tag}{kept}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        elif not self.hidden and tag in NOTE_TAGS and tag not in _VOID:
            self.out.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.hidden:
            self.out.append(html.escape(data, quote=False))


def note_html_clean(text: Any) -> Any:
    """A note's HTML as Vitally keeps it (anything but a string is left for the caller)."""
    if not isinstance(text, str):
        return text
    cleaner = _NoteCleaner()
    cleaner.feed(text)
    cleaner.close()
    return "".join(cleaner.out)


def _seconds_text(seconds: float) -> str:
    """Seconds for a header: "2" for whole seconds, else up to milliseconds ("0.25")."""
    seconds = math.ceil(round(seconds * 1000, 6)) / 1000
    return str(int(seconds)) if seconds == int(seconds) else f"{seconds:.3f}".rstrip("0")


def _wait_headers(seconds: float) -> dict[str, str]:
    text = _seconds_text(seconds)
    return {"Retry-After": text, "RateLimit-Reset": text, "RateLimit-Remaining": "0"}


def _now_iso(ts: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def default_custom_fields() -> list[dict]:
    """The portal's default trait keys as Vitally custom fields, sorted by label (as Vitally)."""
    fields = [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f.default_key)),
            "label": f.label,
            "type": f.vitally_type,
            "path": f.default_key,
            "createdAt": "2024-01-01T00:00:00.000Z",
        }
        for f in trait_fields()
    ]
    return sorted(fields, key=lambda f: f["label"].lower())


@dataclass
class Scripted:
    """An answer forced on the next matching request (tests: "5xx twice then 200")."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    methods: tuple[str, ...] = ("PUT",)


class FakeVitally:
    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        rate_limit_per_minute: int = 1000,
        error_rate: float = 0.0,
        latency_ms: float = 0.0,
        latency_jitter_ms: float = 0.0,
        burst_429: int = 0,
        burst_429_every: int = 0,
        burst_retry_after: int = 1,
        timeout_rate: float = 0.0,
        timeout_seconds: float = 30.0,
        close_rate: float = 0.0,
        lose_answer_rate: float = 0.0,
        lose_answer_next: int = 0,
        lose_answer_mode: str = "closed",
        auth_fail_next: int = 0,
        rate_limit_next: int = 0,
        rate_limit_retry_after: float = 60.0,
        error_body_next: int = 0,
        auto_create: bool = False,
        duplicate: str = "reject",
        note_duplicate: str = "reject",
        lose_answer_path: str = "",
        seed_accounts: list[dict] | None = None,
        seed_admins: list[dict] | None = None,
        custom_fields: list[dict] | None = None,
        random_seed: int | None = None,
        log_size: int = 5000,
    ):
        self.api_key = api_key
        self.rate_limit_per_minute = rate_limit_per_minute
        self.error_rate = error_rate
        self.latency_ms = latency_ms
        self.latency_jitter_ms = latency_jitter_ms
        self.burst_429 = burst_429
        self.burst_429_every = burst_429_every
        self.burst_retry_after = burst_retry_after
        self.timeout_rate = timeout_rate
        self.timeout_seconds = timeout_seconds
        self.close_rate = close_rate
        # Apply, then lose the answer: the next N (or this share of) requests that would be
        # answered 2xx are applied, then the connection is closed unanswered ("closed") or
        # held timeout_seconds first ("timeout"). timeout_rate and close_rate drop BEFORE.
        self.lose_answer_rate = lose_answer_rate
        self.lose_answer_next = lose_answer_next
        self.lose_answer_mode = lose_answer_mode
        self.auth_fail_next = auth_fail_next  # the next N API requests: 401 even with the key
        # The next N API requests: 429 announcing a wait of rate_limit_retry_after seconds, and
        # every API request before that wait ends is answered 429 too (and logged "early").
        self.rate_limit_next = rate_limit_next
        self.rate_limit_retry_after = rate_limit_retry_after
        self.error_body_next = error_body_next  # the next N: 200 {"error": ...}, not applied
        self.auto_create = auto_create
        self.duplicate = duplicate
        self.note_duplicate = note_duplicate
        self.lose_answer_path = lose_answer_path
        problems = [p for name in SWITCHES if (p := switch_problem(name, getattr(self, name)))]
        if problems:
            raise ValueError("; ".join(problems))
        self.lock = threading.RLock()
        self.random = random.Random(random_seed)  # noqa: S311  # nosec B311  # fault injection, not crypto
        self.accounts: dict[str, dict] = {}
        self.notes: dict[str, dict] = {}
        self.admins: dict[str, dict] = {}  # Vitally admins (users of Vitally), by id
        self.custom_fields = custom_fields if custom_fields is not None else default_custom_fields()
        self.log: deque[dict] = deque(maxlen=log_size)  # answered requests
        self.arrivals: deque[dict] = deque(maxlen=log_size)  # as they arrive, answered or not
        self.status_counts: Counter = Counter()
        self.hand_edits: list[dict] = []  # edits "in Vitally's UI" (hand_edit), oldest first
        self._window: deque[float] = deque()
        self._api_requests = 0
        self._rate_limit_until = 0.0  # when the wait announced by rate_limit_next ends
        self._script: deque[Scripted] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None
        for admin in seed_admins or []:
            self.admin_create(**admin)
        for account in seed_accounts or []:
            created = self.account_create(
                external_id=account["externalId"],
                name=account.get("name") or account["externalId"],
                traits=account.get("traits") or {},
            )
            for name in ("accountOwnerId", "csmId"):  # admin ids, set in Vitally's UI
                if account.get(name):
                    created[name] = account[name]
            if account.get("id"):  # a seed's own id (the demo's, known to seed_demo's mirror)
                self.accounts[account["id"]] = {
                    **self.accounts.pop(created["id"]),
                    "id": account["id"],
                }

    # --- running -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> str:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((host, port or self.port or 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self.url

    def serve_forever(self, *, host: str, port: int) -> None:
        self.start(host=host, port=port)
        try:
            while self._thread.is_alive():
                self._thread.join(1)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop listening: connections are refused until start() again (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- test helpers ------------------------------------------------------------------------
    def script(self, *answers: Scripted) -> None:
        with self.lock:
            self._script.extend(answers)

    def switches(self) -> dict[str, Any]:
        """Every switch and its value (the API key masked): what GET /_fake/control answers."""
        with self.lock:
            values = {name: getattr(self, name) for name in SWITCHES}
        values["api_key"] = _masked(values["api_key"])
        return values

    def set_switches(self, values: dict[str, Any]) -> dict[str, Any]:
        """Set several switches at once, or none: ValueError names every problem."""
        if not isinstance(values, dict):
            raise ValueError("the body must be a JSON object of switch names and values")
        problems = [p for name, value in values.items() if (p := switch_problem(name, value))]
        if problems:
            raise ValueError("; ".join(problems))
        with self.lock:
            for name, value in values.items():
                setattr(self, name, value)
        return self.switches()

    def early_requests(self) -> list[dict]:
        """API requests that arrived while a wait announced by rate_limit_next was running
        (entry["early"]; entry["early_by"] says how many seconds too soon), oldest first."""
        with self.lock:
            return [dict(entry) for entry in self.arrivals if entry.get("early")]

    def rate_limit_wait_remaining(self) -> float:
        """Seconds until the wait announced by rate_limit_next ends (0 when none runs)."""
        with self.lock:
            return max(0.0, self._rate_limit_until - time.time())

    def requests_log(self, *, method: str | None = None, path_prefix: str = "") -> list[dict]:
        with self.lock:
            return [
                dict(entry)
                for entry in self.log
                if (method is None or entry["method"] == method)
                and entry["path"].startswith(path_prefix)
            ]

    def puts(self, account_key: str | None = None) -> list[dict]:
        """The PUTs to accounts received (optionally to one key), oldest first."""
        prefix = "/resources/accounts/" + (account_key or "")
        return self.requests_log(method="PUT", path_prefix=prefix)

    def account_get(self, key: str) -> dict | None:
        with self.lock:
            account = self._resolve(key)
            return json.loads(json.dumps(account)) if account else None

    def account_create(self, *, external_id: str, name: str, traits: dict | None = None) -> dict:
        with self.lock:
            stamp = _now_iso()
            account = {
                "id": str(uuid.uuid4()),
                "externalId": external_id,
                "name": name,
                "createdAt": stamp,
                "updatedAt": stamp,
                "organizationId": None,
                "accountOwnerId": None,
                "traits": {k: v for k, v in (traits or {}).items() if v is not None},
                "mrr": None,
                "healthScore": None,
                "usersCount": 0,
                "segments": [],
            }
            self.accounts[account["id"]] = account
            return account

    def notes_list(self, external_id: str | None = None) -> list[dict]:
        """The notes Vitally holds (optionally those with this externalId), oldest first."""
        with self.lock:
            notes = [
                json.loads(json.dumps(n))
                for n in self.notes.values()
                if external_id is None or n.get("externalId") == external_id
            ]
        return sorted(notes, key=lambda n: (n["createdAt"], n["id"]))

    def note_hand_delete(self, note_id: str) -> dict:
        """A note removed behind the portal's back (more hostile than Vitally's archive: gone,
        so GET and PUT answer 404). Recorded in `hand_edits`. KeyError for an unknown id."""
        with self.lock:
            note = self.notes.pop(note_id)
            self._note_hand_record(note, "deleted")
            return note

    def note_hand_edit(
        self, note_id: str, *, subject: str | None = None, note: str | None = None
    ) -> dict:
        """Change a note's subject or text as a person in Vitally's UI would (the text kept to
        the allow-list, updatedAt bumped); recorded in `hand_edits`, not an API request.
        KeyError for an unknown id. Returns the note."""
        if subject is None and note is None:
            raise ValueError("give the subject, the note, or both")
        with self.lock:
            found = self.notes[note_id]
            changed = []
            if subject is not None:
                found["subject"], changed = str(subject), [*changed, "subject"]
            if note is not None:
                found["note"], changed = note_html_clean(str(note)), [*changed, "text"]
            found["updatedAt"] = _now_iso()
            self._note_hand_record(found, f"{' and '.join(changed)} changed")
            return json.loads(json.dumps(found))

    def note_hand_archive(self, note_id: str) -> dict:
        """Archive a note as a person in Vitally's UI would (archivedAt set: still there, out
        of sight; GET answers it, PUT is accepted and changes what nobody sees). Recorded in
        `hand_edits`. KeyError for an unknown id."""
        with self.lock:
            found = self.notes[note_id]
            found["archivedAt"] = found["updatedAt"] = _now_iso()
            self._note_hand_record(found, "archived")
            return json.loads(json.dumps(found))

    def _note_hand_record(self, note: dict, what: str) -> None:
        self.hand_edits.append(
            {
                "at": time.time(),
                "key": f"note {note['id']}",
                "id": note["id"],
                "externalId": note.get("externalId"),
                "traits": {},
                "note": what,
            }
        )

    def hand_edit(self, key: str, traits: dict) -> dict:
        """Change an account's traits as a person editing in Vitally's UI would: merged, null
        deletes, updatedAt bumped; recorded in `hand_edits`, not an API request (no log entry,
        no rate limit, no faults). KeyError for an unknown account. Returns the account."""
        if not isinstance(traits, dict):
            raise TypeError("traits must be a dict")
        traits = json.loads(json.dumps(traits))  # the fake's own copy, JSON like the API's
        with self.lock:
            account = self._resolve(key)
            if account is None:
                raise KeyError(f"no account {key!r}")
            _merge_traits(account["traits"], traits)
            account["updatedAt"] = _now_iso()
            self.hand_edits.append(
                {
                    "at": time.time(),
                    "key": key,
                    "id": account["id"],
                    "externalId": account["externalId"],
                    "traits": traits,
                }
            )
            return json.loads(json.dumps(account))

    def _resolve(self, key: str) -> dict | None:
        if key in self.accounts:
            return self.accounts[key]
        return next((a for a in self.accounts.values() if a["externalId"] == key), None)

    # --- the request pipeline ----------------------------------------------------------------
    def handle(self, handler: "_Handler", method: str) -> None:
        parts = urlsplit(handler.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        entry = {
            "at": time.time(),
            "method": method,
            "path": path,
            "query": query,
            "status": None,
            "body": None,
        }
        try:
            entry["body"] = json.loads(raw) if raw else None
        except ValueError:
            entry["body"] = raw[:200].decode(errors="replace")

        if path == "/" and method == "GET":
            return self._send_html(handler, self.render_page())
        if path.startswith("/_fake/"):
            return self._fake_endpoint(handler, method, path, entry)

        # The checks an API request goes through, in this order; each step may end it:
        #  0. arrival: recorded in `arrivals` (answered or not); marked early when it arrives
        #     while a wait announced by rate_limit_next runs, whatever it is answered
        #  1. faults that drop it BEFORE applying: close_rate, then timeout_rate
        #  2. latency (latency_ms + jitter)
        #  3. auth: an auth_fail_next burst (401 whatever the key), then the key itself
        #  4. scripted answers (tests)
        #  5. the rate_limit_next wait: 429 while one runs, else start one if rate_limit_next
        #  6. 429 bursts, then the sliding-window rate limit
        #  7. injected errors: error_body_next (200 with an error body), then error_rate (5xx)
        #  8. route: the request is applied to the fake's state
        #  9. lose the answer of an applied 2xx (lose_answer_next, then lose_answer_rate), or
        #     answer it
        with self.lock:
            self.arrivals.append(entry)  # the same dict: its status fills in when answered
            if entry["at"] < self._rate_limit_until:
                entry["early"] = True  # sent before the announced wait ended
                entry["early_by"] = round(self._rate_limit_until - entry["at"], 3)  # seconds
            roll = self.random.random()
        if roll < self.close_rate:
            return self._drop(handler, entry, "closed")
        if roll < self.close_rate + self.timeout_rate:
            time.sleep(self.timeout_seconds)
            return self._drop(handler, entry, "timeout")
        latency = self.latency_ms + self.random.uniform(0, self.latency_jitter_ms)
        if latency > 0:
            time.sleep(latency / 1000)

        status, headers, body = self._admit(method, handler.headers.get("Authorization"), entry)
        if status is None:
            with self.lock:  # applying and deciding to lose the answer: one step for others
                status, body = self._route(method, path, query, entry["body"])
                lose = self._lose_answer(status) if path.startswith(self.lose_answer_path) else None
            if lose:
                return self._lose(handler, entry, status, lose)
        self._answer(handler, entry, status, body, headers)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, _password = decoded.partition(":")
        return user == self.api_key

    def _admit(
        self, method: str, authorization: str | None, entry: dict
    ) -> tuple[int | None, dict, Any]:
        """Steps 3 to 7 of `handle`: an answer that ends the request, or (None, {}, None)."""
        with self.lock:
            # 3. auth: a burst of 401s that ends (an auth outage at Vitally), then the key
            if self.auth_fail_next > 0:
                self.auth_fail_next -= 1
                entry["injected"] = "auth_fail"
                return 401, {}, {"error": "Unauthorized"}
            if not self._authorized(authorization):
                return 401, {}, {"error": "Authorization header not present."}
            # 4. scripted answers
            for index, scripted in enumerate(self._script):
                if method in scripted.methods:
                    del self._script[index]
                    return scripted.status, dict(scripted.headers), scripted.body
            # 5. a hard limit's wait: 429 until it ends, to every request. An early one (sent
            # inside the wait) gets 429 even if its latency took it past the end.
            now = time.time()
            if entry.get("early") or now < self._rate_limit_until:
                entry["injected"] = "rate_limit"
                remaining = max(0.0, self._rate_limit_until - now)
                return 429, _wait_headers(remaining), {"error": "Too Many Requests"}
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                entry["injected"] = "rate_limit"
                self._rate_limit_until = now + self.rate_limit_retry_after
                return (
                    429,
                    _wait_headers(self.rate_limit_retry_after),
                    {"error": "Too Many Requests"},
                )
            # 6. 429 bursts, then the sliding-window rate limit
            self._api_requests += 1
            in_burst = (
                self.burst_429_every
                and (self._api_requests - 1) % self.burst_429_every < self.burst_429
            )
            if in_burst:
                seconds = str(self.burst_retry_after)
                return (
                    429,
                    {"Retry-After": seconds, "RateLimit-Reset": seconds},
                    {"error": "Too Many Requests (injected burst)"},
                )
            now = time.time()
            while self._window and self._window[0] <= now - 60:
                self._window.popleft()
            if len(self._window) >= self.rate_limit_per_minute:
                return 429, {}, {"error": "Too Many Requests"}
            self._window.append(now)
            # 7. injected errors: a 2xx whose body is an error (nothing applied), then 5xx
            if self.error_body_next > 0:
                self.error_body_next -= 1
                entry["injected"] = "error_body"
                entry["applied"] = False
                return 200, {}, {"error": "Internal error"}
            if self.error_rate and self.random.random() < self.error_rate:
                status = self.random.choice([500, 502, 503])
                return status, {}, {"error": "Internal error (injected by the fake)"}
        return None, {}, None

    def _lose_answer(self, status: int) -> str | None:
        """Step 9: how to lose the answer to an applied request ("closed", "timeout"), or None.
        Called with the lock held."""
        if not 200 <= status < 300:
            return None
        if self.lose_answer_next > 0:
            self.lose_answer_next -= 1
            return self.lose_answer_mode
        if self.lose_answer_rate and self.random.random() < self.lose_answer_rate:
            return self.lose_answer_mode
        return None

    def _lose(self, handler, entry, status: int, mode: str) -> None:
        """The request was applied; the client never hears so. Logged at once, as applied."""
        with self.lock:  # readers copy entries under the lock: never see half an update
            entry.update(
                status="lost",
                applied=True,
                applied_status=status,
                applied_at=time.time(),
                lost_mode=mode,
                injected="lose_answer",
            )
            self._log(entry)
        if mode == "timeout":
            time.sleep(self.timeout_seconds)  # the client's read timeout fires first
        handler.close_connection = True

    def _rate_headers(self) -> dict[str, str]:
        with self.lock:
            now = time.time()
            while self._window and self._window[0] <= now - 60:
                self._window.popleft()
            limit = self.rate_limit_per_minute
            remaining = max(0, limit - len(self._window))
            reset = math.ceil(self._window[0] + 60 - now) if self._window else 0
        return {
            "RateLimit-Limit": f"{limit}, {limit};window=60",
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(max(0, reset)),
        }

    def _answer(self, handler, entry, status: int, body: Any, headers: dict | None = None):
        merged = self._rate_headers()
        if status == 429 and not headers:
            merged["RateLimit-Remaining"] = "0"
        merged.update(headers or {})
        payload = b"" if body is None else json.dumps(body).encode()
        entry["status"] = status
        entry["answered_at"] = time.time()
        if status == 429:  # the wait it announces, for checking that clients honour it
            entry["wait"] = max(
                float(merged.get(h) or 0) for h in ("Retry-After", "RateLimit-Reset")
            )
        self._log(entry)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in merged.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            handler.close_connection = True  # the client went away (killed, timed out)

    def _drop(self, handler, entry, what: str) -> None:
        entry["status"] = what
        self._log(entry)
        handler.close_connection = True

    def _log(self, entry: dict) -> None:
        with self.lock:
            self.log.append(entry)
            self.status_counts[entry["status"]] += 1

    def _send_html(self, handler, page: str) -> None:
        data = page.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _fake_endpoint(self, handler, method, path, entry) -> None:
        if path == "/_fake/requests":  # ?since=<unix time>: only what arrived after it
            since = float(entry["query"].get("since") or 0)
            log = [e for e in self.requests_log() if e["at"] > since]
            body = {"requests": log, "status_counts": dict(self.status_counts)}
            return self._plain_json(handler, 200, body)
        if path == "/_fake/ping":  # the benchmark's floor: one call, logged with its time
            entry["status"] = 200
            self._log(entry)
            return self._plain_json(handler, 200, {"ok": True})
        if path == "/_fake/control":  # GET: the switches; POST {"name": value}: set them
            if method == "GET":
                return self._plain_json(handler, 200, self.switches())
            if method != "POST":
                return self._plain_json(handler, 405, {"error": "GET or POST"})
            try:
                return self._plain_json(handler, 200, self.set_switches(entry["body"]))
            except ValueError as error:
                return self._plain_json(handler, 400, {"error": str(error)})
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) == 4 and parts[1] == "accounts" and parts[3] == "traits":
            return self._fake_hand_edit(handler, method, parts[2], entry["body"])
        if len(parts) == 4 and parts[1] == "notes" and parts[3] in ("edit", "archive", "delete"):
            return self._fake_note_hand(handler, method, parts[2], parts[3], entry["body"])
        if path == "/_fake/health":
            return self._plain_json(handler, 200, {"ok": True})
        return self._plain_json(handler, 404, {"error": "Not found"})

    def _fake_hand_edit(self, handler, method: str, key: str, body: Any) -> None:
        """POST /_fake/accounts/<idOrExternalId>/traits {"traits": {...}}: a hand edit."""
        if method != "POST":
            return self._plain_json(handler, 405, {"error": "POST"})
        if not isinstance(body, dict) or not isinstance(body.get("traits"), dict):
            return self._plain_json(handler, 400, {"error": 'the body must be {"traits": {...}}'})
        try:
            account = self.hand_edit(key, body["traits"])
        except KeyError:
            return self._plain_json(handler, 404, {"error": "Account not found"})
        return self._plain_json(handler, 200, account)

    def _fake_note_hand(self, handler, method: str, note_id: str, what: str, body: Any) -> None:
        """POST /_fake/notes/<id>/edit {"subject"?: ..., "note"?: ...}, /archive or /delete: a
        note changed by hand in Vitally's UI."""
        if method != "POST":
            return self._plain_json(handler, 405, {"error": "POST"})
        try:
            if what == "edit":
                fields = body if isinstance(body, dict) else {}
                values = {
                    k: fields[k] for k in ("subject", "note") if isinstance(fields.get(k), str)
                }
                if not values:
                    message = 'the body must be {"subject": "...", "note": "<p>...</p>"} (either)'
                    return self._plain_json(handler, 400, {"error": message})
                return self._plain_json(handler, 200, self.note_hand_edit(note_id, **values))
            if what == "archive":
                return self._plain_json(handler, 200, self.note_hand_archive(note_id))
            return self._plain_json(handler, 200, self.note_hand_delete(note_id))
        except KeyError:
            return self._plain_json(handler, 404, {"error": "Note not found"})

    def _plain_json(self, handler, status: int, body: Any) -> None:
        data = json.dumps(body, default=str).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # --- the API -----------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] != ["resources"] or len(parts) < 2:
            return 404, {"error": "Not found"}
        resource, rest = parts[1], parts[2:]
        if resource == "admins":
            return self._admins(method, rest, query)
        if resource == "accounts":
            if not rest:
                if method == "GET":
                    return self._list(list(self.accounts.values()), query)
                if method == "POST":
                    return self._account_post(body)
            elif len(rest) == 1:
                return self._account_one(method, rest[0], body)
            elif len(rest) == 2 and rest[1] == "notes" and method == "GET":
                account = self._resolve(rest[0])
                if account is None:
                    return 404, {"error": "Account not found"}
                notes = [n for n in self.notes.values() if n.get("accountId") == account["id"]]
                return self._list(notes, query)
            return 405, {"error": "Method not allowed"}
        if resource == "customFields" and method == "GET" and not rest:
            model = query.get("model")
            if model not in CUSTOM_FIELD_MODELS:
                return 400, {"error": "model is required (e.g. model=accounts)"}
            return 200, list(self.custom_fields) if model == "accounts" else []
        if resource == "notes":
            return self._notes(method, rest, query, body)
        return 404, {"error": "Not found"}

    def _list(self, items: list[dict], query: dict) -> tuple[int, Any]:
        try:
            limit = int(query.get("limit", 100))
        except ValueError:
            return 400, {"error": "limit must be a number"}
        limit = max(1, min(limit, 100))
        sort_by = query.get("sortBy", "updatedAt")
        if sort_by not in ("createdAt", "updatedAt"):
            return 400, {"error": "sortBy must be createdAt or updatedAt"}
        if "archived" in query:
            wanted = query["archived"] == "true"
            items = [i for i in items if bool(i.get("archivedAt")) == wanted]
        offset = 0
        if query.get("from"):
            try:
                offset = int(json.loads(base64.b64decode(query["from"]))["offset"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                return 400, {"error": "Invalid cursor"}
        ordered = sorted(items, key=lambda i: (i[sort_by], i["id"]), reverse=True)
        page = ordered[offset : offset + limit]
        more = offset + limit < len(ordered)
        cursor = base64.b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
        return 200, {"results": page, "next": cursor if more else None}

    def _account_post(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"message": "The body must be a JSON object"}
        for required in ("externalId", "name"):
            if not body.get(required):
                return 400, {"message": f"{required} is required"}
        traits = body.get("traits") or {}
        if not isinstance(traits, dict):
            return 400, {"message": "traits must be an object"}
        existing = next(
            (a for a in self.accounts.values() if a["externalId"] == body["externalId"]), None
        )
        if existing is not None:
            if self.duplicate != "upsert":
                return 409, {"error": "An account with this externalId already exists"}
            return self._account_put(existing, body)
        return 200, self.account_create(
            external_id=body["externalId"], name=body["name"], traits=traits
        )

    def _account_one(self, method: str, key: str, body: Any) -> tuple[int, Any]:
        account = self._resolve(key)
        if account is None and method == "PUT" and self.auto_create:
            name = body.get("name") if isinstance(body, dict) else None
            account = self.account_create(external_id=key, name=name or key)
            account["autoCreatedByFake"] = True
        if account is None:
            return 404, {"error": "Account not found"}
        if method == "GET":
            return 200, account
        if method == "PUT":
            return self._account_put(account, body)
        if method == "DELETE":
            del self.accounts[account["id"]]
            return 200, account
        return 405, {"error": "Method not allowed"}

    def _account_put(self, account: dict, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"error": "The body must be a JSON object"}
        traits = body.get("traits", {})
        if not isinstance(traits, dict):
            return 400, {"error": "traits must be an object"}
        _merge_traits(account["traits"], traits)
        for name in ("name", "organizationId", "accountOwnerId"):
            if name in body:
                account[name] = body[name]
        account["updatedAt"] = _now_iso()
        return 200, account

    def _notes(self, method: str, rest: list[str], query: dict, body: Any) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                return self._list(list(self.notes.values()), query)
            if method == "POST":
                return self._note_post(body)
            return 405, {"error": "Method not allowed"}
        key = rest[0]
        note = self.notes.get(key)
        if note is None and query.get("source"):  # externalId only with ?source= (§5)
            note = next((n for n in self.notes.values() if n.get("externalId") == key), None)
        if note is None:
            return 404, {"error": "Note not found"}
        if method == "GET":
            return 200, note
        if method == "PUT":
            if not isinstance(body, dict):
                return 400, {"error": "The body must be a JSON object"}
            return 200, self._note_apply(note, body)
        if method == "DELETE":
            note["archivedAt"] = note["updatedAt"] = _now_iso()
            return 200, note
        return 405, {"error": "Method not allowed"}

    def _note_post(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"message": "The body must be a JSON object"}
        for required in ("note", "noteDate"):
            if not body.get(required):
                return 400, {"message": f"{required} is required"}
        if not (body.get("accountId") or body.get("organizationId")):
            return 400, {"message": "accountId or organizationId is required"}
        if body.get("accountId") and body["accountId"] not in self.accounts:
            return 400, {"message": "accountId must be the Vitally id of an existing account"}
        existing = body.get("externalId") and next(
            (n for n in self.notes.values() if n.get("externalId") == body["externalId"]), None
        )
        if existing:  # unique on externalId: refused (409), or the POST updates it
            if self.note_duplicate != "upsert":
                return 409, {"error": "A note with this externalId already exists"}
            return 200, self._note_apply(existing, body)
        stamp = _now_iso()
        note = {"id": str(uuid.uuid4()), "createdAt": stamp, "archivedAt": None, "traits": {}}
        self.notes[note["id"]] = note
        return 200, self._note_apply(note, body)

    def _note_apply(self, note: dict, body: dict) -> dict:
        for name in (
            "externalId", "note", "noteDate", "subject", "authorId", "categoryId", "tags",
            "accountId", "organizationId",
        ):  # fmt: skip
            if name in body:
                note[name] = body[name]  # tags are replaced wholesale (§5)
        note["note"] = note_html_clean(note.get("note"))  # Vitally's allow-list
        for key, value in (body.get("traits") or {}).items():
            if value is None:
                note["traits"].pop(key, None)
            else:
                note["traits"][key] = value
        note["updatedAt"] = _now_iso()
        return note

    # --- admins (the mirror's import matches people by e-mail) ---------------------------------
    def admin_create(self, *, email: str, name: str = "", id: str | None = None) -> dict:  # noqa: A002
        with self.lock:
            admin = {
                "id": id or str(uuid.uuid4()),
                "name": name or email.split("@")[0],
                "email": email,
                "licenseStatus": "active",
            }
            self.admins[admin["id"]] = admin
            return admin

    def _admins(self, method: str, rest: list[str], query: dict) -> tuple[int, Any]:
        if method != "GET":
            return 405, {"error": "Method not allowed"}
        if rest == ["search"]:
            email = (query.get("email") or "").strip().lower()
            if not email:
                return 400, {"error": "email is required"}
            return 200, [a for a in self.admins.values() if a["email"].lower() == email]
        if not rest:
            return self._list(
                [{**a, "updatedAt": "", "createdAt": ""} for a in self.admins.values()], query
            )
        admin = self.admins.get(rest[0])
        return (200, admin) if admin else (404, {"error": "Admin not found"})

    # --- the page ----------------------------------------------------------------------------
    def render_page(self) -> str:
        esc = html.escape
        with self.lock:
            accounts = sorted(self.accounts.values(), key=lambda a: a["updatedAt"], reverse=True)
            latest = list(self.log)[-15:][::-1]
            counts = dict(self.status_counts)
            early = sum(1 for entry in self.arrivals if entry.get("early"))
            edits = list(self.hand_edits)[-15:][::-1]
            notes = sorted(self.notes.values(), key=lambda n: n["updatedAt"], reverse=True)
        wait = self.rate_limit_wait_remaining()
        rows = []
        for account in accounts:
            traits = "".join(
                f"<li><code>{esc(k)}</code>: {esc(json.dumps(v, ensure_ascii=False))}</li>"
                for k, v in sorted(account["traits"].items())
            )
            rows.append(
                f'<tr id="account-{esc(account["id"])}">'
                f'<td><span id="account-{esc(account["externalId"])}"></span>'
                f"<strong>{esc(account['name'])}</strong><br>"
                f"<code>{esc(account['externalId'])}</code></td>"
                f"<td>{esc(account['updatedAt'])}</td><td><ul>{traits}</ul></td></tr>"
            )
        requests_rows = "".join(
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>".format(
                esc(datetime.fromtimestamp(e["at"]).strftime("%H:%M:%S.%f")[:-3]),
                esc(e["method"]),
                esc(e["path"]),
                esc(_status_text(e)),
                _traits_summary(e["body"]),
            )
            for e in latest
        )
        edit_rows = "".join(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>".format(
                esc(datetime.fromtimestamp(e["at"]).strftime("%H:%M:%S.%f")[:-3]),
                esc(e["key"])
                + (f"<br><code>{esc(str(e['externalId']))}</code>" if e.get("note") else ""),
                esc(f"Note {e['note']}")
                if e.get("note")
                else _traits_summary({"traits": e["traits"]}),
            )
            for e in edits
        )
        note_rows = "".join(
            "<tr><td>{}<br><code>{}</code><br>id <code>{}</code></td><td><code>{}</code></td>"
            "<td>{}</td><td>{}</td><td>{}</td></tr>".format(
                esc(n.get("subject") or "(no subject)"),
                esc(str(n.get("externalId") or "")),
                esc(n["id"]),
                esc(str(n.get("accountId") or "")),
                esc(n["updatedAt"]) + (" (archived)" if n.get("archivedAt") else ""),
                esc(str(n.get("authorId") or "—")),
                esc(str(n.get("note") or "")[:300]),
            )
            for n in notes[:30]
        )
        switches = "".join(
            f'<tr><th scope="row"><code>{esc(name)}</code></th>'
            f"<td>{esc(json.dumps(value, ensure_ascii=False))}</td></tr>"
            for name, value in self.switches().items()
        )
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Fake Vitally</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2330}}
table{{border-collapse:collapse;width:100%;margin-bottom:2rem}}
td,th{{border:1px solid #d9dde6;padding:.35rem .5rem;text-align:left;vertical-align:top}}
th{{background:#eef0f6}} tr:target,tr:has(:target){{outline:3px solid #c77700}}
ul{{margin:0;padding-left:1rem}} .meta{{color:#5a6275}}</style></head>
<body><h1>Fake Vitally</h1>
<p class="meta">Not Vitally: the local fake (vitally_sync/fake.py). Refreshes every 2 s.
Answers so far: {esc(json.dumps(counts, default=str))} ·
rate_limit_next wait: {esc(f"{wait:.1f} s left" if wait else "none running")} ·
early requests (sent inside that wait): {early}</p>
<h2>Latest requests</h2>
<table><thead><tr><th>Received</th><th>Method</th><th>Path</th><th>Status</th>
<th>Traits sent</th></tr></thead><tbody>{requests_rows}</tbody></table>
<h2>Accounts ({len(accounts)}, most recently updated first)</h2>
<table><thead><tr><th>Account</th><th>Updated</th><th>Traits</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>Notes ({len(notes)}, most recently updated first)</h2>
<table><thead><tr><th>Subject</th><th>Account</th><th>Updated</th><th>Author</th>
<th>Note (HTML as kept)</th></tr></thead><tbody>{note_rows}</tbody></table>
<h2>Hand edits ({len(self.hand_edits)}, latest first)</h2>
<p class="meta">Traits and notes changed as a person in Vitally's UI would (not API requests):
<code>POST /_fake/accounts/&lt;idOrExternalId&gt;/traits</code> with
<code>{{"traits": {{...}}}}</code>; <code>POST /_fake/notes/&lt;id&gt;/edit</code> with
<code>{{"subject": "...", "note": "&lt;p&gt;...&lt;/p&gt;"}}</code> (either),
<code>/archive</code> or <code>/delete</code>.</p>
<table><thead><tr><th>Edited</th><th>Account or note</th><th>What changed</th></tr></thead>
<tbody>{edit_rows}</tbody></table>
<h2>Switches</h2>
<p class="meta">Change them at run time: <code>POST /_fake/control</code> with a JSON object,
e.g. <code>{{"error_rate": 0.1}}</code>; <code>GET /_fake/control</code> lists them.</p>
<table><thead><tr><th>Switch</th><th>Value</th></tr></thead><tbody>{switches}</tbody></table>
</body></html>"""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeVitally
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its load balancer
    server_version = "FakeVitally/1"

    def do_GET(self):
        self.fake.handle(self, "GET")

    def do_PUT(self):
        self.fake.handle(self, "PUT")

    def do_POST(self):
        self.fake.handle(self, "POST")

    def do_DELETE(self):
        self.fake.handle(self, "DELETE")

    def log_message(self, format, *args):  # noqa: A002  (the stdlib's signature)
        pass  # the request log and the page say what happened


def _status_text(entry: dict) -> str:
    """A log entry's status as the page shows it, with what the fake did to it."""
    text = str(entry["status"])
    if entry.get("applied"):
        text += f" (applied {entry['applied_status']}, answer lost: {entry['lost_mode']})"
    if entry.get("early"):
        text += " (early: inside an announced wait)"
    return text


def _traits_summary(body) -> str:
    """The traits a request sent, as short `key: value` lines a person can scan (HTML)."""
    if not isinstance(body, dict) or not isinstance(body.get("traits"), dict):
        return ""
    items = sorted(body["traits"].items())
    return (
        "<ul>"
        + "".join(
            f"<li><code>{html.escape(key.removeprefix('vitally.custom.'))}</code>: "
            f"{html.escape(json.dumps(value, ensure_ascii=False)[:120])}</li>"
            for key, value in items
        )
        + "</ul>"
    )
