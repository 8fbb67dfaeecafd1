"""Merging duplicate records into one: the engine. Modules declare what a merge of their model
chooses (a MergeSpec) and call `merge_records` from their own service (contacts/merge.py,
accounts/merge.py).

The user keeps one record (the primary) and chooses, field by field, which record's value
wins. Every row that points at a merged record is re-pointed to the primary by walking the
model's reverse relations, so relations added by later modules (deals, tickets, campaign
members…) move without a change here. The merged records are soft-deleted. The whole merge
runs in one pghistory context: every row it changes carries the same context id and the
merge's metadata, which is how the History card shows "merged with …".
"""

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pghistory
import pghistory.models
from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import User
from crm.visibility import can_edit

MAX_RECORDS = 10  # the primary included: the comparison screen stays readable
UNION = 0  # the choice for a list field that keeps every record's values, combined
CONSENT = "email_opt_in"  # the choice key for the whole e-mail consent (when, where, wording)
CONSENT_FIELDS = ("email_opt_in", "email_opt_in_at", "email_opt_in_source", "email_opt_in_wording")
MARKER_LABEL = "merge"


class MergeError(Exception):
    """A merge that cannot run as asked; the message is for the user."""


# Who owns and shares the record, and when it was made: the primary keeps its own (changing
# them is a hand-over, with its own rules about who may receive a record).
OWNERSHIP_FIELDS = frozenset({"owner", "team", "shared_with_team", "created_at", "updated_at", "deleted_at"})
STRICT_FIELDS = ("email_opted_out_at", "do_not_call")  # contacts: kept if any record has them
VALUE, LIST, DICT = "value", "list", "dict"


@dataclass(frozen=True)
class MergeSpec:
    """What a merge of one model chooses. The fields come from the model itself, so a field
    added later (a tier, custom fields…) is compared and merged without a change here."""

    model: type[models.Model]
    consent: bool = False  # contacts: the consent rules below apply
    # The module's own rule, run on the kept record (its new values set) before it is saved:
    # check(record, other_ids) raises MergeError to refuse (an account cannot become its own parent).
    check: Callable[[models.Model, list[int]], None] | None = None

    def fields(self) -> list[models.Field]:
        skip = set(OWNERSHIP_FIELDS)
        if self.consent:
            skip.update(CONSENT_FIELDS, STRICT_FIELDS)
        return [f for f in self.model._meta.concrete_fields
                if f.editable and not f.primary_key and f.name not in skip]

    @staticmethod
    def kind(model_field: models.Field) -> str:
        """Lists (e-mails, phones, tags) and JSON objects (custom fields) are combined by default."""
        if isinstance(model_field, ArrayField):
            return LIST
        if isinstance(model_field, models.JSONField):
            return DICT
        return VALUE

    def choice_names(self) -> set[str]:
        return {f.name for f in self.fields()} | ({CONSENT} if self.consent else set())

    def display_related(self) -> list[str]:
        return ["owner", *(f.name for f in self.fields() if f.many_to_one)]


@dataclass
class MergeResult:
    record: models.Model
    merged_ids: list[int]
    moved: int = 0  # related rows re-pointed to the primary
    kept: int = 0  # related rows left on a merged record because the primary already has their twin
    details: dict[str, int] = field(default_factory=dict)


# --- Choosing values ---------------------------------------------------------------


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def combine_dicts(dicts: Iterable[Mapping]) -> dict:
    """Every key once; the first record with a non-empty value for a key gives it."""
    combined: dict = {}
    for values in dicts:
        for key, value in (values or {}).items():
            if key not in combined or is_empty(combined[key]):
                combined[key] = value
    return combined


def union(lists: Iterable[Sequence]) -> list:
    """Every value once, the first record's order first; e-mails and tags compare case-insensitively."""
    seen, combined = set(), []
    for values in lists:
        for value in values or ():
            key = value.casefold() if isinstance(value, str) else value
            if key not in seen:
                seen.add(key)
                combined.append(value)
    return combined


def default_choice(spec: MergeSpec, records: Sequence[models.Model], name: str) -> int:
    """What the comparison screen preselects: the primary's value, or the first non-empty one;
    the union for lists; for consent, a record without it unless every record agreed."""
    if name == CONSENT:
        return next((r.pk for r in records if not r.email_opt_in), records[0].pk)
    model_field = spec.model._meta.get_field(name)
    if spec.kind(model_field) != VALUE:
        return UNION
    attname = model_field.attname
    return next((r.pk for r in records if not is_empty(getattr(r, attname))), records[0].pk)


def consent_values(records: Sequence[models.Model], chosen_pk: int | None) -> dict:
    """Consent is never granted silently: the merged contact agrees to marketing e-mail only if
    the record whose consent was chosen explicitly agreed. Opting out and "do not call" are kept
    if any record has them: the strictest wins, even over a consent given on another record."""
    winner = next((r for r in records if r.pk == chosen_pk), None) if chosen_pk is not None else None
    if winner is not None:
        values = {name: getattr(winner, name) for name in CONSENT_FIELDS}
    else:
        values = {"email_opt_in": False, "email_opt_in_at": None, "email_opt_in_source": "",
                  "email_opt_in_wording": ""}
    opted_out = [r.email_opted_out_at for r in records if r.email_opted_out_at]
    values["email_opted_out_at"] = max(opted_out, default=None)
    if opted_out:
        values["email_opt_in"] = False
    values["do_not_call"] = any(r.do_not_call for r in records)
    return values


def merged_values(spec: MergeSpec, records: Sequence[models.Model], choices: Mapping[str, int]) -> dict:
    """The primary's new field values (by attname). `records[0]` is the primary."""
    unknown = set(choices) - spec.choice_names()
    if unknown:
        raise MergeError(_("These fields cannot be chosen in a merge: %(names)s.")
                         % {"names": ", ".join(sorted(unknown))})
    by_pk = {record.pk: record for record in records}

    def chosen(name: str) -> models.Model:
        pk = choices.get(name, default_choice(spec, records, name))
        if pk not in by_pk:
            raise MergeError(_("Choose each value from one of the records being merged."))
        return by_pk[pk]

    values = {}
    for model_field in spec.fields():
        name, attname, kind = model_field.name, model_field.attname, spec.kind(model_field)
        if kind == VALUE:
            values[attname] = getattr(chosen(name), attname)
        elif choices.get(name, UNION) != UNION:
            values[attname] = copy.deepcopy(getattr(chosen(name), attname))
        elif kind == LIST:
            values[attname] = union(getattr(record, attname) for record in records)
        else:
            values[attname] = combine_dicts(getattr(record, attname) for record in records)
    if spec.consent:
        pk = choices.get(CONSENT)
        if pk is not None and pk not in by_pk:
            raise MergeError(_("Choose each value from one of the records being merged."))
        values.update(consent_values(records, pk))
    return values


# --- Re-pointing related rows --------------------------------------------------------


def related_relations(model: type[models.Model]) -> list:
    """Every foreign key (and one-to-one) pointing at `model`, hidden ones included. Many-to-many
    links arrive as the foreign keys of their through tables. Audit event tables are skipped:
    they are history, and must keep pointing at the record that was changed. (They are the
    pghistory.models.Event subclasses, named "…Event"; testing the class, not the name, keeps a
    later "CalendarEvent" with a real contact link from being skipped.)"""
    relations = []
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
            continue
        related = relation.related_model
        if issubclass(related, pghistory.models.Event) or not related._meta.managed or related._meta.proxy:
            continue
        relations.append(relation)
    return relations


def relation_label(relation) -> str:
    related = relation.related_model
    through_of = related._meta.auto_created  # the model declaring the many-to-many, for a through table
    if through_of:
        m2m = next(f for f in through_of._meta.many_to_many if f.remote_field.through is related)
        return f"{through_of._meta.verbose_name_plural} ({m2m.verbose_name})"
    return f"{related._meta.verbose_name_plural} ({relation.field.verbose_name})"


def related_counts(model: type[models.Model], ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
    """What would move, per record: one grouped count per relation, whatever the number of records."""
    counts: dict[int, list[tuple[str, int]]] = {pk: [] for pk in ids}
    for relation in related_relations(model):
        fk = relation.field
        rows = (relation.related_model._base_manager.filter(**{f"{fk.attname}__in": ids})
                .values_list(fk.attname).annotate(n=models.Count("pk")).order_by())
        for pk, number in rows:
            if pk in counts:
                counts[pk].append((relation_label(relation), number))
    return counts


def _repoint(relation, primary: models.Model, other_ids: list[int]) -> tuple[int, int]:
    """Point one relation's rows from the merged records at the primary; returns (moved, kept)."""
    related, fk = relation.related_model, relation.field
    manager = related._base_manager
    rows = manager.filter(**{f"{fk.attname}__in": other_ids})
    if related is type(primary):
        rows = rows.exclude(pk=primary.pk)  # never make a record point at itself (its own parent)
    if related._meta.auto_created:
        # A many-to-many through table: a link the primary already has is a duplicate, not a move.
        far = next(f for f in related._meta.fields if f.is_relation and f is not fk)
        taken = set(manager.filter(**{fk.attname: primary.pk}).values_list(far.attname, flat=True))
        merged = {primary.pk, *other_ids} if far.related_model is type(primary) else set()
        duplicates = []
        for pk, target in rows.values_list("pk", far.attname):
            if target in taken or target in merged:
                duplicates.append(pk)
            else:
                taken.add(target)
        if duplicates:
            manager.filter(pk__in=duplicates).delete()
    try:
        with transaction.atomic():
            return rows.update(**{fk.name: primary}), 0
    except IntegrityError:
        pass
    # A unique constraint of a later module (one membership per campaign and contact…): move row
    # by row; a row whose twin the primary already has stays on the merged record, not lost.
    moved = kept = 0
    for pk in list(rows.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                moved += manager.filter(pk=pk).update(**{fk.name: primary})
        except IntegrityError:
            kept += 1
    return moved, kept


def _event_model(model: type[models.Model]):
    for candidate in apps.get_models():
        if (issubclass(candidate, pghistory.models.Event) and candidate.pgh_tracked_model is model
                and hasattr(candidate, "pgh_obj")):
            return candidate
    return None


def _ensure_history_entry(primary: models.Model, context_id) -> None:
    """The primary's History card shows the merge even when none of its own fields changed
    (the update trigger fires on changes only): then we add one snapshot event in the merge's
    context, as pghistory's manual events do."""
    event_model = _event_model(type(primary))
    if event_model is None or event_model.objects.filter(pgh_obj_id=primary.pk,
                                                         pgh_context_id=context_id).exists():
        return
    snapshot = {f.attname: getattr(primary, f.attname) for f in event_model._meta.concrete_fields
                if not f.name.startswith("pgh_")}
    event_model.objects.create(pgh_obj_id=primary.pk, pgh_label=MARKER_LABEL, pgh_context_id=context_id, **snapshot)


# --- The services -------------------------------------------------------------------


def _check_links(spec: MergeSpec, values: dict, target: models.Model, actor: User) -> None:
    """A linked record taken from another duplicate must be one the user may see: a merge never
    links the kept record to a hidden account (the same rule as the forms' choices)."""
    for model_field in spec.fields():
        if not model_field.many_to_one:
            continue
        value = values.get(model_field.attname)
        manager = model_field.related_model._default_manager
        if value is None or value == getattr(target, model_field.attname) or not hasattr(manager, "visible_to"):
            continue
        if not manager.visible_to(actor).filter(pk=value).exists():
            raise MergeError(_("A linked record you chose is not visible to you. Nothing was changed."))


@transaction.atomic
def merge_records(spec: MergeSpec, *, primary, others: Sequence, choices: Mapping[str, int],
                  actor: User) -> MergeResult:
    """Merge `others` into `primary`, in one transaction.
    `choices` maps a field name to the pk of the record whose value wins (absent: the
    primary's, or the first non-empty one); for list fields UNION (the default) combines
    every record's values."""
    other_ids = list(dict.fromkeys(other.pk for other in others))
    if not other_ids:
        raise MergeError(_("Choose at least one record to merge into this one."))
    if primary.pk in other_ids:
        raise MergeError(_("A record cannot be merged with itself."))
    if len(other_ids) + 1 > MAX_RECORDS:
        raise MergeError(_("You can merge at most %(count)s records at once.") % {"count": MAX_RECORDS})

    # Lock in primary-key order, so two merges touching the same records cannot deadlock.
    locked = spec.model._base_manager.select_for_update().filter(pk__in=[primary.pk, *other_ids]).order_by("pk")
    by_pk = {record.pk: record for record in locked}
    records = [by_pk.get(pk) for pk in [primary.pk, *other_ids]]
    if any(record is None or record.deleted_at is not None for record in records):
        raise MergeError(_("One of the records was deleted or merged meanwhile. Nothing was changed."))
    if not all(can_edit(actor, record) for record in records):
        raise PermissionDenied
    target = records[0]

    metadata = {"model": spec.model._meta.label_lower, "into": target.pk, "names": [str(r) for r in records[1:]]}
    with pghistory.context(merge=metadata, merged_ids=other_ids, actor=actor.pk) as history_context:
        values = merged_values(spec, records, choices)
        _check_links(spec, values, target, actor)
        result = MergeResult(record=target, merged_ids=other_ids)
        for relation in related_relations(spec.model):
            moved, kept = _repoint(relation, target, other_ids)
            result.moved += moved
            result.kept += kept
            if moved:
                label = relation_label(relation)
                result.details[label] = result.details.get(label, 0) + moved
        for attname, value in values.items():
            setattr(target, attname, value)
        if spec.check is not None:
            spec.check(target, other_ids)
        # No full_clean(): every value comes from a stored row, and an old row that today's
        # validators would reject must not make its duplicate impossible to merge.
        target.save()
        now = timezone.now()
        spec.model._base_manager.filter(pk__in=other_ids).update(deleted_at=now, updated_at=now)
        _ensure_history_entry(target, history_context.id)
    return result
