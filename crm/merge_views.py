"""Merging duplicates: pick the records, compare them field by field, confirm.

The machinery: each module declares its MergePage and its view (accounts/merge_views.py,
contacts/merge_views.py). Three steps on one URL: without `ids` the pick page; with `ids` (a
comma-separated list or repeated parameters) the comparison; POST merges. The primary and
every chosen record must be editable by the user: a hidden, missing or deleted id answers
404 and a read-only one 403, before anything is shown or changed.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import duplicates, merge
from crm.visibility import can_edit, can_see, get_editable_or_404

MAX_OTHERS = merge.MAX_RECORDS - 1


@dataclass(frozen=True)
class MergePage:
    spec: merge.MergeSpec
    service: Callable[..., merge.MergeResult]
    url_name: str  # this page's URL name ("contacts:merge"): it takes the primary's pk
    autocomplete_url_name: str  # the search select that adds records to merge
    section: str  # the module's URL namespace and nav section: "{section}:list" is its list
    find_duplicates: Callable[[object, models.Model], list[duplicates.Match]]


# --- Selection ----------------------------------------------------------------------


def _parse_ids(raw_values: list[str]) -> list[int]:
    """`?ids=1,2,3` or `?ids=1&ids=2`; order kept, repeats dropped; anything else is a missing row."""
    ids = []
    for raw in raw_values:
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise Http404
            ids.append(int(part))
    return list(dict.fromkeys(ids))


def _load_editable(page: MergePage, user, ids: list[int]) -> list[models.Model]:
    """404 when any id is hidden, missing or deleted; 403 when one is visible but read-only."""
    if not ids:
        return []
    found = (page.spec.model.objects.visible_to(user).select_related(*page.spec.display_related())
             .in_bulk(ids))
    if len(found) != len(ids):
        raise Http404
    records = [found[pk] for pk in ids]
    if not all(can_edit(user, record) for record in records):
        raise PermissionDenied
    return records


def _selection(page: MergePage, user, primary, data) -> tuple[list[models.Model], str]:
    """The chosen records and, when the selection cannot be merged, why."""
    ids = _parse_ids(data.getlist("ids"))
    error = ""
    if primary.pk in ids:
        ids = [pk for pk in ids if pk != primary.pk]
        error = _("A record cannot be merged with itself. Choose the other records to merge into this one.")
    if len(ids) > MAX_OTHERS:
        return [], _("You can merge at most %(count)s records at once: this one and %(others)s others.") % {
            "count": merge.MAX_RECORDS, "others": MAX_OTHERS}
    if not ids and not error:
        error = _("Choose at least one record to merge into this one.")
    return _load_editable(page, user, ids), error


# --- The comparison -----------------------------------------------------------------


@dataclass
class Cell:
    record: models.Model
    value: object  # a display string, or a list for list fields
    empty: bool
    checked: bool = False
    input_id: str = ""


@dataclass
class Row:
    name: str
    label: str
    kind: str  # value / list / consent / strict / info
    cells: list[Cell]
    choosable: bool = False
    union: list = field(default_factory=list)
    union_checked: bool = False
    result: str = ""  # strict rows: what the merged record gets
    note: str = ""


class MergeChoiceForm(forms.Form):
    """One radio group per row where the records differ; the value is the winning record's pk
    (or merge.UNION for a combined list)."""

    def __init__(self, *args, groups: dict[str, tuple[list[int], int]], **kwargs):
        super().__init__(*args, **kwargs)
        for name, (allowed, initial) in groups.items():
            self.fields[f"choice_{name}"] = forms.TypedChoiceField(
                choices=[(pk, pk) for pk in allowed], coerce=int, initial=initial,
                error_messages={"required": _("Choose a value for every row."),
                                "invalid_choice": _("Choose each value from one of the records being merged.")})

    def choices(self) -> dict[str, int]:
        return {key.removeprefix("choice_"): value for key, value in self.cleaned_data.items()}


def _display(record: models.Model, name: str, user):
    model_field = record._meta.get_field(name)
    value = getattr(record, model_field.attname)
    if merge.is_empty(value):
        return ""
    if model_field.is_relation:
        linked = getattr(record, name)
        if hasattr(type(linked)._default_manager, "visible_to") and not can_see(user, linked):
            return _("(not visible to you)")
        return str(linked)
    if model_field.choices:
        return str(getattr(record, f"get_{name}_display")())
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, int | Decimal):
        return number_format(value, force_grouping=True)
    return value


def _consent_display(contact: models.Model) -> str:
    if contact.email_opt_in:
        when = date_format(timezone.localtime(contact.email_opt_in_at), "DATE_FORMAT") if contact.email_opt_in_at \
            else ""
        text = _("Agreed on %(date)s") % {"date": when} if when else _("Agreed")
        return f"{text} ({contact.email_opt_in_source})" if contact.email_opt_in_source else text
    return _("No consent recorded")


def _same(values: list) -> bool:
    return all(value == values[0] for value in values)


def _groups(page: MergePage, records: list[models.Model]) -> dict[str, tuple[list[int], int]]:
    """The rows the user chooses in: those where the records differ, and always consent."""
    spec, pks = page.spec, [record.pk for record in records]
    groups = {}
    for model_field in spec.fields():
        if _same([getattr(record, model_field.attname) for record in records]):
            continue
        allowed = pks if spec.kind(model_field) == merge.VALUE else [merge.UNION, *pks]
        groups[model_field.name] = (allowed, merge.default_choice(spec, records, model_field.name))
    if spec.consent:
        groups[merge.CONSENT] = (pks, merge.default_choice(spec, records, merge.CONSENT))
    return groups


def _selected(form: MergeChoiceForm, name: str) -> str:
    bound = form[f"choice_{name}"]
    value = bound.value() if form.is_bound else bound.initial
    return "" if value is None else str(value)


def _items(value) -> list:
    """A list field's items, or a JSON object's "key: value" lines."""
    if isinstance(value, dict):
        return [f"{key}: {item}" for key, item in value.items() if not merge.is_empty(item)]
    return list(value or [])


def _rows(page: MergePage, records: list[models.Model], form: MergeChoiceForm, user) -> list[Row]:
    spec, model = page.spec, page.spec.model
    choosable = {key.removeprefix("choice_") for key in form.fields}
    rows = []

    def cells(name: str, values) -> list[Cell]:
        picked = _selected(form, name) if name in choosable else ""
        return [Cell(record=record, value=value, empty=merge.is_empty(value), checked=picked == str(record.pk),
                     input_id=f"choice_{name}_{record.pk}") for record, value in zip(records, values, strict=True)]

    for model_field in spec.fields():
        name, label = model_field.name, str(model_field.verbose_name)
        if all(merge.is_empty(getattr(record, model_field.attname)) for record in records):
            continue  # empty everywhere: nothing to see or choose
        if spec.kind(model_field) == merge.VALUE:
            rows.append(Row(name=name, label=label, kind="value", choosable=name in choosable,
                            cells=cells(name, [_display(record, name, user) for record in records])))
            continue
        values = [getattr(record, model_field.attname) for record in records]
        combined = merge.union(values) if spec.kind(model_field) == merge.LIST else merge.combine_dicts(values)
        rows.append(Row(name=name, label=label, kind="list", choosable=name in choosable,
                        cells=cells(name, [_items(value) for value in values]), union=_items(combined),
                        union_checked=name in choosable and _selected(form, name) == str(merge.UNION)))
    if spec.consent:
        rows.append(Row(name=merge.CONSENT, label=_("Consent to marketing e-mail"), kind="consent",
                        cells=cells(merge.CONSENT, [_consent_display(record) for record in records]),
                        choosable=True,
                        note=_("Kept only if you choose a record that agreed, and no record opted out.")))
        strict = merge.consent_values(records, None)
        opted_out = strict["email_opted_out_at"]
        rows.append(Row(name="email_opted_out_at", label=_("Opted out of marketing e-mail"), kind="strict",
                        cells=cells("email_opted_out_at",
                                    [_display(record, "email_opted_out_at", user) for record in records]),
                        result=date_format(timezone.localtime(opted_out), "DATE_FORMAT") if opted_out else _("No")))
        rows.append(Row(name="do_not_call", label=_("Do not call"), kind="strict",
                        cells=cells("do_not_call", [_("Yes") if record.do_not_call else "" for record in records]),
                        result=_("Yes") if strict["do_not_call"] else _("No")))
    rows.append(Row(name="owner", label=_("Owner"), kind="info",
                    cells=cells("owner", [str(record.owner) for record in records]),
                    note=_("The merged record keeps this record's owner and sharing.")))
    rows.append(Row(name="created_at", label=_("Created"), kind="info",
                    cells=cells("created_at", [_display(record, "created_at", user) for record in records])))
    counts = merge.related_counts(model, [record.pk for record in records])
    rows.append(Row(name="related", label=_("Linked records"), kind="info",
                    cells=cells("related", [counts[record.pk] for record in records]),
                    note=_("Everything linked to the other records moves to the one you keep.")))
    return rows


def _posted(data, name: str, allowed: list[int], default: int) -> int:
    value = data.get(f"choice_{name}", "")
    return int(value) if value.isdigit() and int(value) in allowed else default


def _stamp(records: list[models.Model]) -> str:
    """Changes when any record is saved after the comparison was shown."""
    text = "|".join(f"{record.pk}:{record.updated_at.isoformat()}" for record in records)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# --- The view ----------------------------------------------------------------------


def merge_view(request, pk: int, page: MergePage):
    """The whole merge on one URL, for the model of `page` (a module's view calls this)."""
    model = page.spec.model
    primary = get_editable_or_404(model.objects.select_related(*page.spec.display_related()), request.user, pk=pk)
    data = request.POST if request.method == "POST" else request.GET
    if "ids" not in data:
        return _render_pick(request, page, primary, [], "")
    others, error = _selection(page, request.user, primary, data)
    if error or (request.method == "GET" and data.get("step") == "pick"):
        return _render_pick(request, page, primary, others, error)

    records = [primary, *others]
    groups = _groups(page, records)
    problem = ""
    if request.method == "POST" and request.POST.get("stamp") != _stamp(records):
        # Values shown earlier are no longer the values stored: show them again, keeping the
        # user's choices where they still apply.
        problem = _("One of the records changed while you were comparing them. Check the values and confirm again.")
        groups = {name: (allowed, _posted(request.POST, name, allowed, initial))
                  for name, (allowed, initial) in groups.items()}
        form = MergeChoiceForm(None, groups=groups)
    else:
        form = MergeChoiceForm(request.POST if request.method == "POST" else None, groups=groups)
    if request.method == "POST" and not problem:
        if form.is_valid():
            try:
                result = page.service(primary=primary, others=others, choices=form.choices(), actor=request.user)
            except merge.MergeError as failure:
                problem = str(failure)
            else:
                _report(request, result)
                return redirect(result.record)
        else:
            problem = " ".join(dict.fromkeys(str(error) for errors in form.errors.values() for error in errors))
    ids = [record.pk for record in records]
    columns = [{"record": record, "kept": index == 0,
                "keep_instead_url": reverse(page.url_name, args=[record.pk]) + "?ids="
                + ",".join(str(other) for other in ids if other != record.pk)}
               for index, record in enumerate(records)]
    context = {
        "page": page,
        "primary": primary,
        "records": records,
        "columns": columns,
        "others": others,
        "rows": _rows(page, records, form, request.user),
        "ids": ",".join(str(other.pk) for other in others),
        "stamp": _stamp(records),
        "problem": problem,
        "verbose_name": model._meta.verbose_name,
        "verbose_name_plural": model._meta.verbose_name_plural,
        "list_url": reverse(f"{page.section}:list"),
        "nav_section": page.section,
    }
    return render(request, "crm/merge_compare.html", context, status=400 if problem else 200)


def _report(request, result: merge.MergeResult) -> None:
    text = ngettext("%(count)s record was merged into %(name)s.", "%(count)s records were merged into %(name)s.",
                    len(result.merged_ids)) % {"count": len(result.merged_ids), "name": result.record}
    if result.moved:
        text += " " + ngettext("%(count)s linked record moved to it.", "%(count)s linked records moved to it.",
                               result.moved) % {"count": result.moved}
    messages.success(request, text)
    if result.kept:
        messages.warning(request, ngettext(
            "%(count)s linked record stayed with a merged record, because %(name)s already has the same link.",
            "%(count)s linked records stayed with the merged records, because %(name)s already has the same links.",
            result.kept) % {"count": result.kept, "name": result.record})


def _render_pick(request, page: MergePage, primary, chosen: list[models.Model], error: str):
    matches = page.find_duplicates(request.user, primary)
    editable = set(page.spec.model.objects.editable_by(request.user)
                   .filter(pk__in=[match.pk for match in matches if not match.hidden])
                   .values_list("pk", flat=True)) if matches else set()
    candidates = [match for match in matches if match.pk in editable]
    context = {
        "page": page,
        "primary": primary,
        "candidates": candidates,
        "chosen_ids": {record.pk for record in chosen},
        # Chosen records that are not among the candidates' checkboxes fill the search select.
        "chosen_in_select": [record for record in chosen if record.pk not in editable],
        "error": error,
        "max_others": MAX_OTHERS,
        "max_records": merge.MAX_RECORDS,
        "autocomplete_url": reverse(page.autocomplete_url_name),
        "verbose_name": page.spec.model._meta.verbose_name,
        "verbose_name_plural": page.spec.model._meta.verbose_name_plural,
        "list_url": reverse(f"{page.section}:list"),
        "nav_section": page.section,
    }
    return render(request, "crm/merge_pick.html", context, status=400 if error and request.method == "POST" else 200)
