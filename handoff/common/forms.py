import secrets

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.http import QueryDict

from handoff.common.conflicts import (
    compared_fields,
    conflict_choices_apply,
    started_from_encode,
)
from handoff.common.services import (
    INVALID_VERSION_MESSAGE,
    MISSING_SUBMISSION_MESSAGE,
    MISSING_VERSION_MESSAGE,
)
from handoff.common.validators import validate_multi_line_text, validate_single_line_text


class WholeNumberInput(forms.TextInput):
    """A whole number, typed as text with the numeric keypad on phones. Not type="number": a
    browser sends such an input empty when it cannot read what was typed ("1e309", "²", "12 GB"),
    so an optional field would save as blank without a word. As text, the server gets what was
    typed and answers "Enter a whole number." beside the field (GOV.UK's design system advises
    the same)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "autocomplete": "off", **(attrs or {})})


class VersionedFormMixin(forms.Form):
    """Carries the version the form was rendered from, for optimistic concurrency.

    An edit (a form for a saved row) must send it back: without it the form is invalid and
    nothing is saved. A create form has no version to send."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    # What each field held when the form was rendered (fingerprints): after a conflict, it
    # tells what this person changed from what the other person did (handoff.common.conflicts).
    started_from = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = self.version_required()
        instance = getattr(self, "instance", None)
        if instance is None or instance.pk is None:
            return
        if self.is_bound:
            conflict_choices_apply(self)
        else:
            self.fields["started_from"].initial = started_from_encode(
                instance, compared_fields(self)
            )

    def version_required(self) -> bool:
        instance = getattr(self, "instance", None)
        return instance is not None and instance.pk is not None

    def _post_clean(self):
        super()._post_clean()
        # The version is a hidden field: a missing, forged or mangled one must not fail
        # silently, nor hide beside a field nobody sees.
        errors = self._errors.pop("version", None) if self._errors else None
        if errors:
            missing = any(error.code == "required" for error in errors.as_data())
            self.add_error(
                None,
                ValidationError(MISSING_VERSION_MESSAGE, code="missing_version")
                if missing
                else ValidationError(INVALID_VERSION_MESSAGE, code="invalid_version"),
            )

    def expected_version(self) -> int | None:
        """The version posted back; None only on a create form."""
        return self.cleaned_data.get("version")


class VersionForm(VersionedFormMixin):
    """Only the version: for an action on a saved row that has no other fields (a remove)."""

    def version_required(self) -> bool:
        return True


class OnceFormMixin(forms.Form):
    """A create form's one-time token (see common.services.submission_claim): rendered with a
    fresh value, posted back unchanged, claimed when the create is saved."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["submission"].initial = secrets.token_urlsafe(24)

    def clean(self):
        cleaned = super().clean()
        # A hidden field: its error is the form's, not beside a field nobody sees. Edit forms
        # remove the field (their version guards them instead).
        if "submission" in self.fields and not cleaned.get("submission"):
            self.add_error(None, ValidationError(MISSING_SUBMISSION_MESSAGE, code="missing"))
        return cleaned

    def submission_token(self) -> str:
        return self.cleaned_data.get("submission", "")


def plain_text_validator(field: forms.Field):
    """The control-character rule for what people type into `field`, by its widget: a one-line
    input refuses line breaks, tabs and bidi overrides, a textarea only the other control
    characters. None for fields that are not free text (choices, numbers, hidden values)."""
    if not isinstance(field, forms.CharField) or field.widget.is_hidden:
        return None
    if isinstance(field.widget, forms.Textarea):
        return validate_multi_line_text
    return validate_single_line_text


# The longest text a multi-line field takes (characters). An implementation note is the long
# one; a form names its other exceptions in `text_limits`. One-line fields keep the model's
# max_length (200 for a title).
TEXT_LIMIT = 5_000
NOTE_LIMIT = 20_000


def text_limit(field: forms.Field, limit: int) -> None:
    """Bound a multi-line field: the server refuses longer text beside the field, the textarea
    carries `maxlength`, and `data-counter` asks static/js/app.js for a live count."""
    if field.max_length is None or field.max_length > limit:
        field.max_length = limit
    kept = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.validators = [*kept, MaxLengthValidator(field.max_length)]
    field.widget.attrs.update({"maxlength": str(field.max_length), "data-counter": ""})


class PlainTextFormMixin(forms.Form):
    """Every text field of the form refuses control characters, with the message beside it,
    and every multi-line one has a maximum (`TEXT_LIMIT` unless `text_limits` says otherwise).

    Applied when the form is built and again when it is cleaned, so fields a subclass adds or
    swaps in its __init__ are covered too. It replaces Django's own NUL check, which both
    rules include."""

    text_limits: dict[str, int] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_text()

    def _limit_text(self) -> None:
        for name, field in self.fields.items():
            if plain_text_validator(field) is validate_multi_line_text:
                text_limit(field, self.text_limits.get(name, field.max_length or TEXT_LIMIT))

    def full_clean(self):
        self._limit_text()
        for field in self.fields.values():
            validator = plain_text_validator(field)
            if validator is not None and validator not in field.validators:
                kept = [
                    v
                    for v in field.validators
                    if not isinstance(v, ProhibitNullCharactersValidator)
                ]
                field.validators = [*kept, validator]
        super().full_clean()


# The largest id a BigAutoField (settings.DEFAULT_AUTO_FIELD) holds.
MAX_ID = 2**63 - 1


class IdFilterField(forms.IntegerField):
    """A row id in a query string: a positive whole number a database id can be."""

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=1, max_value=MAX_ID, **kwargs)


class PersonFilterField(IdFilterField):
    """A person in a query string: an id, or "me" (the viewer: a shared URL `?owner=me` means
    whoever opens it). `people` (a list, or a callable giving one) is what the select offers
    besides "Me", the active people (of `role`) when not given; with `only_offered` an id
    outside it is dropped like any malformed value (the select could not show it).

    With `role`, only people of that role can match (an account's engineer or advisor): "Me"
    is offered, and read, only for a viewer of that role; for anyone else it is dropped like a
    value not offered, rather than filtering the list down to nothing."""

    ME = "me"
    ME_LABEL = "Me"

    def __init__(self, *, people=None, only_offered: bool = False, role: str = "", **kwargs):
        self.people = people
        self.only_offered = only_offered
        self.role = role
        self.viewer_id: int | None = None
        self.viewer_role = ""
        self._offered: list | None = None
        super().__init__(**kwargs)

    @property
    def offers_me(self) -> bool:
        return not self.role or self.viewer_role == self.role

    def offered(self) -> list:
        """The people the select lists under "Me" (loaded once per form)."""
        if self._offered is None:
            if self.people is None:
                from handoff.people.selectors import user_list_active, user_list_by_role

                people = user_list_by_role(role=self.role) if self.role else user_list_active()
                self._offered = list(people)
            else:
                self._offered = list(self.people() if callable(self.people) else self.people)
        return self._offered

    def to_python(self, value):
        if isinstance(value, str) and value.strip().lower() == self.ME:
            if self.viewer_id is None:
                raise ValidationError("No one is signed in.", code="no_viewer")
            if not self.offers_me:
                raise ValidationError("Not one of the choices.", code="invalid_choice")
            return self.viewer_id
        number = super().to_python(value)
        # Only an id is checked against the people offered (loading them is a query).
        checked = number is not None and self.only_offered
        if checked and number not in {person.pk for person in self.offered()}:
            raise ValidationError("Not one of the choices.", code="invalid_choice")
        return number


class FilterForm(forms.Form):
    """A list page's filters, parsed from its query string (request.GET).

    A value that does not parse or is not one of the choices (a hand-edited or scanned URL,
    "²", 30 nines) is dropped: the list shows as if that filter were not set, never an error
    page, and `ignored()` names it so the page can say so. `selector_names` maps a query
    parameter to the selector's keyword when they differ. `viewer` is who "Me" stands for in
    a person filter. The page's filter bar (templates/includes/filters.html) is drawn from
    `controls()`: every field, or the `control_names` when some are set another way."""

    selector_names: dict[str, str] = {}
    control_names: tuple[str, ...] | None = None
    empty_labels: dict[str, str] = {}

    def __init__(self, data, *, viewer=None):
        super().__init__(data)
        for field in self.fields.values():
            field.required = False
            if isinstance(field, PersonFilterField):
                field.viewer_id = viewer.pk if viewer is not None else None
                field.viewer_role = getattr(viewer, "role", "")

    def filters(self) -> dict:
        """{selector keyword: value} for every filter, the empty value where it was dropped."""
        self.is_valid()
        return {
            self.selector_names.get(name, name): self.cleaned_data.get(name, field.clean(""))
            for name, field in self.fields.items()
        }

    def _control_names(self) -> list[str]:
        return [n for n in self.fields if self.control_names is None or n in self.control_names]

    def _raw(self, name: str) -> str:
        value = self.data.get(name, "")
        return value if isinstance(value, str) else ""

    def _applied_raw(self, name: str) -> str:
        """The query string's value of a filter that is applied, else ""."""
        self.is_valid()
        if name in self.errors or self.cleaned_data.get(name) in (None, ""):
            return ""
        return self._raw(name).strip()

    def controls(self) -> list[dict]:
        """The filter bar: per field its label, kind (search / select), options and the value
        selected (the query string's, when it was applied)."""
        controls = []
        for name in self._control_names():
            field = self.fields[name]
            selected = self._applied_raw(name)
            control = {"name": name, "id": f"filter-{name}", "label": self[name].label}
            if isinstance(field, PersonFilterField):
                options = []
                if field.offers_me:
                    options.append((PersonFilterField.ME, PersonFilterField.ME_LABEL))
                options += [(str(person.pk), str(person)) for person in field.offered()]
                if selected.lower() == PersonFilterField.ME:
                    selected = PersonFilterField.ME
                control.update(kind="select", options=options, empty_label="Anyone")
            elif isinstance(field, forms.ChoiceField):
                options = [(str(value), label) for value, label in field.choices if value != ""]
                control.update(kind="select", options=options)
                control["empty_label"] = self.empty_labels.get(name, "All")
            else:
                control.update(kind="search", placeholder=field.widget.attrs.get("placeholder"))
                selected = self._raw(name)
            control["selected"] = selected
            controls.append(control)
        return controls

    def applied(self) -> list[dict]:
        """Every filter of the bar that is applied: its label, its value as the select shows it,
        and `without`, the query string with that filter cleared (the empty list's links). A
        person's name costs a query only when someone other than "Me" is chosen."""
        applied = []
        for name in self._control_names():
            raw = self._applied_raw(name)
            if not raw:
                continue
            field, value = self.fields[name], self.cleaned_data[name]
            if isinstance(field, PersonFilterField):
                if raw.lower() == PersonFilterField.ME:
                    raw = PersonFilterField.ME_LABEL
                else:
                    raw = next((str(p) for p in field.offered() if p.pk == value), raw)
            elif isinstance(field, forms.ChoiceField):
                raw = {str(v): label for v, label in field.choices}.get(str(value), raw)
            label = self[name].label
            applied.append({"label": label, "value": raw, "without": self._without(name)})
        return applied

    def _without(self, name: str) -> str:
        """The query string less the filter `name`, and less the empty values (the bar sends
        every select, most of them empty)."""
        data = self.data
        pairs = data.lists() if isinstance(data, QueryDict) else ((k, [v]) for k, v in data.items())
        query = QueryDict(mutable=True)
        for key, values in pairs:
            kept = [value for value in values if value]
            if key != name and kept:
                query.setlist(key, kept)
        return query.urlencode()

    def ignored(self) -> list[tuple[str, str]]:
        """(label, value sent) for every filter of the bar whose value was dropped."""
        self.is_valid()
        return [
            (self[name].label, self._raw(name))
            for name in self._control_names()
            if name in self.errors and self._raw(name).strip()
        ]
