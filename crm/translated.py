"""Names an admin types, in each reader's language.

A stage, a pipeline, a territory or a custom field is named once, in whatever language the admin
works in: that typed name is the default and what imports, exports and the API match. A
`translations` JSON column adds the name per language ({"en": "Negotiation", "uk": "Переговори"}),
and a reader sees the entry for their language when there is one, the typed name otherwise.

- `in_language(default, translations)`: the name to show, in Python and templates (`__str__`);
- `translated_name("stage")`: the same in SQL, for `values()` and aggregations;
- `TranslationsFormMixin`: one optional "Name in <language>" field per language on an admin form.
"""

from django import forms
from django.conf import settings
from django.db.models import CharField, F, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, NullIf
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

MAX_NAME = 100


def reader_language() -> str:
    return (get_language() or settings.LANGUAGE_CODE).split("-")[0]


def in_language(default: str, translations: dict | None, language: str | None = None) -> str:
    entry = (translations or {}).get(language or reader_language())
    return entry if isinstance(entry, str) and entry.strip() else default


def translated_name(path: str = "", field: str = "name"):
    """SQL for the reader's name of a related row: `translated_name("stage")` reads
    stage.translations ->> 'ru', falling back to stage.name when it is missing or empty."""
    prefix = f"{path}__" if path else ""
    entry = NullIf(KeyTextTransform(reader_language(), f"{prefix}translations"), Value(""))
    return Coalesce(entry, F(f"{prefix}{field}"), output_field=CharField())


def languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def clean_translations(values: dict[str, str]) -> dict[str, str]:
    """Only non-empty names, trimmed, for the configured languages."""
    codes = {code for code, _name in settings.LANGUAGES}
    return {code: text.strip() for code, text in values.items() if code in codes and (text or "").strip()}


class TranslationsFormMixin:
    """Adds `name_<code>` fields ("Name in Russian" …) after `translated_field` on a ModelForm whose
    model has a `translations` JSON column; call `add_translation_fields()` in __init__ and
    `store_translations()` before saving (ModelForm.save does it through _post_clean)."""

    translated_field = "name"

    def add_translation_fields(self) -> None:
        stored = getattr(self.instance, "translations", None) or {}
        for code, name in languages():
            field_name = self.translation_field_name(code)
            self.fields[field_name] = forms.CharField(
                label=_("%(field)s in %(language)s") % {"field": self._base_label(), "language": name},
                max_length=MAX_NAME, required=False,
                help_text=_("Shown to readers who use %(language)s; leave empty to show the name above.")
                % {"language": name})
            self.initial.setdefault(field_name, stored.get(code, ""))

    def translation_field_name(self, code: str) -> str:
        return f"{self.translated_field}_{code}"

    def _base_label(self) -> str:
        field = self.fields.get(self.translated_field)
        return capfirst(str(field.label)) if field is not None and field.label else str(_("Name"))

    def _post_clean(self):
        super()._post_clean()
        values = {code: self.cleaned_data.get(self.translation_field_name(code), "") for code, _n in languages()}
        self.instance.translations = clean_translations(values)
