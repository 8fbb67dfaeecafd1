"""Search-as-you-type selects: never render a 10,000-option <select>."""

from django import forms
from django.utils.translation import gettext_lazy as _


class AutocompleteSelect(forms.Select):
    """A <select> that renders only the chosen option; static/crm/autocomplete.js turns it
    into a tom-select that asks `url` (a JSON endpoint behind the visibility policy)."""

    def __init__(self, url: str, attrs=None):
        super().__init__(attrs={**(attrs or {}), "data-autocomplete-url": url, "data-no-results": _("No match")})

    def optgroups(self, name, value, attrs=None):
        chosen = {str(v) for v in value if v not in (None, "")}
        groups = []
        if not chosen:
            groups.append((None, [self.create_option(name, "", "—", False, 0)], 0))
            return groups
        queryset = getattr(self.choices, "queryset", None)
        if queryset is None:
            return super().optgroups(name, value, attrs)
        for index, obj in enumerate(queryset.filter(pk__in=chosen)):
            groups.append((None, [self.create_option(name, str(obj.pk), str(obj), True, index)], index))
        return groups


def use_autocomplete(field: forms.ModelChoiceField, url) -> None:
    """Turns a foreign-key field into a search-as-you-type select over `url`; the field's
    queryset (already through the visibility policy) still validates the submitted id."""
    field.widget = AutocompleteSelect(url=url)
    field.widget.choices = field.choices
