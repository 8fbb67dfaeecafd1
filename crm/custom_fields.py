"""Admin-defined extra fields: form fields, display values and list filters.

Values are stored as JSON in the record's `custom` column: text and choices as
strings, numbers as strings of a Decimal (exact), dates as ISO dates, yes/no as booleans.
"""

from datetime import date
from decimal import Decimal

import django_filters
from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models.functions import JSONObject
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from crm import lookups
from crm.models import CustomField, CustomFieldKind

PREFIX = "cf_"


def definitions(target: str) -> list[CustomField]:
    """The active fields of a kind of record, in their order; read on every list, form and record
    page, so all definitions are cached together (crm/lookups.py)."""
    return lookups.get("custom_fields").get(target, [])


def _all_definitions() -> dict[str, list[CustomField]]:
    by_target: dict[str, list[CustomField]] = {}
    for definition in CustomField.objects.filter(active=True):  # Meta.ordering: target, position, label
        by_target.setdefault(definition.target, []).append(definition)
    return by_target


lookups.register("custom_fields", _all_definitions, models=("crm.customfield",))


def definitions_subquery(target: str) -> ArraySubquery:
    """The target's active definitions as an annotation (a JSON array), so a record page reads them in its
    record's own query; `definitions_from` turns the rows back into (unsaved) definitions."""
    rows = (CustomField.objects.filter(target=target, active=True).order_by("position", "label")
            .values(json=JSONObject(key="key", label="label", kind="kind", choices="choices", required="required",
                                   translations="translations", choice_translations="choice_translations")))
    return ArraySubquery(rows)


def definitions_from(target: str, rows: list[dict] | None) -> list[CustomField]:
    return [CustomField(target=target, **row) for row in rows or []]


def form_field(definition: CustomField) -> forms.Field:
    common = {"label": definition.shown_label, "required": definition.required}
    if definition.kind == CustomFieldKind.NUMBER:
        return forms.DecimalField(max_digits=20, decimal_places=4, **common)
    if definition.kind == CustomFieldKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if definition.kind == CustomFieldKind.CHOICE:
        choices = [("", "—"), *definition.shown_choices]
        return forms.ChoiceField(choices=choices, **common)
    if definition.kind == CustomFieldKind.BOOLEAN:
        return forms.BooleanField(label=definition.shown_label, required=False)
    return forms.CharField(max_length=500, **common)


def to_json(definition: CustomField, value):
    if value in (None, ""):
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 120.5000 → "120.5", 1.2E+2 → "120"
    if isinstance(value, date):
        return value.isoformat()
    return value


def from_json(definition: CustomField, value):
    if value is None:
        return None
    if definition.kind == CustomFieldKind.NUMBER:
        return Decimal(str(value))
    if definition.kind == CustomFieldKind.DATE:
        return parse_date(str(value))
    return value


class CustomFieldsFormMixin:
    """Adds `cf_<key>` fields to a ModelForm whose model has a `custom` JSON field."""

    custom_target = ""

    def add_custom_fields(self):
        self.custom_definitions = definitions(self.custom_target)
        stored = (self.instance.custom or {}) if self.instance.pk else {}
        for definition in self.custom_definitions:
            name = PREFIX + definition.key
            self.fields[name] = form_field(definition)
            if definition.key in stored:
                self.initial[name] = from_json(definition, stored[definition.key])

    def custom_values(self) -> dict:
        """The record's new `custom` dict: keeps values of inactive fields, replaces the rest."""
        values = dict(self.instance.custom or {}) if self.instance.pk else {}
        for definition in self.custom_definitions:
            value = to_json(definition, self.cleaned_data.get(PREFIX + definition.key))
            if value is None:
                values.pop(definition.key, None)
            else:
                values[definition.key] = value
        return values

    def pop_custom(self, data: dict) -> dict:
        for definition in self.custom_definitions:
            data.pop(PREFIX + definition.key, None)
        return data


def display(target: str, values: dict, definitions_list=None) -> list[tuple[str, object]]:
    """(label, value) pairs for a detail page, in the admin's order."""
    result = []
    for definition in definitions_list if definitions_list is not None else definitions(target):
        value = (values or {}).get(definition.key)
        if definition.kind == CustomFieldKind.BOOLEAN:
            shown = _("Yes") if value else _("No")
        elif definition.kind == CustomFieldKind.CHOICE and value is not None:
            shown = definition.shown_choice(value)
        else:
            shown = from_json(definition, value) if value is not None else None
        result.append((definition.shown_label, shown))
    return result


def add_filters(filterset: django_filters.FilterSet, target: str) -> None:
    """Adds one filter per filterable custom field: exact match through the GIN index."""
    for definition in definitions(target):
        if not definition.filterable:
            continue
        name = PREFIX + definition.key
        if definition.kind == CustomFieldKind.CHOICE:
            field = django_filters.ChoiceFilter(
                label=definition.shown_label, choices=definition.shown_choices,
                method=_containment(definition))
        elif definition.kind == CustomFieldKind.BOOLEAN:
            field = django_filters.BooleanFilter(
                label=definition.shown_label, method=_containment(definition),
                widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]))
        elif definition.kind == CustomFieldKind.DATE:
            field = django_filters.DateFilter(label=definition.shown_label, method=_containment(definition),
                                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        else:
            field = django_filters.CharFilter(label=definition.shown_label, method=_containment(definition))
        field.model = filterset._meta.model
        field.parent = filterset
        filterset.filters[name] = field


def _containment(definition: CustomField):
    def apply(queryset, name, value):
        if value in (None, ""):
            return queryset
        stored = to_json(definition, value)
        if definition.kind == CustomFieldKind.NUMBER:
            stored = to_json(definition, Decimal(str(value)))
        return queryset.filter(custom__contains={definition.key: stored})

    return apply


class OwnedRecordFormMixin(CustomFieldsFormMixin):
    """ModelForms of owned records (accounts, contacts): the owner is picked among the people
    the user may assign records to (empty: the user), custom fields are added, and
    `model_fields()` gives the service exactly the model's values."""

    def setup_owned_fields(self, user) -> None:
        from crm.models import User
        from crm.visibility import assignable_owners

        self.user = user
        owners = assignable_owners(user)
        if self.instance.pk:
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.distinct()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        self.add_custom_fields()

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None:
            owner = self.instance.owner if self.instance.pk else self.user
        return owner

    def model_fields(self) -> dict:
        data = self.pop_custom(dict(self.cleaned_data))
        data.pop("confirm_duplicates", None)
        data["custom"] = self.custom_values()
        return data
