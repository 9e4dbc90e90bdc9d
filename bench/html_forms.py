"""Read an HTML form the way a browser submits it (stdlib only: the locust venv has no Django).

`form_fields(html, action_contains)` returns the successful controls of the biggest POST form
whose action contains the given text: inputs with their values, checked
checkboxes and radios, selected options (else the first option), textareas."""

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": [],
            }
            self.forms.append(self._form)
        if self._form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self._form["fields"].append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a and not self._select_chosen:
                self._form["fields"].append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select" and self._select and self._form is not None:
            if not self._select_chosen and self._select_first is not None:
                self._form["fields"].append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            text = "".join(self._text)
            self._form["fields"].append(
                (self._textarea, text[1:] if text.startswith("\n") else text)
            )
            self._textarea = None
        elif tag == "form":
            self._form = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_fields(html: str, action_contains: str = "") -> list[tuple[str, str]]:
    parser = _FormParser()
    parser.feed(html)
    # The page's own form, not the header's sign-out form: the biggest matching one.
    forms = [f for f in parser.forms if f["method"] == "post" and action_contains in f["action"]]
    if forms:
        return list(max(forms, key=lambda f: len(f["fields"]))["fields"])
    raise ValueError(f"no POST form with an action containing {action_contains!r}")


def with_values(fields: list[tuple[str, str]], **values) -> dict[str, str]:
    """The fields as a dict, with some replaced (names as given, e.g. total_cpu=...)."""
    data = dict(fields)
    data.update({k: str(v) for k, v in values.items()})
    return data
