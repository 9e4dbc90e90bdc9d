"""Every form the portal serves to a person, found by crawling the rendered pages as them.

`forms_discover(client, start)` follows same-site links breadth-first from the start pages
(bounded: each page pattern once per account, no query strings, no sign-out, no exports) and
parses every `<form>` with the standard library's HTMLParser, the POST forms (`Crawl.forms`)
apart from the GET ones, the list filters (`Crawl.get_forms`): its action (the page itself
when it has none), its
controls as served (hidden values such as the CSRF token, `version` and the one-time
`submission` token included), and its submit buttons. An element with `data-hx-post` inside a
form that posts somewhere else (the environment form's instance check) is an htmx-only action:
it counts as a form of its own, with the enclosing form's controls, as htmx sends them.

Forms are deduplicated by (method, action with ids normalised, control names with digits
normalised),
so the twelve checklist items of a handoff page are one form, as are the edit forms of the
same kind of record on two accounts."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

SKIP_PATHS = ("/sign-out/", "/admin/", "/static/", "/metrics", "/healthz")
SKIP_SUFFIXES = (".csv", ".md")


@dataclass
class Control:
    tag: str  # input, select, textarea
    type: str  # the input's type; "select", "select-multiple" or "textarea" for the others
    name: str
    value: str = ""
    checked: bool = False
    required: bool = False
    maxlength: int | None = None
    min: str | None = None
    max: str | None = None
    options: list[str] = field(default_factory=list)  # a select's option values
    selected: list[str] = field(default_factory=list)
    id: str = ""

    @property
    def single_line(self) -> bool:
        return self.tag == "input" and self.type in ("text", "search", "url", "email", "tel")


@dataclass
class Button:
    name: str
    value: str
    hx_post: str = ""  # its own htmx URL, when it has one


@dataclass
class Form:
    page: str  # where it was found
    action: str  # absolute path
    htmx: bool  # sent by htmx in a browser (data-hx-post or data-hx-get on the form)
    method: str = "post"
    controls: list[Control] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    # An htmx-only action inside another form (it posts that form's controls elsewhere, as a
    # check that saves nothing): its fields are not validated as a save would.
    derived: bool = False

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        names = sorted({re.sub(r"\d+", "N", c.name) for c in self.controls})
        return (self.method, pattern(self.action), tuple(names))

    def label(self) -> str:
        method = "GET " if self.method == "get" else ""
        return f"{method}{pattern(self.action)} [{', '.join(self.key[2])}]"

    def served(self) -> dict[str, list[str]]:
        """What a browser sends when the form is submitted untouched (no button)."""
        data: dict[str, list[str]] = {}
        for c in self.controls:
            if c.type in ("checkbox", "radio"):
                if c.checked:
                    data.setdefault(c.name, []).append(c.value or "on")
            elif c.tag == "select":
                chosen = c.selected or c.options[:1]
                if chosen:
                    data.setdefault(c.name, []).extend(
                        chosen if c.type == "select-multiple" else chosen[:1]
                    )
            else:
                data.setdefault(c.name, []).append(c.value)
        return data


def pattern(url: str) -> str:
    return re.sub(r"/\d+(?=/|\.|$)", "/<id>", urlsplit(url).path)


def _crawl_key(url: str) -> str:
    """A page pattern per account: /accounts/7/issues/<id>/ for every issue of account 7."""
    path = urlsplit(url).path
    match = re.match(r"(/accounts/\d+)(/.*)?$", path)
    if match:
        return match.group(1) + pattern(match.group(2) or "")
    return pattern(path)


class _PageParser(HTMLParser):
    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.extra: list[tuple[Form, str]] = []  # (enclosing form, htmx URL) of hx-post elements
        self._form: Form | None = None
        self._select: Control | None = None
        self._option: dict | None = None
        self._textarea: Control | None = None

    def _abs(self, href: str) -> str:
        return urljoin(self.url, href)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(self._abs(a["href"]))
        if tag == "form":
            method = a.get("method", "get").lower()
            if method in ("get", "post"):
                hx = ("data-hx-post", "hx-post", "data-hx-get", "hx-get")
                self._form = Form(
                    page=self.url,
                    action=urlsplit(self._abs(a.get("action", ""))).path,
                    htmx=any(a.get(name) for name in hx),
                    method=method,
                )
            return
        form = self._form
        if form is None:
            return
        hx = a.get("data-hx-post") or a.get("hx-post")
        hx_path = urlsplit(self._abs(hx)).path if hx else ""
        elsewhere = hx_path not in ("", form.action) and tag not in ("button", "input")
        if elsewhere and form.method == "post":
            self.extra.append((form, hx_path))
        if tag == "button" or (tag == "input" and a.get("type") in ("submit", "image")):
            if a.get("type", "submit") == "submit" or tag == "input":
                form.buttons.append(Button(a.get("name", ""), a.get("value", ""), hx_path))
            return
        if tag in ("input", "select", "textarea") and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text").lower() if tag == "input" else tag
            if kind == "text" and a.get("inputmode") == "numeric":
                kind = "number"  # a whole number typed as text (common.forms.WholeNumberInput)
            if tag == "select" and "multiple" in a:
                kind = "select-multiple"
            control = Control(
                tag=tag,
                type=kind,
                name=a["name"],
                value=a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                checked="checked" in a,
                required="required" in a,
                maxlength=int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None,
                min=a.get("min"),
                max=a.get("max"),
                id=a.get("id", ""),
            )
            form.controls.append(control)
            if tag == "select":
                self._select = control
            elif tag == "textarea":
                self._textarea = control
        elif tag == "option" and self._select is not None:
            self._option_end()
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}

    def _option_end(self):
        # </option> is optional: an option ends at the next one or at </select>.
        if self._select is not None and self._option is not None:
            value = self._option["value"]
            value = self._option["text"].strip() if value is None else value
            self._select.options.append(value)
            if self._option["selected"]:
                self._select.selected.append(value)
        self._option = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._option_end()
            self._select = None
        elif tag == "option":
            self._option_end()
        elif tag == "textarea":
            if self._textarea is not None and self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]
            self._textarea = None


def page_parse(url: str, html: str) -> tuple[list[str], list[Form]]:
    """(same-site links, forms) of one page."""
    parser = _PageParser(url)
    parser.feed(html)
    parser.close()
    forms = list(parser.forms)
    for enclosing, action in parser.extra:
        forms.append(
            Form(
                page=url, action=action, htmx=True, controls=list(enclosing.controls), derived=True
            )
        )
    return parser.links, forms


def _follow(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme in ("", "http")
        and parts.netloc in ("", "testserver")
        and not parts.query
        and not parts.path.startswith(SKIP_PATHS)
        and not parts.path.endswith(SKIP_SUFFIXES)
    )


@dataclass
class Crawl:
    pages: list[str]
    forms: list[Form]  # method="post"
    get_forms: list[Form]  # method="get": the list filters


def forms_discover(client, start: list[str], *, max_pages: int = 400) -> Crawl:
    """Crawl from `start` as the client's user; every distinct form found, in order."""
    queue = [urlsplit(u).path for u in start]
    seen_keys: set[str] = set()
    pages: list[str] = []
    forms: dict[tuple, Form] = {}
    while queue and len(pages) < max_pages:
        url = queue.pop(0)
        key = _crawl_key(url)
        if key in seen_keys:
            continue
        seen_keys.add(key)
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} -> {response.status_code}"
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        pages.append(url)
        links, found = page_parse("http://testserver" + url, response.content.decode())
        for form in found:
            if form.action.startswith(SKIP_PATHS):
                continue
            forms.setdefault(form.key, form)
        for link in links:
            if _follow(link):
                queue.append(urlsplit(link).path)
    found_forms = list(forms.values())
    return Crawl(
        pages=pages,
        forms=[f for f in found_forms if f.method == "post"],
        get_forms=[f for f in found_forms if f.method == "get"],
    )
