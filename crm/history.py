"""Reads of the audit history kept by django-pghistory (database triggers).

Triggers see every write, including bulk updates and imports, and the
HistoryMiddleware attaches the signed-in user and the URL to each change.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import pghistory.models
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import User

IGNORED_FIELDS = {"updated_at", "full_name", "phone_e164"}
CHOICE_DISPLAY_LIMIT = 80
CHANGES_SCANNED = 100  # history events a record page reads (History card and timeline) per page


@dataclass
class HistoryEntry:
    when: datetime
    action: str  # insert / update / delete
    user: User | None
    changes: list[tuple[str, object, object]]  # (field label, old, new)
    reason: str = ""  # "hand-over", "merge", "import"… from the change's context
    context: dict = field(default_factory=dict)

    @property
    def merged_with(self) -> list[str]:
        """Names of the records merged in, when this change belongs to a merge (crm/merge.py)."""
        merge = self.context.get("merge")
        return [str(name) for name in merge.get("names", [])] if isinstance(merge, dict) else []


def history_for(obj, *, user, limit: int = 50, before: datetime | None = None) -> list[HistoryEntry]:
    """Newest-first changes of one record, with names for people and linked records, in a
    bounded number of queries whatever its length (events, users, one per linked model)."""
    events = pghistory.models.Events.objects.tracks(obj)
    if before is not None:
        events = events.filter(pgh_created_at__lt=before)
    events = list(events.order_by("-pgh_created_at", "-pgh_id")[:limit])
    fields = {}
    for model_field in type(obj)._meta.concrete_fields:
        fields[model_field.name] = model_field
        fields[model_field.attname] = model_field
    names = _related_names(events, fields, user)
    user_ids = {_user_id(event) for event in events} - {None}
    users = User.objects.in_bulk(user_ids)
    entries = []
    for event in events:
        changes = []
        for name, (old, new) in sorted((event.pgh_diff or {}).items()):
            model_field = fields.get(name)
            if name in IGNORED_FIELDS or model_field is None or model_field.name in IGNORED_FIELDS:
                continue
            changes.append((str(model_field.verbose_name), _display(model_field, old, names),
                            _display(model_field, new, names)))
        context = event.pgh_context or {}
        entries.append(HistoryEntry(event.pgh_created_at, event.pgh_label, users.get(_user_id(event)), changes,
                                    _reason(context), context))
    return entries


def _related_names(events, fields, user) -> dict[tuple[type, str], str]:
    """Names of linked records the user may see; others stay anonymous ("#id")."""
    wanted: dict[type, set] = defaultdict(set)
    for event in events:
        for name, values in (event.pgh_diff or {}).items():
            model_field = fields.get(name)
            if isinstance(model_field, models.ForeignKey):
                wanted[model_field.related_model].update(v for v in values if v is not None)
    names = {}
    for model, ids in wanted.items():
        manager = model._default_manager
        rows = manager.visible_to(user) if hasattr(manager, "visible_to") else manager.all()
        for pk, instance in rows.in_bulk(list(ids)).items():
            names[(model, str(pk))] = str(instance)
    return names


def _display(model_field, value, names):
    if value is None or value == "":
        return None
    if isinstance(model_field, models.ForeignKey):
        return names.get((model_field.related_model, str(value)), f"#{value}")
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return _formatted(model_field, value)


def _formatted(model_field, value):
    """Dates, times and amounts as the pages show them (the diff holds their JSON strings)."""
    from django.utils import formats
    from django.utils.dateparse import parse_date, parse_datetime

    if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return formats.date_format(timezone.localtime(parsed) if timezone.is_aware(parsed) else parsed,
                                       "SHORT_DATETIME_FORMAT")
    elif isinstance(model_field, models.DateField) and isinstance(value, str):
        parsed = parse_date(value)
        if parsed is not None:
            return formats.date_format(parsed, "SHORT_DATE_FORMAT")
    elif isinstance(model_field, models.DecimalField):
        try:
            return formats.number_format(Decimal(str(value)), decimal_pos=model_field.decimal_places,
                                         use_l10n=True, force_grouping=True)
        except (InvalidOperation, ValueError):
            return value
    return value


def _reason(context: dict) -> str:
    if context.get("handover"):
        return _("hand-over")
    if context.get("merge"):
        return _("merge")
    if context.get("source"):
        return str(SOURCES.get(context["source"], context["source"]))
    return ""


# What wrote a change, as the history shows it (pghistory.context(source=...)).
SOURCES = {"import": gettext_lazy("import"), "import-undo": gettext_lazy("import undone"),
           "vcard_import": gettext_lazy("vCard import"), "seed_demo": gettext_lazy("demo data"),
           "webform": gettext_lazy("web form")}


def _user_id(event) -> int | None:
    context = event.pgh_context or {}
    user = context.get("user") or context.get("actor")
    try:
        return int(user) if user is not None else None
    except (TypeError, ValueError):
        return None
