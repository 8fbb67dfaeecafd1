"""Segment criteria on custom fields (crm/custom_fields.py) of contacts and of their accounts.

A condition is stored in the segment's criteria as
    {"on": "contact" | "account", "key": <custom field key>, "op": <operator>, "value": …}
with `value` a string (text), a list of stored options (choice "one of"), "lo"/"hi" strings for
numbers and ISO dates (a [lo, hi] pair for "between"), and nothing for empty / not empty / yes / no.

Whitelisted twice: `clean_condition` (the form) accepts only an active field of contacts or accounts,
an operator of that field's kind and a value of that kind, so a forged key, operator or value is a
form error and builds no SQL; `condition_q` checks the stored key and operator again (a field made
inactive later matches nobody rather than widening the audience). Keys never reach SQL as text:
Django passes JSON keys as parameters.

Values are stored as crm/custom_fields.py writes them: text and choices as strings, numbers as
strings of a Decimal, dates as ISO dates, yes/no as JSON booleans. Criteria on the account match
only contacts that have an account.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, DecimalField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Collate
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm import custom_fields
from crm.models import CustomField, CustomFieldKind, CustomFieldTarget

ROWS = 3  # conditions offered by the form
MAX_TEXT = 200
MAX_OPTIONS = 50

ON = {"contact": CustomFieldTarget.CONTACT.value, "account": CustomFieldTarget.ACCOUNT.value}
PATH = {"contact": "custom", "account": "account__custom"}

OPERATORS: dict[str, Any] = {
    "eq": _("equals"),
    "contains": _("contains"),
    "in": _("is one of"),
    "gt": _("greater than"),
    "lt": _("less than"),
    "before": _("before"),
    "after": _("after"),
    "between": _("between"),
    "yes": pgettext_lazy("custom field", "is yes"),
    "no": pgettext_lazy("custom field", "is no"),
    "empty": _("is empty"),
    "not_empty": _("is not empty"),
}
BY_KIND: dict[str, tuple[str, ...]] = {
    CustomFieldKind.TEXT: ("eq", "contains", "empty", "not_empty"),
    CustomFieldKind.CHOICE: ("in", "empty", "not_empty"),
    CustomFieldKind.NUMBER: ("gt", "lt", "between", "empty", "not_empty"),
    CustomFieldKind.DATE: ("before", "after", "between", "empty", "not_empty"),
    CustomFieldKind.BOOLEAN: ("yes", "no"),
}
NO_VALUE = ("empty", "not_empty", "yes", "no")
NUMBER_RE = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def definitions() -> dict[str, dict[str, CustomField]]:
    """The active custom fields of contacts and accounts: {"contact": {key: field}, "account": {…}} (cached)."""
    return {on: {d.key: d for d in custom_fields.definitions(target)} for on, target in ON.items()}


def field_choices() -> list[tuple[str, Any]]:
    """The form's grouped field options: value "contact:<key>" / "account:<key>", label in the reader's language."""
    defs = definitions()
    groups = [(_("The person"), "contact"), (_("Their company"), "account")]
    return [("", "—")] + [(group, [(f"{on}:{key}", d.shown_label) for key, d in defs[on].items()])
                          for group, on in groups if defs[on]]


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Enter a number.")) from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 15:
        raise ValidationError(_("Enter a number."))
    return value


def _date(text: str) -> date:
    text = text.strip()
    parsed = None
    try:
        parsed = parse_date(text)
        if parsed is None and text.count(".") == 2:  # 31.12.2026, as Russian and Ukrainian readers write it
            day, month, year = (int(part) for part in text.split("."))
            parsed = date(year, month, day)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(_("Enter a date."))
    return parsed


def incomplete(field: str, op: str, value: str, value2: str) -> bool:
    """A row still being filled in: a field without an operator, or an operator still without its value(s)."""
    if not field:
        return False
    return not op or (op not in NO_VALUE and (not value or (op == "between" and not value2)))


def clean_condition(field: str, op: str, value: str, value2: str) -> dict[str, Any] | None:
    """One condition from the form's strings: the stored dict, None when the row is left empty, or a
    ValidationError naming what is wrong. Only whitelisted fields, operators and values get through."""
    field, op, value, value2 = (field or "").strip(), (op or "").strip(), (value or "").strip(), (value2 or "").strip()
    if not field:
        if op or value or value2:
            raise ValidationError(_("Choose a field for this condition."))
        return None
    on, _sep, key = field.partition(":")
    definition = definitions().get(on, {}).get(key)
    if definition is None:
        raise ValidationError(_("Choose one of the offered fields."))
    if op not in BY_KIND.get(definition.kind, ()):
        raise ValidationError(_("Choose a condition that fits the field %(field)s.")
                              % {"field": definition.shown_label})
    condition: dict[str, Any] = {"on": on, "key": key, "op": op}
    if op in NO_VALUE:
        return condition
    if not value or (op == "between" and not value2):
        raise ValidationError(_("Enter both ends of the range.") if op == "between" else _("Enter a value."))
    if definition.kind == CustomFieldKind.TEXT:
        if len(value) > MAX_TEXT:
            raise ValidationError(_("Enter at most %(max)d characters.") % {"max": MAX_TEXT})
        condition["value"] = value
    elif definition.kind == CustomFieldKind.CHOICE:
        names = {name.casefold(): option for option, name in definition.choice_names()}
        chosen: list[str] = []
        for part in [p.strip() for p in value.split(",") if p.strip()][:MAX_OPTIONS]:
            if part.casefold() not in names:
                raise ValidationError(_("“%(value)s” is not an option of %(field)s.") % {
                    "value": part[:MAX_TEXT], "field": definition.shown_label})
            if names[part.casefold()] not in chosen:
                chosen.append(names[part.casefold()])
        condition["value"] = chosen
    else:
        parse = _number if definition.kind == CustomFieldKind.NUMBER else _date
        ends = [parse(value)] + ([parse(value2)] if op == "between" else [])
        if len(ends) == 2 and ends[0] > ends[1]:  # type: ignore[operator]
            ends.reverse()
        stored = [custom_fields.to_json(definition, end) for end in ends]
        condition["value"] = stored if op == "between" else stored[0]
    return condition


def _stored_definition(condition: Any) -> CustomField | None:
    """The active field a stored condition names, if its operator still fits it (else None)."""
    if not isinstance(condition, dict):
        return None
    definition = definitions().get(condition.get("on"), {}).get(condition.get("key"))  # type: ignore[arg-type]
    if definition is None or condition.get("op") not in BY_KIND.get(definition.kind, ()):
        return None
    return definition


def condition_q(condition: dict[str, Any]) -> Q:
    """The WHERE clause of one condition over Contact rows (no query of its own, once definitions are cached)."""
    definition = _stored_definition(condition)
    if definition is None:
        return Q(pk__in=[])  # a field gone or a forged condition: nobody, never everybody
    on, op, value = condition["on"], condition["op"], condition.get("value")
    path = f"{PATH[on]}__{definition.key}"
    has_account = Q(account__isnull=False) if on == "account" else Q()
    if op == "yes":
        return Q(**{path: True})
    if op == "no":
        return has_account & (Q(**{path: False}) | Q(**{f"{path}__isnull": True}))
    empty = Q(**{f"{path}__isnull": True}) | Q(**{path: ""})
    if op == "empty":
        return has_account & empty
    if op == "not_empty":
        return ~empty
    if op == "eq":
        return Q(**{f"{path}__iexact": str(value)})
    if op == "contains":
        return Q(**{f"{path}__icontains": str(value)})
    if op == "in":
        return Q(**{f"{path}__in": [str(v) for v in value or []]})
    text = KeyTextTransform(definition.key, PATH[on])
    if definition.kind == CustomFieldKind.NUMBER:
        # Cast only what looks like a number, so one odd stored value cannot break the query.
        compared: Any = Case(When(Q(**{f"{path}__regex": NUMBER_RE}),
                                  then=Cast(text, DecimalField(max_digits=40, decimal_places=10))), default=None)
        bound = lambda v: Value(Decimal(str(v)), DecimalField(max_digits=40, decimal_places=10))  # noqa: E731
        well_formed = Q()
    else:  # ISO dates order as strings, in the C collation
        compared = Collate(text, "C")
        bound = lambda v: Value(str(v))  # noqa: E731
        well_formed = Q(**{f"{path}__regex": DATE_RE})
    if op in ("gt", "after"):
        return well_formed & Q(GreaterThan(compared, bound(value)))
    if op in ("lt", "before"):
        return well_formed & Q(LessThan(compared, bound(value)))
    low, high = value  # type: ignore[misc]
    return well_formed & Q(GreaterThanOrEqual(compared, bound(low))) & Q(LessThanOrEqual(compared, bound(high)))


def conditions_q(conditions: Any) -> Q:
    q = Q()
    for condition in conditions if isinstance(conditions, list) else [conditions]:
        q &= condition_q(condition)
    return q


def _shown_value(definition: CustomField, op: str, value: Any) -> str:
    def one(v: Any) -> str:
        if definition.kind == CustomFieldKind.DATE:
            parsed = parse_date(str(v))
            return date_format(parsed, "SHORT_DATE_FORMAT") if parsed else str(v)
        return str(v)

    if op == "in":
        return ", ".join(definition.shown_choice(v) for v in value or [])
    return one(value)


def describe(condition: dict[str, Any]) -> tuple[str, str]:
    """(label, words) for the segment page, in the reader's language."""
    definition = _stored_definition(condition)
    if definition is None:
        return str(_("Custom field")), str(_("%(key)s: no longer offered, matches nobody") % {
            "key": str(condition.get("key", "?")) if isinstance(condition, dict) else "?"})
    where = _("Contact") if condition["on"] == "contact" else _("Account")
    op = condition["op"]
    words = str(OPERATORS[op])
    value = condition.get("value")
    if op == "between" and isinstance(value, list) and len(value) == 2:
        words = str(_("from %(low)s to %(high)s") % {"low": _shown_value(definition, op, value[0]),
                                                    "high": _shown_value(definition, op, value[1])})
    elif op not in NO_VALUE:
        words = f"{words} {_shown_value(definition, op, value)}"
    return f"{where} · {definition.shown_label}", words


def form_rows(conditions: Any) -> dict[str, str]:
    """A stored condition list as the form's initial strings (cf1_field, cf1_op, cf1_value, cf1_value2…)."""
    initial: dict[str, str] = {}
    for index, condition in enumerate(conditions if isinstance(conditions, list) else [], start=1):
        if index > ROWS or not isinstance(condition, dict):
            break
        definition = _stored_definition(condition)
        value = condition.get("value")
        values: list[Any] = value if isinstance(value, list) and condition.get("op") == "between" else [value]
        if definition is not None and condition.get("op") == "in":
            values = [", ".join(definition.shown_choice(v) for v in value or [])]
        initial[f"cf{index}_field"] = f"{condition.get('on')}:{condition.get('key')}"
        initial[f"cf{index}_op"] = str(condition.get("op", ""))
        initial[f"cf{index}_value"] = "" if values[0] is None else str(values[0])
        initial[f"cf{index}_value2"] = str(values[1]) if len(values) > 1 else ""
    return initial
