"""Importers: what each kind of record accepts from a spreadsheet and how rows become records.

An app registers its own importers in its `importers.py` (found by autodiscovery in
ImportsConfig.ready; accounts/importers.py is the example to copy). This module names no app:

    from imports.importers import Importer, register

    @register
    class AccountImporter(Importer):
        key = "accounts.account"
        ...

The base class does the generic work for a batch of rows — converting cells, matching
duplicates with one query per key per batch, deciding create / update / skip / fail — and a
subclass says which fields exist, how duplicates are found and how a record is built.
"""

import json
import logging
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator, validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import visibility
from crm.models import CustomField, CustomFieldKind
from crm.phones import international, normalize_phone, region_for_country, user_region

log = logging.getLogger(__name__)
REGISTRY: dict[str, type["Importer"]] = {}
EXTERNAL_ID = "external_id"
CUSTOM_PREFIX = "custom:"


def register(importer_class):
    REGISTRY[importer_class.key] = importer_class
    return importer_class


def get_importer(key: str) -> "Importer":
    try:
        return REGISTRY[key]()
    except KeyError:
        raise LookupError(key) from None


def importers_for(user) -> list["Importer"]:
    return [importer for importer in (cls() for cls in REGISTRY.values())
            if visibility.can_create(user, importer.model)]


# --- Cell conversion -----------------------------------------------------------------
_PHONE_CACHE: dict[tuple[str, str | None], str | None] = {}


def cached_phone(raw: str, region: str | None = None) -> str | None:
    """phonenumbers is slow (tens of µs a number); files repeat numbers, so remember them.
    `region`: where a number without a country code is read (the job's choice)."""
    try:
        return _PHONE_CACHE[raw, region]
    except KeyError:
        if len(_PHONE_CACHE) > 200_000:
            _PHONE_CACHE.clear()
        result = _PHONE_CACHE[raw, region] = normalize_phone(raw, region)
        return result


_SPLIT = re.compile(r"[,;\n]+")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
_TRUE = {"1", "yes", "y", "true", "да", "x", "+", "так"}
_FALSE = {"0", "no", "n", "false", "нет", "-", "ні"}


class CellError(ValueError):
    pass


class CellWarning(ValueError):
    """A cell kept with a warning: `value` is stored, `unread` (what could not be read) is kept as
    written for review, and the row still imports."""

    def __init__(self, message: str, value, unread: list[str]):
        super().__init__(message)
        self.value, self.unread = value, unread


PHONES_TO_CHECK = "phones_to_check"  # the values key for numbers kept unread (importers map it to a field)


def parse_decimal(raw: str) -> Decimal:
    """"1 234,56", "1,234.56", "1234.56", "1.234,56" → Decimal."""
    text = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a number.") % {"value": raw}) from None
    if not value.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": raw})
    return value


def parse_date(raw: str) -> date:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, pattern).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date (use 2024-03-31 or 31.03.2024).") % {"value": raw})


@dataclass
class FieldSpec:
    key: str
    label: str
    kind: str = "text"  # text email emails phone phones url date decimal int bool choice tags ref external_id
    aliases: tuple = ()
    max_length: int = 0
    required: bool = False
    choices: tuple = ()  # (value, label)
    multiple: bool = False  # several columns may feed it (e-mails, phones, tags)
    custom: CustomField | None = None

    def convert(self, raw: str, region: str | None = None):
        """The value to store, or None for an empty cell; CellError for a bad one. `region`: where
        a phone number without a country code is read."""
        raw = raw.strip()
        if raw == "":
            return None
        kind = self.kind
        if kind in ("text", "ref", "external_id"):
            if self.max_length and len(raw) > self.max_length:
                raise CellError(_("Longer than %(max)s characters.") % {"max": self.max_length})
            return raw
        if kind in ("email", "emails"):
            emails = []
            for item in _SPLIT.split(raw):
                item = item.strip().lower()
                if not item:
                    continue
                try:
                    validate_email(item)
                except ValidationError:
                    raise CellError(_("“%(value)s” is not a valid e-mail address.") % {"value": item}) from None
                if item not in emails:
                    emails.append(item)
            return emails[0] if kind == "email" and emails else emails or None
        if kind in ("phone", "phones"):
            if kind == "phone":
                if cached_phone(raw, region) is None:
                    # Kept as written (the record's phone field) for review; the row still imports.
                    raise CellWarning(_("“%(value)s” is not a valid phone number: kept as written, to check.")
                                      % {"value": raw}, raw, [raw])
                return international(raw, region)  # unambiguous for every later reader
            phones, unread = [], []
            for item in _SPLIT.split(raw):
                item = item.strip()
                if not item:
                    continue
                normalized = cached_phone(item, region)
                if normalized is None:
                    unread.append(item[:40])
                elif normalized not in phones:
                    phones.append(normalized)
            if unread:
                raise CellWarning(_("“%(value)s” is not a valid phone number: kept as written, to check.")
                                  % {"value": ", ".join(unread)}, phones or None, unread)
            return phones or None
        if kind == "url":
            url = raw if "://" in raw else "https://" + raw
            try:
                URLValidator()(url)
            except ValidationError:
                raise CellError(_("“%(value)s” is not a valid web address.") % {"value": raw}) from None
            return url
        if kind == "date":
            return parse_date(raw)
        if kind == "decimal":
            return parse_decimal(raw)
        if kind == "int":
            value = parse_decimal(raw)
            if value != value.to_integral_value() or value < 0:
                raise CellError(_("“%(value)s” is not a whole number.") % {"value": raw})
            return int(value)
        if kind == "bool":
            lowered = raw.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise CellError(_("“%(value)s” is not yes or no.") % {"value": raw})
        if kind == "choice":
            lowered = raw.lower()
            for value, label in self.choices:
                if lowered in (str(value).lower(), str(label).lower()):
                    return value
            raise CellError(_("“%(value)s” is not one of the choices.") % {"value": raw})
        if kind == "tags":
            tags = []
            for item in _SPLIT.split(raw):
                tag = item.strip()[:50]
                if tag and tag.lower() not in (t.lower() for t in tags):
                    tags.append(tag)
            return tags or None
        raise CellError(kind)


def custom_spec(definition: CustomField) -> FieldSpec:
    kind = {CustomFieldKind.NUMBER: "decimal", CustomFieldKind.DATE: "date", CustomFieldKind.BOOLEAN: "bool",
            CustomFieldKind.CHOICE: "choice"}.get(definition.kind, "text")
    return FieldSpec(CUSTOM_PREFIX + definition.key, definition.shown_label, kind, aliases=(definition.key,),
                     max_length=500, choices=tuple(definition.choice_names()), custom=definition)


def custom_json(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_value(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def normalise_header(text: str) -> str:
    return re.sub(r"[\s._\-:*]+", " ", text.strip().lower().replace("ё", "е")).strip()


def fast_bulk_update(model, objects, attnames) -> None:
    """One UPDATE … FROM (VALUES …) per call: Django's bulk_update builds a CASE per field per row,
    which costs more Python time than the whole rest of an import batch."""
    from django.db import connection

    if not objects:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in attnames]
    columns = [field.column for field in fields]
    pk = meta.pk
    casts = [f"%s::{pk.db_type(connection)}"] + [f"%s::{field.db_type(connection)}" for field in fields]
    sql = 'UPDATE {table} AS t SET {sets} FROM (VALUES %s) AS v({names}) WHERE t.{pk} = v.{pk}'.format(  # noqa: S608 - quoted identifiers only
        table=connection.ops.quote_name(meta.db_table),
        sets=", ".join(f'{connection.ops.quote_name(c)} = v.{connection.ops.quote_name(c)}' for c in columns),
        names=", ".join(connection.ops.quote_name(c) for c in [pk.column, *columns]),
        pk=connection.ops.quote_name(pk.column))
    rows = [[pk.get_db_prep_save(obj.pk, connection)]
            + [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
            for obj in objects]
    template = "(" + ", ".join(casts) + ")"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg2's own cursor, for mogrify (quoting) only
        values = b",".join(raw.mogrify(template, row) for row in rows).decode()
        # Through Django's cursor, so pghistory's context reaches the UPDATE.
        cursor.execute(sql.replace("%s", values.replace("%", "%%")), [])


# --- Bulk writes -------------------------------------------------------------------------
# Django's bulk_create spends ~0.4 ms of Python per row on a wide model (field preparation and
# SQL assembly per value), more than PostgreSQL needs to store the row. insert_rows sends one
# array per column instead — INSERT … SELECT FROM unnest(…) — which psycopg2 adapts in C.


def _array_literal(values) -> str:
    """A PostgreSQL array literal (text) for a list of strings: arrays of arrays cannot go through
    unnest, so array columns travel as text and are cast back."""
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def insert_rows(model, names: list[str], rows: list, *, returning: bool = False) -> list:
    """INSERT of many rows (tuples of Python values in `names` order), one statement per 5,000 rows,
    through Django's cursor (so pghistory/pgtrigger context reaches it); the new ids if asked.
    Model defaults are not applied: name every NOT NULL column.

    A column whose value is the same in every row (owner, timestamps, unmapped fields) goes as one
    value instead of an array: psycopg2 spends ~1 ms adapting a 1,000-element array."""
    from django.db import connection

    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    kinds = []
    for f in fields:
        internal = f.get_internal_type()
        kind = "array" if internal == "ArrayField" else "json" if internal == "JSONField" else ""
        kinds.append((kind, getattr(f, "encoder", None), f.db_type(connection)))
    insert = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
    returning_sql = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            chunk = rows[start:start + 5000]
            selects, scalars, arrays, casts = [], [], [], []
            for (kind, encoder, db_type), column in zip(kinds, zip(*chunk, strict=True), strict=True):
                if kind == "array":
                    column = [None if v is None else _array_literal(v) for v in column]
                elif kind == "json":
                    column = [None if v is None else json.dumps(v, cls=encoder) for v in column]
                transport = "text" if kind else db_type
                if column.count(column[0]) == len(column):
                    expression = f"%s::{transport}"
                    scalars.append(column[0])
                else:
                    expression = f"c{len(arrays)}"
                    arrays.append(list(column))
                    casts.append(f"%s::{transport}[]")
                selects.append(f"({expression})::{db_type}" if kind else expression)
            source = (f"unnest({', '.join(casts)}) AS u({', '.join(f'c{i}' for i in range(len(arrays)))})"
                      if arrays else f"generate_series(1, {len(chunk):d})")  # all constant: still n rows
            sql = insert + f"SELECT {', '.join(selects)} FROM {source}{returning_sql}"  # noqa: S608
            cursor.execute(sql, scalars + arrays)
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    return ids


def external_id_matches(target: str, external_ids: list[str]) -> list[tuple[str, int]]:
    """(external id, object id) pairs, one query: a join over unnest probes the btree index once per key
    (the array behind a sub-select, so the planner cannot choose a hashed scan of the whole table)."""
    from django.db import connection

    sql = ("SELECT r.external_id, r.object_id FROM unnest((SELECT %s::varchar[])) AS k(value) "
           "JOIN imports_importedrecord AS r ON r.target = %s AND r.external_id = k.value")
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(external_ids), target])
        return cursor.fetchall()


def _history_triggers(model, operation: str) -> list:
    """django-pghistory's unconditional row triggers on `model` for `operation` ("INSERT")."""
    try:
        import pgtrigger
        from pghistory.trigger import Event
    except ImportError:  # pragma: no cover
        return []
    found = []
    for registered_model, trigger in pgtrigger.registered():
        if (registered_model is model and isinstance(trigger, Event) and str(trigger.operation) == operation
                and trigger.condition is None):
            found.append(trigger)
    return found


def insert_with_history(model, objects) -> None:
    """Inserts new records (sets their pk) and their audit-history events.

    The history is the same as django-pghistory's insert trigger writes — one event row per
    record, with the current pghistory context — but written by one INSERT … SELECT per batch:
    the row trigger costs ~0.2 ms a row (two PL/pgSQL exception blocks and a context upsert
    each), most of an import's database time. The trigger is skipped only for this statement."""
    import pgtrigger
    from django.db import connection

    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    auto = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objects:
        for f in auto:
            f.pre_save(obj, add=True)
    names = [f.attname for f in fields]
    rows = [tuple(map(obj.__dict__.__getitem__, names)) for obj in objects]
    triggers = _history_triggers(model, "INSERT")
    with pgtrigger.ignore(*(t.get_uri(model) for t in triggers)) if triggers else nullcontext():
        ids = insert_rows(model, names, rows, returning=True)
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
    quote = connection.ops.quote_name
    for trigger in triggers:
        event = trigger.event_model._meta
        columns, selects = [], []
        for f in event.concrete_fields:
            if f.primary_key:
                continue
            value = {"pgh_created_at": "NOW()", "pgh_label": "%s", "pgh_obj_id": f"t.{quote(meta.pk.column)}",
                     "pgh_context_id": "ctx.id"}.get(f.attname, f"t.{quote(f.column)}")
            columns.append(quote(f.column))
            selects.append(value)
        sql = (f"WITH ctx AS (SELECT _pgh_attach_context() AS id) "  # noqa: S608 - quoted identifiers only
               f"INSERT INTO {quote(event.db_table)} ({', '.join(columns)}) "
               f"SELECT {', '.join(selects)} FROM {quote(meta.db_table)} AS t, ctx "
               f"WHERE t.{quote(meta.pk.column)} = ANY(%s) ORDER BY t.{quote(meta.pk.column)}")
        with connection.cursor() as cursor:
            cursor.execute(sql, [trigger.label, ids])


_INSTANCE_DEFAULTS: dict = {}


def new_instance(model, **values):
    """An unsaved instance without Model.__init__ (~40 µs on a wide model): field defaults, then `values`
    (attnames)."""
    from django.db.models.base import ModelState

    defaults = _INSTANCE_DEFAULTS.get(model)
    if defaults is None:
        defaults = _INSTANCE_DEFAULTS[model] = [
            (f.attname, f.default, None) if f.has_default() and callable(f.default)
            else (f.attname, None, f.get_default()) for f in model._meta.concrete_fields]
    obj = model.__new__(model)
    state = obj.__dict__
    for attname, factory, value in defaults:
        state[attname] = factory() if factory is not None else value
    state.update(values)
    obj._state = ModelState()
    return obj


# --- Outcomes ------------------------------------------------------------------------
@dataclass
class RowOutcome:
    row_number: int
    cells: list[str]
    action: str = ""
    reason: str = ""
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the row imports; the user should check these
    obj: object = None
    previous: dict | None = None
    match_kind: str = ""
    matched_id: int | None = None  # an existing record the user may edit that the row matched

    @property
    def record_id(self):
        """The record the row is about, once it was imported or matched (not a failed row's)."""
        return self.object_id or self.matched_id

    @property
    def object_id(self):
        return getattr(self.obj, "pk", None)


class Importer:
    key = ""
    label = ""
    model = None
    custom_target = ""
    # Keys duplicates are matched by, most telling first.
    match_keys: tuple[str, ...] = (EXTERNAL_ID,)
    match_labels = {EXTERNAL_ID: gettext_lazy("same external id")}
    derived_fields: tuple[str, ...] = ()
    _phone_region: str | None = None  # set by prepare() from the job
    _create_accounts = False  # set by prepare(): create the organisations a row names that do not exist
    _policy = ""

    # -- the fields ----------------------------------------------------------------
    def base_fields(self) -> list[FieldSpec]:
        raise NotImplementedError

    def fields(self) -> list[FieldSpec]:
        specs = self.base_fields()
        specs.append(FieldSpec(EXTERNAL_ID, _("External id (from the other system)"), "external_id",
                               aliases=("external id", "id", "external_id", "код", "внешний id", "guid", "uid"),
                               max_length=200))
        if self.custom_target:
            specs += [custom_spec(d) for d in CustomField.objects.filter(target=self.custom_target, active=True)]
        return specs

    def auto_map(self, headers: list[str], specs: list[FieldSpec]) -> dict[str, str]:
        """Column index → field key, from the header names (English and Russian)."""
        by_alias = {}
        for spec in specs:
            for alias in (spec.key, str(spec.label), *spec.aliases):
                by_alias.setdefault(normalise_header(alias), spec)
        mapping, used = {}, set()
        for index, header in enumerate(headers):
            spec = by_alias.get(normalise_header(header))
            if spec and (spec.multiple or spec.key not in used):
                mapping[str(index)] = spec.key
                used.add(spec.key)
        return mapping

    # -- one batch -----------------------------------------------------------------
    def parse(self, outcome: RowOutcome, columns: list[tuple[int, FieldSpec]]) -> None:
        values = outcome.values
        cells = outcome.cells
        # A number without a country code is read in the row's own country, when it has one.
        region = self._phone_region
        for index, spec in columns:
            if spec.key == "country" and index < len(cells):
                region = region_for_country(cells[index]) or region
        for index, spec in columns:
            raw = cells[index] if index < len(cells) else ""
            try:
                value = spec.convert(raw, region)
            except CellWarning as warning:
                outcome.warnings.append(f"{spec.label}: {warning}")
                value = warning.value
                if spec.kind == "phones":
                    kept = values.setdefault(PHONES_TO_CHECK, [])
                    kept += [item for item in warning.unread if item not in kept]
            except CellError as error:
                outcome.errors.append(f"{spec.label}: {error}")
                continue
            if spec.multiple and spec.key in values:
                if value:
                    merged = values[spec.key] or []
                    values[spec.key] = merged + [v for v in value if v not in merged]
            else:
                values[spec.key] = value
        for spec in self._required:
            if not values.get(spec.key):
                outcome.errors.append(_("%(field)s is required.") % {"field": spec.label})

    def prepare(self, job, specs: list[FieldSpec]) -> None:
        columns = []
        by_key = {spec.key: spec for spec in specs}
        for index, key in (job.mapping or {}).items():
            if key in by_key:
                columns.append((int(index), by_key[key]))
        self._columns = columns
        self._mapped_keys = {spec.key for _, spec in columns}
        self._required = [spec for spec in specs if spec.required]
        self._custom = {spec.key: spec.custom for spec in specs if spec.custom}
        self._create_accounts = bool(getattr(job, "create_accounts", False))
        self._policy = job.duplicate_policy
        self.accounts_created: list[int] = []  # by resolve(), for the job's record
        self._phone_region = getattr(job, "phone_region", "") or None
        if self._phone_region is None and any(spec.kind in ("phone", "phones") for _, spec in columns):
            self._phone_region = user_region(job.user)

    def parse_batch(self, batch: list[tuple[int, list[str]]]) -> list[RowOutcome]:
        """Cell conversion and validation only: no database, so a job runs it in a thread for the next
        batch while the database writes the current one."""
        outcomes = [RowOutcome(row_number=number, cells=cells) for number, cells in batch]
        for outcome in outcomes:
            self.parse(outcome, self._columns)
        return outcomes

    def process_batch(self, job, batch: list[tuple[int, list[str]]], *, write: bool,
                      parsed: list[RowOutcome] | None = None) -> list[RowOutcome]:
        """References, duplicate matching, the decision per row and (with `write`) the writes.
        `parsed`: the batch already through parse_batch."""
        from imports.models import DuplicatePolicy, ImportedRecord, RowAction

        user = job.user
        outcomes = parsed if parsed is not None else self.parse_batch(batch)
        if job.duplicate_policy != DuplicatePolicy.CREATE:
            self.skip_repeated_rows(outcomes)
        good = [o for o in outcomes if not o.errors]
        self.resolve(good, user)
        for outcome in outcomes:
            if outcome.errors and not outcome.action:
                outcome.action, outcome.reason = RowAction.FAILED, "; ".join(outcome.errors)
        good = [o for o in outcomes if not o.errors]

        keys = {o.row_number: self.keys_of(o.values) for o in good}
        found: dict[tuple[str, str], list[int]] = {}
        live, editable, objects = set(), set(), {}
        policy = job.duplicate_policy
        if policy != DuplicatePolicy.CREATE:
            for name in self.match_keys:
                wanted = sorted({value for row_keys in keys.values() for key, value in row_keys if key == name})
                if not wanted:
                    continue
                if name == EXTERNAL_ID:
                    for external_id, object_id in external_id_matches(self.key, wanted):
                        found.setdefault((name, external_id), []).append(object_id)
                else:
                    for value, object_id in self.lookup(name, wanted):
                        found.setdefault((name, value), []).append(object_id)
            candidates = {pk for ids in found.values() for pk in ids}
            if candidates:
                manager = self.model._default_manager
                live = set(manager.filter(pk__in=candidates, deleted_at__isnull=True).values_list("pk", flat=True))
                editable_qs = manager.editable_by(user).filter(pk__in=live)
                if policy == DuplicatePolicy.UPDATE:
                    objects = {obj.pk: obj for obj in editable_qs}
                    editable = set(objects)
                else:
                    editable = set(editable_qs.values_list("pk", flat=True))

        seen_in_file: dict[tuple[str, str], int] = {}
        touched: dict[int, int] = {}
        new_objects, changed_objects, changed_fields = [], [], set()
        now = timezone.now()
        for outcome in good:
            row_keys = keys[outcome.row_number]
            if policy != DuplicatePolicy.CREATE:
                mine, others, why = None, False, ""
                for name in self.match_keys:
                    for key, value in row_keys:
                        if key != name:
                            continue
                        for pk in found.get((key, value), ()):
                            if pk not in live:
                                continue
                            if pk in editable:
                                if mine is None:
                                    mine, why = pk, str(self.match_labels.get(name, name))
                            else:
                                others = True
                if mine is None and others:
                    outcome.action = RowAction.SKIPPED
                    outcome.reason = _("Skipped: a matching record belongs to someone else.")
                    continue
                if mine is not None:
                    outcome.matched_id = mine
                    if policy == DuplicatePolicy.SKIP:
                        outcome.action = RowAction.SKIPPED
                        outcome.reason = _("Skipped: already exists (%(why)s).") % {"why": why}
                        continue
                    if mine in touched:
                        outcome.action = RowAction.SKIPPED
                        outcome.reason = _("Skipped: same record as row %(row)s of this file.") % {
                            "row": touched[mine]}
                        continue
                    obj = objects[mine]
                    previous = self.apply(obj, outcome.values, clear_empty=job.clear_empty)
                    touched[mine] = outcome.row_number
                    outcome.obj, outcome.match_kind = obj, why
                    if not previous:
                        outcome.action = RowAction.SKIPPED
                        outcome.reason = _("Skipped: already up to date (%(why)s).") % {"why": why}
                        continue
                    obj.updated_at = now
                    outcome.action, outcome.previous = RowAction.UPDATED, json_value(previous)
                    changed_fields.update(previous)
                    changed_objects.append(obj)
                    continue
                duplicate_of = next((seen_in_file[k] for k in row_keys if k in seen_in_file), None)
                if duplicate_of is not None:
                    outcome.action = RowAction.SKIPPED
                    outcome.reason = _("Skipped: same as row %(row)s of this file.") % {"row": duplicate_of}
                    continue
                for key in row_keys:
                    seen_in_file[key] = outcome.row_number
            outcome.obj = self.build(outcome.values, user)
            outcome.action = RowAction.CREATED
            new_objects.append(outcome.obj)

        if write:
            if new_objects:
                insert_with_history(self.model, new_objects)
            if changed_objects:
                fields = sorted(changed_fields | set(self.derived_fields) | {"updated_at"})
                fast_bulk_update(self.model, changed_objects, fields)  # few rows: the update trigger records them
            links = [(self.key, outcome.values[EXTERNAL_ID], outcome.obj.pk, job.pk, now) for outcome in good
                     if outcome.values.get(EXTERNAL_ID) and outcome.action in (RowAction.CREATED, RowAction.UPDATED)]
            if links:
                insert_rows(ImportedRecord, ["target", "external_id", "object_id", "job", "created_at"], links)
            self.keep_statistics_fresh(len(new_objects), [self.model, ImportedRecord])
        for outcome in outcomes:
            if outcome.warnings and outcome.action in (RowAction.CREATED, RowAction.UPDATED):
                outcome.reason = "; ".join(outcome.warnings)
        return outcomes

    def skip_repeated_rows(self, outcomes: list[RowOutcome]) -> None:
        """A row with errors that repeats an earlier, importable row of the batch (same e-mail, phone
        or external id) is a duplicate before it is an error: skipped, naming the row it repeats.
        Rows without errors are matched later, with the records in the database."""
        from imports.models import RowAction

        first_seen: dict[tuple[str, str], int] = {}
        for outcome in sorted(outcomes, key=lambda o: o.row_number):
            row_keys = self.keys_of(outcome.values)
            if not outcome.errors:
                for key in row_keys:
                    first_seen.setdefault(key, outcome.row_number)
                continue
            earlier = next((first_seen[key] for key in row_keys if key in first_seen), None)
            if earlier is not None:
                outcome.action = RowAction.SKIPPED
                outcome.reason = _("Skipped: same as row %(row)s of this file.") % {"row": earlier}

    def keep_statistics_fresh(self, inserted: int, models) -> None:
        """ANALYZE the tables an import grows each time it has doubled them. A large import into a
        small table otherwise leaves the planner believing the table still holds a few rows, and the
        per-batch matching queries pick the wrong indexes (20-40 ms instead of 1-3 ms each by 100k rows).
        Autovacuum would get there too, but only after the import: its nap is a minute."""
        from django.db import DatabaseError, connection, transaction

        if not hasattr(self, "_since_analyze"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                               [self.model._meta.db_table])
                row = cursor.fetchone()
            self._since_analyze, self._analyzed_size = 0, max(0, row[0] if row else 0)
        self._since_analyze += inserted
        if self._since_analyze < max(5000, self._analyzed_size):
            return
        self._analyzed_size += self._since_analyze
        self._since_analyze = 0
        quote = connection.ops.quote_name
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for model in models:
                    cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
        except DatabaseError:  # not the tables' owner: matching still works, only slower
            log.warning("imports: cannot ANALYZE %s", ", ".join(m._meta.db_table for m in models))

    # -- hooks -----------------------------------------------------------------------
    def resolve(self, outcomes: list[RowOutcome], user) -> None:
        """Turns references (an account by name) into ids; appends an error to a row that cannot."""

    def plan(self, job, rows) -> list[str]:
        """Lines about the whole file for the preview ("7 accounts will be created"); `rows`: its cells."""
        return []

    def keys_of(self, values: dict) -> list[tuple[str, str]]:
        external_id = values.get(EXTERNAL_ID)
        return [(EXTERNAL_ID, external_id)] if external_id else []

    def lookup(self, name: str, values: list[str]):
        """(value, id) pairs of live records (any owner) matching by this key: one query."""
        return []

    def build(self, values: dict, user):
        raise NotImplementedError

    def apply(self, obj, values: dict, *, clear_empty: bool) -> dict:
        """Applies a row to an existing record; returns {attname: previous value} of what changed.
        A missing column never changes a field; an empty cell does only with `clear_empty`."""
        raise NotImplementedError

    def finalise(self, obj) -> None:
        """Fields save() would compute (bulk writes skip save())."""

    def display(self, outcome: RowOutcome, specs: list[FieldSpec]) -> list[str]:
        """The values as they will be saved, one per mapped field, for the preview."""
        shown = []
        for spec in specs:
            value = outcome.values.get(spec.key)
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = _("Yes") if value else _("No")
            elif spec.kind == "choice" and value is not None:
                value = dict(spec.choices).get(value, value)
            shown.append("" if value is None else str(value))
        return shown

    # -- shared helpers for subclasses ----------------------------------------------------
    def _set_fields(self, obj, values: dict, plain: dict[str, object], *, creating: bool, clear_empty: bool,
                    previous: dict) -> None:
        """Plain fields: {spec key: (attname, empty value)}; lists merge on update; custom keys too."""
        for key, (attname, empty) in plain.items():
            if key not in values:
                continue
            value = values[key]
            current = getattr(obj, attname)
            if value is None:
                if creating or not clear_empty:
                    continue
                value = empty
            elif isinstance(value, list) and not creating:
                value = list(current or []) + [v for v in value if v not in (current or [])]
            if creating:
                setattr(obj, attname, value)
            elif value != current:
                previous[attname] = current
                setattr(obj, attname, value)
        custom_changes = {k: v for k, v in values.items() if k.startswith(CUSTOM_PREFIX)}
        if custom_changes:
            stored = dict(obj.custom or {})
            new = dict(stored)
            for key, value in custom_changes.items():
                name = key[len(CUSTOM_PREFIX):]
                if value is None:
                    if creating or not clear_empty:
                        continue
                    new.pop(name, None)
                else:
                    new[name] = custom_json(value)
            if new != stored:
                if not creating:
                    previous["custom"] = stored
                obj.custom = new
