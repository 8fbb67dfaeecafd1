"""Form fields shared by several apps."""

import re

from django import forms
from django.conf import settings
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm.phones import default_region, invalid_phone_message, normalize_phone


def _split(value: str) -> list[str]:
    return [item.strip() for item in (value or "").replace(";", ",").replace("\n", ",").split(",") if item.strip()]


class MultiEmailField(forms.CharField):
    """Several e-mail addresses, one per line or comma-separated; stored lower-cased."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        emails = []
        for item in _split(value):
            try:
                validate_email(item)
            except forms.ValidationError:
                raise forms.ValidationError(_("“%(value)s” is not a valid e-mail address."), params={"value": item}
                                            ) from None
            if item.lower() not in emails:
                emails.append(item.lower())
        return emails


class MultiPhoneField(forms.CharField):
    """Several phone numbers in any format; stored as E.164 (+442079460000). A number without a
    country code is read in `region` (the form sets it from the record's or the user's country)."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, *args, region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        phones = []
        for item in _split(value):
            normalized = normalize_phone(item, self.region)
            if normalized is None:
                raise forms.ValidationError(invalid_phone_message(item, self.region or default_region()))
            if normalized not in phones:
                phones.append(normalized)
        return phones


# "+7 912 345-67-89 (mobile)": what a number or address is for, in brackets after it (no digits inside,
# so "8 (912) 345-67-89" is still all number).
_KIND_SUFFIX = re.compile(r"^(?P<value>.*?)\s*\((?P<kind>[^()\d]+)\)\s*$")


class KindsMixin:
    """A multi-value field whose items may end with their kind in brackets, in the reader's language or
    any other the CRM speaks: "+44 20 7946 0000 (work)", "ivan@mail.ru (домашний)". After cleaning,
    `kinds` maps each stored value to its kind's key; `initial_kinds` (set by the form from the record)
    writes the brackets back when the field is shown."""

    kind_choices: list[tuple[str, str]] = []  # (key, label) in the order they are offered
    # Short forms people type, on top of the kinds' names in every language.
    ALIASES = {"cell": "mobile", "cellphone": "mobile", "моб": "mobile", "моб.": "mobile", "сотовый": "mobile",
               "раб": "work", "раб.": "work", "office": "work", "дом": "home", "дом.": "home"}

    def setup_kinds(self, choices, initial: dict[str, str] | None = None) -> None:
        self.kind_choices, self.initial_kinds, self.kinds = list(choices), dict(initial or {}), {}

    def _kind_names(self) -> dict[str, str]:
        names = {}
        for code, _language in settings.LANGUAGES:
            with translation.override(code):
                names.update({str(label).lower(): key for key, label in self.kind_choices})
        keys = {key for key, _label in self.kind_choices}
        names.update({key: key for key in keys})
        names.update({alias: key for alias, key in self.ALIASES.items() if key in keys})
        return names

    def split_kind(self, item: str) -> tuple[str, str]:
        match = _KIND_SUFFIX.match(item)
        if not match:
            return item, ""
        word = " ".join(match["kind"].lower().split())
        kind = self._kind_names().get(word)
        if kind is None:
            raise forms.ValidationError(
                _("“%(word)s” is not a kind: write one of %(kinds)s in brackets after it."),
                params={"word": match["kind"].strip(), "kinds": ", ".join(str(label) for _key, label in
                                                                           self.kind_choices)})
        return match["value"], kind

    def show_with_kinds(self, values: list[str]) -> str:
        labels = dict(self.kind_choices)
        kinds = getattr(self, "initial_kinds", {}) or {}
        return "\n".join(f"{value} ({labels[kinds[value]]})" if kinds.get(value) in labels else value
                         for value in values)

    def prepare_value(self, value):
        return self.show_with_kinds(value) if isinstance(value, list) else super().prepare_value(value)

    def to_python(self, value):
        """The parent field reads each item (number or address); its kind, if any, is noted by stored value."""
        self.kinds, values = {}, []
        for item in _lines(value):
            text, kind = self.split_kind(item)
            for stored in super().to_python(text):
                if stored not in values:
                    values.append(stored)
                    if kind:
                        self.kinds[stored] = kind
        return values


class KindedEmailField(KindsMixin, MultiEmailField):
    pass


class KindedPhoneField(KindsMixin, MultiPhoneField):
    pass


def _lines(value: str) -> list[str]:
    """Items one per line or separated by ";" (a comma may sit inside brackets or a number)."""
    return [item.strip() for item in (value or "").replace(";", "\n").splitlines() if item.strip()]


class TagsField(forms.CharField):
    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        tags = []
        for item in _split(value):
            tag = item[:50]
            if tag.lower() not in [t.lower() for t in tags]:
                tags.append(tag)
        return tags
