"""Generated inputs: every form the portal serves to each role, found by crawling the rendered
pages (tests/security/forms.py, never a hand list), sent with Hypothesis-generated values in one
to three of its fields while the rest stay as served (a create form's empty required fields
filled with a plausible value first).

For each example of a POST form:

1. no 5xx, and a redirect never leaves the site;
2. refused (the form re-rendered with its errors, or an error message queued before a
   redirect, or 4xx): the database is exactly as it was (tests/security/snapshot.py);
3. refused: every field marked invalid carries its message beside it (`aria-invalid="true"`
   and an `aria-describedby` naming the `<p class="error" id="…_error">`), every such message
   belongs to a field, and the page shows at least one message (beside a field, or for the
   whole form with role="alert");
4. a value the field must refuse by itself (not among a select's options, longer than its
   maxlength, out of its min/max, empty when required, a NUL, a line break, control or bidi
   character in a single-line field, a control character other than a line break or tab in a
   textarea, a malformed date or URL) is refused, with its message beside that very
   field when the form is re-rendered;
5. accepted: nothing more is asserted. Each example runs in a savepoint rolled back
   afterwards, so the examples are independent and the served `version`s stay current.

For each example of a GET form (the list filters), sent to its action as a query string, with
and without htmx: a 200 that serves the list (and, for the whole page, its filters again); no
row written; and a value that can be no filter (not an option and not an id, empty, a NUL in
the search) shows the same rows as the query without it, unless the page flags it beside the
filter. Signed out, the sign-in form gets the POST checks, and a failure writes no session.

The crawl starts from two accounts besides the shared world's four, for the forms only they
serve: a checklist not yet started, and a sign-off with blockers (its override reason).

It is derandomized (CI is reproducible) with a fixed number of examples per form and role;
the whole file took 41–45 s on a 2-core machine under a load average of 1 (README, "Gates")."""

import re
import time
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django import forms
from django.contrib.messages import constants as message_levels
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from handoff.accounts.models import Account
from tests.closeout.conftest import ready_account
from tests.conftest import HANDBOOK_ITEMS
from tests.factories import AccountFactory
from tests.security.forms import Button, Control, Crawl, Form, forms_discover, page_parse
from tests.security.snapshot import ADMIN_APPS, DOMAIN_APPS, db_snapshot, snapshot_diff
from tests.security.world import World, world_build
from vitally_sync.demo import _difference_seed

pytestmark = pytest.mark.django_db

ROLES = ("ie", "ta", "manager")
# What the crawl finds today (the counts are in the README); fewer means the crawl broke.
FORMS_FLOOR = {"ie": 31, "ta": 13, "manager": 34}
EXAMPLES_PER_FORM = 10
# The htmx-only instance check saves nothing and is found once per environment form.
EXAMPLES_PER_DERIVED_FORM = 4
# The list filters (method="get"): the dashboard (with "Only accounts that name me", what My
# accounts was), the four logs of an account, for a TA or manager the issue overview and the
# risk heatmap, and for a manager the Vitally sync page.
GET_FORMS_FLOOR = {"ie": 5, "ta": 7, "manager": 8}
EXAMPLES_PER_GET_FORM = 10

SCRIPT = '<script>alert("x")</script>'

# --- Values ------------------------------------------------------------------------------------
# Every Unicode category but surrogates (not encodable in a request), a few chosen on purpose.
TEXT_CATEGORIES = ("Lu", "Ll", "Lo", "Nd", "No", "Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Mn",
                   "Me", "Sm", "Sc", "So", "Pd", "Ps", "Pe", "Po")  # fmt: skip
SPECIAL_TEXT = [
    "", " ", "   ", "\t", "\r\n", "a\rb", "a\nb", "a\x00b", "\x00", "a\x1bb", "\x7f", "\x85",
    "Invoice \u202egpj.exe", "a\u2028b", "\u2066x\u2069",
    "\u200b", "\ufeff", "🚀", "👩🏽‍💻", "e\u0301", "Z\u0351\u0352\u0353",
    SCRIPT, '"><img src=x onerror=alert(1)>', "'; DROP TABLE x; --", "%s%n", "{{ 7*7 }}",
    "../../etc/passwd", "\\", "²", "NaN", "Ⅻ", "𝟘", "ﷺ",
]  # fmt: skip
text = st.one_of(
    st.text(st.characters(categories=TEXT_CATEGORIES), max_size=40),
    st.sampled_from(SPECIAL_TEXT),
    st.builds(
        lambda unit, size: (unit * size)[:size],
        st.sampled_from(["x", "é", "🚀", "\u0301", "a\n", "\x00"]),
        st.sampled_from([65, 101, 201, 1001, 2001, 5001, 100_000]),
    ),
)
NOT_NUMBERS = ["NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "²", "0x10", "",
               " ", "abc", "1,5", "1.5.5", "--1", "+-1", "1e", "e5", "\x00"]  # fmt: skip
number = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.integers(-3, 3).map(str),
    st.sampled_from(["2147483647", "2147483648", "-2147483649", "9223372036854775808",
                     "9" * 400, "-0", "0.5", "1.0", "1e5", "١٢", "１２", "1_000", " 7 "]),
    st.sampled_from(NOT_NUMBERS),
    st.floats().map(repr),
)  # fmt: skip
BAD_DATES = [
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-01-01",
    "10000-01-01",
    "-2026-01-01",
    "yesterday",
    "1e309",
    "9" * 30,
    "²",
    "2026-01-01\x00",
    "2026-06-31",
]
date = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(BAD_DATES),
    st.sampled_from(["2026-1-1", "12/31/2026", "2026-01-01T00:00", "１９９９-０１-０１", ""]),
)  # fmt: skip
BAD_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "ftp://example.com/",
            "a[b]", "http://[x]/", "http://[::1", "http://ex ample.com", "http://", "https://",
            "http://exa\x00mple.com"]  # fmt: skip
url = st.one_of(
    st.sampled_from(BAD_URLS),
    st.sampled_from(["//evil.example", "http://[::1]/", "https://[::1]:99999/", "example.com",
                     "https://example.com/" + "a" * 100_000, "https://exämple.com/ü?q=1#x",
                     "http://127.0.0.1:8000/", "https://example.com/\r\nSet-Cookie:x=1",
                     "http://user:pass@example.com/", "http://xn--n3h.com"]),
    st.builds(lambda host, path: f"https://{host}/{path}", text, text),
)  # fmt: skip


def _foreign(options: list[str]):
    """Values for a select or radio group: a mix of its own options and values it never
    offered."""
    foreign = st.one_of(
        text, number, st.sampled_from(["-1", "0", "99999999", "9" * 30, "²", "null", "None"])
    )
    return st.one_of(st.sampled_from(options), foreign) if options else foreign


def values_for(control: Control):
    kind = control.type
    if kind in ("select", "select-multiple", "radio"):
        return _foreign(control.options)
    if kind == "checkbox":
        return st.one_of(st.sampled_from(["on", "", "false", "0", "True"]), text)
    if kind == "number":
        return st.one_of(number, text)
    if kind in ("date", "datetime-local", "month", "time"):
        return st.one_of(date, text)
    if kind == "url":
        return st.one_of(url, text)
    if kind == "email":
        return st.one_of(st.sampled_from(["a@b", "@", "a@[x]", "a" * 300 + "@x.com"]), text)
    if kind == "hidden":
        if control.name == "next":
            return st.one_of(
                url,
                st.sampled_from(["//evil.example", "https://evil.example/", "/\\evil.example",
                                 "logout", "/mine/\r\nSet-Cookie: x=1", "/\x00", "/" + "a" * 5000]),
            )  # fmt: skip
        return st.one_of(number, text)
    return text


# --- Forms as served, filled where a create form leaves a required field empty ------------------
PLAUSIBLE = {"url": "https://example.com/x", "email": "a@example.com", "number": "1",
             "date": "2026-06-30"}  # fmt: skip


def form_baseline(form: Form) -> dict[str, list[str]]:
    data = form.served()
    for c in form.controls:
        empty = not any(v.strip() for v in data.get(c.name, []))
        if not (c.required and empty):
            continue
        if c.tag == "select":
            data[c.name] = [next((o for o in c.options if o), "")]
        elif c.type == "radio":
            data[c.name] = [c.value]
        else:
            value = PLAUSIBLE.get(c.type, "Generated")
            data[c.name] = [c.min if c.type == "number" and c.min else value]
    return data


def _is_save(form: Form, button: Button | None) -> bool:
    """Sent to be validated and saved: not an htmx-only check, nor the formsets' add, remove
    and undo buttons, which re-render the form without validating it."""
    if form.derived:
        return False
    return button is None or not button.name or button.value in ("", "save")


# --- The response, parsed: which fields are marked invalid and what describes them ------------
@dataclass
class Rendered:
    invalid: dict[str, list[str]] = field(default_factory=dict)  # name -> describedby ids
    errors: dict[str, str] = field(default_factory=dict)  # id of a p.error -> its text
    described: set[str] = field(default_factory=set)  # every id some control names
    form_errors: bool = False  # a message for the whole form (role="alert" / .form-errors)

    def message_beside(self, name: str) -> bool:
        return any(self.errors.get(i, "").strip() for i in self.invalid.get(name, []))


class _ResponseParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.result = Rendered()
        self._stack: list[tuple[str, str]] = []  # (tag, aria-describedby) of open elements
        self._error_id: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if "form-errors" in classes or a.get("role") == "alert":
            self.result.form_errors = True
        if tag in ("input", "select", "textarea") and a.get("name"):
            described = a.get("aria-describedby") or next(
                (d for t, d in reversed(self._stack) if t == "fieldset" and d), ""
            )
            self.result.described.update(described.split())
            if a.get("aria-invalid") == "true":
                self.result.invalid.setdefault(a["name"], []).extend(described.split())
        if tag == "p" and "error" in classes and a.get("id"):
            self._error_id = a["id"]
            self.result.errors[a["id"]] = ""
        if tag not in ("input", "br", "img", "meta", "link", "hr", "option"):
            self._stack.append((tag, a.get("aria-describedby", "")))

    def handle_data(self, data):
        if self._error_id:
            self.result.errors[self._error_id] += data

    def handle_endtag(self, tag):
        if tag == "p":
            self._error_id = None
        while self._stack:
            if self._stack.pop()[0] == tag:
                break


def rendered(html: str) -> Rendered:
    parser = _ResponseParser()
    parser.feed(html)
    parser.close()
    return parser.result


# --- What a field must refuse by itself ----------------------------------------------------------
def _same_choice(value: str, options: list[str]) -> bool:
    if value in options or value.strip() in options:
        return True
    try:  # a model choice looks its value up as an integer: "03" is option "3"
        number = int(value)
    except ValueError:
        return False
    return any(o.strip().lstrip("-").isdigit() and int(o) == number for o in options)


# What a single-line field must refuse besides control characters: the Unicode line and
# paragraph separators and the bidi embeddings, overrides and isolates (issue 12).
LINE_SEPARATORS = "\u2028\u2029"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _single_line_refuses(value: str) -> bool:
    return any(
        unicodedata.category(ch) == "Cc" or ch in LINE_SEPARATORS or ch in BIDI_CONTROLS
        for ch in value.strip()
    )


def _multi_line_refuses(value: str) -> bool:
    """A textarea keeps line breaks and tabs, and refuses every other control character and
    the bidi overrides (a signed-off reason must read as it was written)."""
    return any(
        (unicodedata.category(ch) == "Cc" and ch not in "\t\r\n") or ch in BIDI_CONTROLS
        for ch in value.strip()
    )


def must_refuse(control: Control, value: str | None) -> str:
    """Why the field must refuse this value by itself, or "" when it may accept it."""
    if control.type in ("hidden", "checkbox"):
        return ""
    if value is None or not value.strip():
        return "required" if control.required else ""
    if control.tag == "select" or control.type == "radio":
        return "" if _same_choice(value, control.options) else "not among the options"
    if "\x00" in value:
        return "a NUL character"
    if control.single_line and _single_line_refuses(value):
        return "a line break, control or bidi character in a single-line field"
    if control.type == "textarea" and _multi_line_refuses(value):
        return "a control character (not a line break or tab) or bidi override in a textarea"
    if control.maxlength and len(value.strip()) > control.maxlength:
        return f"longer than its maxlength {control.maxlength}"
    if control.type == "number":
        if value in NOT_NUMBERS:
            return "not a number"
        if re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
            n = int(value)
            if control.min not in (None, "") and n < float(control.min):
                return f"below its min {control.min}"
            if control.max not in (None, "") and n > float(control.max):
                return f"above its max {control.max}"
    if control.type == "date" and value in BAD_DATES:
        return "not a date"
    if control.type == "url" and value in BAD_URLS:
        return "not an http(s) link"
    return ""


# --- One example -------------------------------------------------------------------------------
def _refused_by_message(response) -> bool:
    """An error or warning queued by this request for the page it redirects to."""
    storage = getattr(getattr(response, "wsgi_request", None), "_messages", None)
    queued = getattr(storage, "_queued_messages", [])
    return any(m.level >= message_levels.WARNING for m in queued)


def _assert_same_site(location: str, where: str) -> None:
    parts = urlsplit(location)
    assert parts.netloc in ("", "testserver") and not location.startswith(("//", "\\")), (
        f"{where} redirects off the site: {location!r}"
    )


def _rows_written() -> tuple | None:
    """The rows this transaction has inserted, updated and deleted so far, per table (a cheap
    first look: when they did not move, the database cannot differ and the full snapshot is
    skipped). None where the database does not say (SQLite): then the snapshot always runs."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname"
        )
        return tuple(cursor.fetchall())


@dataclass
class FormRun:
    form: Form
    baseline: dict[str, list[str]]
    controls: dict[str, Control]  # the first control of each name: what the example targets
    before: dict
    outcomes: dict[str, int] = field(default_factory=dict)
    apps: tuple[str, ...] = DOMAIN_APPS  # what `before` is a snapshot of
    # The sign-in answers a name it cannot take (too long, a control character) as it answers a
    # wrong password: with the form's one message, after logging the attempt
    # (tests/people/test_login_log.py). Only a field left empty must be refused beside it.
    one_message: bool = False


def _vary(
    data, controls: dict[str, Control], names: list[str], params: dict
) -> dict[str, str | None]:
    """Draws a value for each of `names` and puts it in `params` (the form's fields as sent),
    None leaving the field out. Returns what was drawn, name by name."""
    sent: dict[str, str | None] = {}
    for name in names:
        value = data.draw(st.one_of(values_for(controls[name]), st.none()), label=name)
        sent[name] = value
        if value is None:
            params.pop(name, None)
        else:
            params[name] = [value]
    return sent


def example_send(client: Client, run: FormRun, data) -> None:
    form = run.form
    names = sorted(n for n in run.controls if n != "csrfmiddlewaretoken")
    button = data.draw(st.sampled_from(form.buttons)) if form.buttons else None
    # A form of only its CSRF token (an action button) is sent as served.
    targets = (
        data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        if names
        else []
    )
    post = {k: list(v) for k, v in run.baseline.items()}
    sent = _vary(data, run.controls, targets, post)
    if button is not None and button.name:
        post[button.name] = [button.value]
    htmx = bool(form.htmx or (button and button.hx_post)) and data.draw(st.booleans(), "htmx")
    action = (button.hx_post if button and button.hx_post and htmx else "") or form.action
    headers = {"HX-Request": "true", "HX-Current-URL": form.page} if htmx else {}
    note(f"POST {action} htmx={htmx} sent={sent!r}")

    with transaction.atomic():
        try:
            written = _rows_written()
            response = client.post(action, post, headers=headers)
            status = response.status_code
            where = f"POST {action} {sent!r}"
            assert status < 500, f"{where} -> {status}"
            body = response.content.decode(errors="replace") if status == 200 else ""
            page = rendered(body)
            refused = (
                status >= 400
                or bool(page.invalid)
                or page.form_errors
                or bool(page.errors)
                or _refused_by_message(response)
            )
            for header in ("Location", "HX-Redirect", "HX-Location"):
                if response.has_header(header):
                    _assert_same_site(response[header], where)
            if refused and (written is None or _rows_written() != written):
                changed = snapshot_diff(run.before, db_snapshot(run.apps))
                assert not changed, f"{where} was refused ({status}) but changed {changed}"
        finally:
            transaction.set_rollback(True)
            client.cookies.pop("messages", None)  # unread: the next example starts without it
    outcome = "refused" if refused else "accepted"
    run.outcomes[outcome] = run.outcomes.get(outcome, 0) + 1
    if not refused:
        reasons = {n: must_refuse(run.controls[n], v) for n, v in sent.items()}
        reasons = {n: r for n, r in reasons.items() if r}
        assert not (_is_save(form, button) and reasons), (
            f"{where} was accepted ({status}), yet {reasons}"
        )
        return
    if status != 200:  # 4xx, or a redirect with an error message for the page it goes to
        return
    # Refused with the form re-rendered: each message beside its field.
    for name, ids in page.invalid.items():
        assert page.message_beside(name), (
            f"{where}: {name} is marked invalid, but no message describes it ({ids})"
        )
    orphans = [i for i in page.errors if i.endswith("_error") and i not in page.described]
    assert not orphans, f"{where}: field messages no field points to: {orphans}"
    assert page.form_errors or any(page.message_beside(n) for n in page.invalid), (
        f"{where}: refused without a message"
    )
    if _is_save(form, button):
        for name, value in sent.items():
            reason = must_refuse(run.controls[name], value)
            if run.one_message and reason != "required":
                continue  # refused with a message: asserted above
            if reason:
                assert page.message_beside(name), (
                    f"{where}: {name} got {reason}, but no message is beside it "
                    f"(invalid: {sorted(page.invalid)})"
                )


def form_run(form: Form, *, before: dict, apps: tuple[str, ...] = DOMAIN_APPS) -> FormRun:
    controls: dict[str, Control] = {}
    for c in form.controls:
        first = controls.setdefault(c.name, c)
        if c.type == "radio":  # a radio group's options are its buttons' values
            first.options.append(c.value)
    return FormRun(form, form_baseline(form), controls, before=before, apps=apps)


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        # No shrinking: the draws are few and readable as they are, and shrinking several
        # distinct failures would take minutes of CI.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


def form_fuzz(client: Client, run: FormRun, *, examples: int = EXAMPLES_PER_FORM) -> None:
    @fuzz_settings(EXAMPLES_PER_DERIVED_FORM if run.form.derived else examples)
    @given(st.data())
    def example(data):
        note(f"form {run.form.label()} from {run.form.page}")
        example_send(client, run, data)

    example()


# --- GET forms: the list filters -----------------------------------------------------------------
class _RowsParser(HTMLParser):
    """The text of every row a list shows: a table body's rows (the heatmap's grid too) and
    the notes' articles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[str] = []
        self._tbody = 0
        self._row: list[str] | None = None
        self._row_tag = ""

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._tbody += 1
        elif self._row is None and ((tag == "tr" and self._tbody) or tag == "article"):
            self._row, self._row_tag = [], tag

    def handle_data(self, data):
        if self._row is not None:
            self._row.append(data)

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._tbody -= 1
        elif tag == self._row_tag and self._row is not None:
            self.rows.append(" ".join("".join(self._row).split()))
            self._row = None


def rows_listed(html: str) -> tuple[str, ...]:
    parser = _RowsParser()
    parser.feed(html)
    parser.close()
    return tuple(parser.rows)


def _filter_ignored(control: Control, value: str | None) -> str | None:
    """What the list must show for this value: as for `value` itself when it is one of the
    select's options, as unfiltered ("") when it can be no filter at all (left out, empty, not
    an option and not a number, a NUL in the search), or None when either may be right (an id
    the select does not offer, "03" for option "3", a search): no comparison then."""
    if value is None or not value.strip():
        return ""
    if control.tag == "select":
        if value in control.options:
            return value
        if _same_choice(value, control.options):
            return None
        try:  # a filter by a person's id also takes an id nobody is offered ("7", "7.0")
            number = forms.IntegerField(required=False).clean(value)
        except ValidationError:
            return ""
        return None if number is not None and number > 0 else ""
    return "" if "\x00" in value else None


@dataclass
class GetRun:
    form: Form
    baseline: dict[str, list[str]]
    controls: dict[str, Control]
    before: dict
    listed: dict[tuple, tuple[str, ...]] = field(default_factory=dict)  # query -> its rows
    outcomes: dict[str, int] = field(default_factory=dict)


def _listed(client: Client, run: GetRun, query: dict[str, list[str]], headers) -> tuple:
    key = (bool(headers), tuple(sorted((k, tuple(v)) for k, v in query.items())))
    if key not in run.listed:
        response = client.get(run.form.action, query, headers=headers)
        assert response.status_code == 200, f"GET {run.form.action} {query} -> {response}"
        run.listed[key] = rows_listed(response.content.decode())
    return run.listed[key]


def get_example_send(client: Client, run: GetRun, data) -> None:
    form = run.form
    names = sorted(run.controls)
    targets = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    query = {k: list(v) for k, v in run.baseline.items()}
    expected: dict[str, list[str]] | None = {k: list(v) for k, v in run.baseline.items()}
    sent = _vary(data, run.controls, targets, query)
    for name, value in sent.items():
        meant = _filter_ignored(run.controls[name], value)
        if meant is None or expected is None:
            expected = None
        else:
            expected[name] = [meant]
    htmx = form.htmx and data.draw(st.booleans(), "htmx")
    headers = {"HX-Request": "true", "HX-Current-URL": form.page} if htmx else {}
    where = f"GET {form.action} htmx={htmx} {sent!r}"
    note(where)

    with transaction.atomic():
        try:
            written = _rows_written()
            response = client.get(form.action, query, headers=headers)
            moved = written is None or _rows_written() != written
            changed = snapshot_diff(run.before, db_snapshot()) if moved else []
        finally:
            transaction.set_rollback(True)
    assert response.status_code == 200, f"{where} -> {response.status_code}"
    assert "html" in response.get("Content-Type", ""), f"{where}: {response['Content-Type']}"
    assert not (written is not None and moved), f"{where} wrote: {written} -> {_rows_written()}"
    assert not changed, f"{where} changed {changed}"
    body = response.content.decode()
    if not htmx:  # the whole page: its filters again, around the list
        _, again = page_parse("http://testserver" + form.page, body)
        assert any(f.key == form.key for f in again), f"{where}: the filters are not served"
    if rendered(body).invalid:  # flagged beside the filter: the list need not be unfiltered
        run.outcomes["flagged"] = run.outcomes.get("flagged", 0) + 1
        return
    if expected is None:  # served, with nothing to compare with
        run.outcomes["served"] = run.outcomes.get("served", 0) + 1
        return
    rows = rows_listed(body)
    assert rows == _listed(client, run, expected, headers), (
        f"{where}: the list is not what {expected} lists: a value that is no filter was used"
    )
    run.outcomes["compared"] = run.outcomes.get("compared", 0) + 1


def get_form_fuzz(client: Client, form: Form, *, before: dict) -> GetRun:
    controls: dict[str, Control] = {}
    for c in form.controls:
        controls.setdefault(c.name, c)
    run = GetRun(form, form.served(), controls, before=before)

    @fuzz_settings(EXAMPLES_PER_GET_FORM)
    @given(st.data())
    def example(data):
        note(f"filters {form.label()} from {form.page}")
        get_example_send(client, run, data)

    example()
    # Said in the report: comparing empty lists would prove nothing.
    run.outcomes["rows unfiltered"] = len(_listed(client, run, run.baseline, {}))
    return run


# --- The test ----------------------------------------------------------------------------------
@pytest.fixture
def world(ie, ta, manager, template, settings) -> World:
    # The Vitally sync configured (nothing is sent: a push waits for a commit that never comes),
    # and a value changed by hand in Vitally on Acme: the panel then serves "Push now", "Keep
    # the portal's value" and "Take Vitally's value".
    settings.VITALLY_BASE_URL = "http://127.0.0.1:9"
    settings.VITALLY_API_KEY = "generated-inputs"
    built = world_build(ie=ie, ta=ta, manager=manager)
    assert _difference_seed(built.acme, "total_cpu", 16)
    return built


@pytest.fixture
def accounts(world: World, ie, ta, manager) -> tuple[Account, ...]:
    """The crawl's start: the shared world's four accounts, and two only this test needs (the
    world's other users count its accounts): Hooli, whose checklist has not started ("Start
    checklist"), and Stark, ready for handoff with a checklist item still open (the sign-off
    form asks for an override reason only while blockers remain)."""
    people = {"implementation_engineer": ie, "technical_advisor": ta, "manager": manager}
    hooli = AccountFactory(name="Hooli", **people)
    stark = AccountFactory(name="Stark Industries", **people)
    ready_account(stark, ie=ie, ta=ta, leave_open=(HANDBOOK_ITEMS[0][0],))
    return (world.acme, world.globex, world.umbrella, world.initech, hooli, stark)


def crawl_as(world: World, role: str, accounts: tuple[Account, ...]) -> tuple[Client, Crawl]:
    client = Client(enforce_csrf_checks=True)  # the served token must be in every form
    client.force_login(world.user(role))
    start = [reverse("accounts:my_work"), reverse("accounts:dashboard")]
    start += [reverse("accounts:detail", args=[a.pk]) for a in accounts]
    return client, forms_discover(client, start)


def _outcomes(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


@pytest.mark.parametrize("role", ROLES)
def test_generated_inputs_on_every_form(role: str, world: World, accounts, capsys):
    started = time.monotonic()
    client, crawl = crawl_as(world, role, accounts)
    crawled = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\n{role}: {len(crawl.pages)} pages, {len(crawl.forms)} POST and "
            f"{len(crawl.get_forms)} GET forms in {crawled:.1f}s"
        )
    assert len(crawl.forms) >= FORMS_FLOOR[role], (
        f"the crawl as {role} found {len(crawl.forms)} forms, fewer than {FORMS_FLOOR[role]}: "
        + ", ".join(form.label() for form in crawl.forms)
    )
    assert len(crawl.get_forms) >= GET_FORMS_FLOOR[role], (
        f"the crawl as {role} found {len(crawl.get_forms)} GET forms, fewer than "
        f"{GET_FORMS_FLOOR[role]}: " + ", ".join(form.label() for form in crawl.get_forms)
    )
    before = db_snapshot()  # every example is rolled back: the same state before each one
    for form in crawl.forms:
        run = form_run(form, before=before)
        form_fuzz(client, run)
        with capsys.disabled():
            print(f"  {form.label()}: {_outcomes(run.outcomes)}")
    for form in crawl.get_forms:
        get_run = get_form_fuzz(client, form, before=before)
        with capsys.disabled():
            print(f"  {form.label()}: {_outcomes(get_run.outcomes)}")
    with capsys.disabled():
        print(f"{role}: done in {time.monotonic() - started:.1f}s")


EXAMPLES_SIGN_IN = 8  # each failure logs a line: a few are enough


def test_generated_inputs_on_sign_in(ie, capsys):
    """Signed out, the one form served is the sign-in (there is no password reset). A failed
    sign-in shows the form's message and writes nothing: no session row (sessions are in the
    database), no change to the person tried."""
    client = Client(enforce_csrf_checks=True)
    crawl = forms_discover(client, [reverse("login")])
    assert [form.label() for form in crawl.forms] == [
        f"{reverse('login')} [csrfmiddlewaretoken, next, password, username]"
    ], [form.label() for form in crawl.forms]
    apps = (*ADMIN_APPS, "sessions")
    run = form_run(crawl.forms[0], before=db_snapshot(apps), apps=apps)
    run.one_message = True
    form_fuzz(client, run, examples=EXAMPLES_SIGN_IN)
    assert run.outcomes == {"refused": EXAMPLES_SIGN_IN}, run.outcomes
    with capsys.disabled():
        print(f"\nsigned out: {crawl.forms[0].label()}: {_outcomes(run.outcomes)}")
