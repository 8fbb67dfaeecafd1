"""Small tables that nearly every page reads and that change a few times a year (custom field
definitions): kept in the shared cache (Redis) instead of a query per request.

Each cached lookup names the models it is built from; saving or deleting a row of one of them
drops the cached copy at once and again when the transaction commits (so a page that reads it
in between cannot keep a stale copy). The key holds the database name: two databases behind one
Redis (a test worker's, a bench database) never share a copy. A copy also expires after
TIMEOUT, which bounds the damage of a change made behind Django's back (raw SQL, `.update()`).
When Redis does not answer, the table is read from the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.forms.models import ModelChoiceIteratorValue

from crm import cache_guard

TIMEOUT = 600
_LOOKUPS: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {}


def _key(name: str) -> str:
    return f"lookup:{connection.settings_dict['NAME']}:{name}"


def register(name: str, build: Callable[[], Any], *, models: tuple[str, ...]) -> None:
    """`build()` reads the table (it must return something picklable); `models` are the
    "app_label.model" names whose changes invalidate it."""
    _LOOKUPS[name] = (build, models)


def get(name: str) -> Any:
    build, _models = _LOOKUPS[name]
    key = _key(name)
    if not cache_guard.available():
        return build()
    try:
        value = cache.get(key)
    except cache_guard.ERRORS as error:  # Redis down: the database is the record
        cache_guard.failed(error)
        return build()
    if value is None:
        value = build()
        try:
            cache.set(key, value, TIMEOUT)
        except cache_guard.ERRORS as error:
            cache_guard.failed(error)
    return value


def forget(*names: str) -> None:
    """Drops the cached copies (all lookups when no name is given). With Redis down there is nothing
    to drop now; a copy that outlives the outage expires after TIMEOUT."""
    keys = [_key(name) for name in (names or _LOOKUPS)]
    try:
        cache.delete_many(keys)
    except cache_guard.ERRORS as error:
        cache_guard.failed(error)


def _changed(sender, **kwargs) -> None:
    label = sender._meta.label_lower
    names = [name for name, (_build, models) in _LOOKUPS.items() if label in models]
    if names:
        forget(*names)
        transaction.on_commit(lambda: forget(*names))


post_save.connect(_changed, dispatch_uid="crm.lookups.saved")
post_delete.connect(_changed, dispatch_uid="crm.lookups.deleted")


def show_choices(field, objects) -> None:
    """A ModelChoiceField's select lists `objects` (rows of a cached lookup, filtered the way the
    field's queryset filters) instead of running its queryset. A submitted value is still checked
    against the queryset, so a forged id fails validation as before. A field that is no select (the
    API's filters take plain ids) is left alone."""
    if not isinstance(field, forms.ModelChoiceField):
        return
    choices: list = [("", field.empty_label)] if field.empty_label is not None else []
    if getattr(field, "null_label", None) is not None:  # django-filter's "none of them" choice
        choices.append((field.null_value, field.null_label))
    choices += [(ModelChoiceIteratorValue(obj.pk, obj), field.label_from_instance(obj)) for obj in objects]
    # Django's own setter: django-filter's fields wrap the value in their query-running iterator.
    forms.ChoiceField.choices.fset(field, choices)


def _teams():
    from crm.models import Team

    return list(Team.objects.all())


def _territories():
    from crm.models import Territory

    return list(Territory.objects.all())


def _people():
    """Every active person, in the order of the owner selects (first name, last name, id): the rows the
    owner filters and the bulk bar's "new owner" offer, filtered per user in Python."""
    from crm.models import User

    return list(User.objects.filter(is_active=True).order_by("first_name", "last_name", "id").only(
        "id", "first_name", "last_name", "email", "team_id", "role", "is_active"))


register("teams", _teams, models=("crm.team",))
register("people", _people, models=("crm.user",))
register("territories", _territories, models=("crm.territory",))
