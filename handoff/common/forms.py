from django import forms


class VersionedFormMixin(forms.Form):
    """Carries the version the form was rendered from, for optimistic concurrency."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")
