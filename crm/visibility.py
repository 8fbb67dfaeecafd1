"""The one visibility policy: who may see and who may change an owned record.

Every list, detail, search, export, report, API and autocomplete fetches owned
records through `visible()` / `editable()` (exposed as the QuerySet methods
`visible_to(user)` / `editable_by(user)`) or through `get_visible_or_404()` /
`get_editable_or_404()`. A row the user may not see answers 404, exactly like a
row that does not exist; a row they may see but not change answers 403.

Scopes, from narrow to wide:
  OWN  - rows the user owns, plus rows a teammate shared with the user's team;
  TEAM - OWN, plus every row of the teams the user manages;
  ALL  - every row.
Each model names its Policy (a scope per role, for reading and for writing)
in the class attribute `visibility_policy`. docs/architecture.md explains the
choices per role.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from crm.roles import Role

if TYPE_CHECKING:  # crm.models imports this module
    from crm.models import OwnedModel, OwnedQuerySet, User


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    TEAM = "team"
    ALL = "all"


@dataclass(frozen=True)
class Narrowing:
    """A further condition on a role's scope, for reading and writing alike: the scope says how far the
    role reaches, the narrowing which part of it this user works (a support agent: the tickets of the
    queues their team serves). `rows(user)` is the row filter, None when it does not apply (switched off);
    `holds(user, obj)` says the same of one loaded record."""

    rows: Callable[["User"], Q | None]
    holds: Callable[["User", Any], bool]


@dataclass(frozen=True)
class Policy:
    read: dict[str, Scope]
    write: dict[str, Scope] = field(default_factory=dict)
    narrow: dict[str, Narrowing] = field(default_factory=dict)  # role → narrowing (superusers: never)


# Customer master data (accounts, contacts): sales works its own book; service and
# marketing need every customer to answer a ticket or build a segment, read-only.
CUSTOMER_DATA = Policy(
    read={
        Role.ADMIN: Scope.ALL,
        Role.EXECUTIVE: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
        Role.SUPPORT_LEAD: Scope.ALL,
        Role.SUPPORT_AGENT: Scope.ALL,
        Role.MARKETER: Scope.ALL,
    },
    write={
        Role.ADMIN: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
    },
)

# Deals, quotes, orders, forecasts: sales and the executives only.
SALES_DATA = Policy(
    read={
        Role.ADMIN: Scope.ALL,
        Role.EXECUTIVE: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
    },
    write={
        Role.ADMIN: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
    },
)


# Leads: sales works them (a manager also sees the team's queue of unassigned leads, whose
# team is set and owner empty); marketing generates them (campaigns, web forms, imports)
# and follows them up, so marketers read every lead and edit the ones they own.
LEAD_DATA = Policy(
    read={
        Role.ADMIN: Scope.ALL,
        Role.EXECUTIVE: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
        Role.MARKETER: Scope.ALL,
    },
    write={
        Role.ADMIN: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
        Role.MARKETER: Scope.OWN,
    },
)

# Calls, meetings, tasks, notes: everyone who works with customers logs them; each
# edits their own (leads: their team's). Readers also see the activities of every
# account or contact they may see (ActivityQuerySet.visible_to).
ACTIVITY_DATA = Policy(
    read=CUSTOMER_DATA.read,
    write={
        Role.ADMIN: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
        Role.SUPPORT_LEAD: Scope.TEAM,
        Role.SUPPORT_AGENT: Scope.OWN,
        Role.MARKETER: Scope.OWN,
    },
)


# Campaigns: marketing plans and runs them, every marketer any campaign (the department keeps its
# campaigns together: whoever gets the printer's invoice records the cost). Sales reads them all, to
# attribute a lead or a deal to the campaign it came from, and runs its own events and local
# campaigns (a rep their own, a manager the team's); executives read them to judge the return.
# Support has no use for them.
CAMPAIGN_DATA = Policy(
    read={
        Role.ADMIN: Scope.ALL,
        Role.EXECUTIVE: Scope.ALL,
        Role.SALES_MANAGER: Scope.ALL,
        Role.SALES_REP: Scope.ALL,
        Role.MARKETER: Scope.ALL,
    },
    write={
        Role.ADMIN: Scope.ALL,
        Role.MARKETER: Scope.ALL,
        Role.SALES_MANAGER: Scope.TEAM,
        Role.SALES_REP: Scope.OWN,
    },
)


# The product catalogue and price books: not customer data. Everyone reads it (a rep shows the
# product encyclopedia to a customer, an agent looks up what a caller bought, a marketer builds an
# offer); admins and sales managers keep it. No owner: the scope is ALL or NONE.
CATALOGUE_DATA = Policy(
    read={role: Scope.ALL for role in Role.values},
    write={
        Role.ADMIN: Scope.ALL,
        Role.SALES_MANAGER: Scope.ALL,
    },
)


def assignable_owners(user: "User") -> "QuerySet[User]":
    """Whom a user may make the owner of a record: admins anyone active, managers the people
    of the teams they manage (and themselves), everyone else only themselves."""
    from crm.models import User

    active = User.objects.filter(is_active=True)
    if user.is_admin:
        return active
    team_ids = list(managed_team_ids(user))
    if team_ids:
        return active.filter(Q(team_id__in=team_ids) | Q(pk=user.pk))
    return active.filter(pk=user.pk)


def assignable_owner_list(user: "User") -> "list[User]":
    """`assignable_owners(user)`, from the cached list of active people (crm/lookups.py, no query), in
    the order first name, last name, id: what a page offers in its "new owner" select. What is posted
    is still checked against `assignable_owners` (crm/tests/test_list_caches.py compares the two)."""
    from crm import lookups

    people: list[User] = lookups.get("people")
    if user.is_admin:
        return people
    team_ids = managed_team_ids(user)
    if team_ids:
        return [person for person in people if person.team_id in team_ids or person.pk == user.pk]
    return [person for person in people if person.pk == user.pk]


def managed_team_ids(user: "User") -> frozenset[int]:
    """Teams the user manages, cached on the user object for the request."""
    # getattr/setattr, not __dict__: request.user is a lazy proxy, and the ids that
    # crm.backends.EmailBackend loaded with the user sit on the object behind it.
    cached: frozenset[int] | None = getattr(user, "_managed_team_ids", None)
    if cached is None:
        cached = frozenset(user.managed_teams.values_list("id", flat=True))
        setattr(user, "_managed_team_ids", cached)  # noqa: B010 - not a declared attribute
    return cached


def policy_of(model: type[Model]) -> Policy:
    """The Policy a model names in its class attribute `visibility_policy`."""
    policy: Policy = model.visibility_policy  # type: ignore[attr-defined]  # declared per model, not on Model
    return policy


def _scope(user: "User", model: type[Model], *, write: bool) -> Scope:
    if not (user and user.is_authenticated and user.is_active):
        return Scope.NONE
    if user.is_superuser:
        return Scope.ALL
    policy = policy_of(model)
    rules = policy.write if write else policy.read
    return rules.get(user.role, Scope.NONE)


def read_scope(user: "User", model: type[Model]) -> Scope:
    return _scope(user, model, write=False)


def _scope_q(user: "User", scope: Scope) -> Q | None:
    """The row filter for a scope; None means no filter at all."""
    if scope == Scope.ALL:
        return None
    if scope == Scope.NONE:
        return Q(pk__in=[])
    if scope == Scope.TEAM and user.team_id and user.team_id in managed_team_ids(user):
        # A manager of their own team: their records and the team-shared ones are all in
        # their team (a record's team is its owner's team), so one indexable condition says it.
        return Q(team_id__in=managed_team_ids(user))
    q = Q(owner_id=user.pk)
    if user.team_id:
        q |= Q(shared_with_team=True, team_id=user.team_id)
    if scope == Scope.TEAM:
        teams = managed_team_ids(user)
        if teams:
            q |= Q(team_id__in=teams)
    return q


def _narrowing(user: "User", model: type[Model]) -> Narrowing | None:
    if not (user and user.is_authenticated) or user.is_superuser:
        return None
    return policy_of(model).narrow.get(user.role)


def narrowed_q(user: "User", model: type[Model]) -> Q | None:
    """The user's narrowing of the model's rows (Policy.narrow), None when none applies."""
    narrowing = _narrowing(user, model)
    return narrowing.rows(user) if narrowing is not None else None


def _rows_q(user: "User", model: type[Model], *, write: bool) -> Q | None:
    scope = _scope(user, model, write=write)
    q = _scope_q(user, scope)
    if scope != Scope.NONE and (narrowed := narrowed_q(user, model)) is not None:
        q = narrowed if q is None else q & narrowed
    return q


def read_q(user: "User", model: type[Model]) -> Q | None:
    """The row filter `visible` applies (the soft-delete condition aside), None for every row: to OR with other
    conditions on the same table in one WHERE. Written as `pk IN (the visible rows)` instead, the planner
    scanned the whole table once per row it checked (the manager's activity figures at 10,000,000
    activities ran for minutes)."""
    return _rows_q(user, model, write=False)


def _filtered[QS: QuerySet[Any]](queryset: QS, user: "User", *, write: bool) -> QS:
    queryset = queryset.filter(deleted_at__isnull=True)
    q = _rows_q(user, queryset.model, write=write)
    return queryset if q is None else queryset.filter(q)


def _narrowing_holds(user: "User", obj: Any) -> bool:
    narrowing = _narrowing(user, type(obj))
    return narrowing is None or narrowing.holds(user, obj)


def visible[QS: QuerySet[Any]](queryset: QS, user: "User") -> QS:
    return _filtered(queryset, user, write=False)


def editable[QS: QuerySet[Any]](queryset: QS, user: "User") -> QS:
    return _filtered(queryset, user, write=True)


def _in_scope(user: "User", obj: "OwnedModel", scope: Scope) -> bool:
    if scope == Scope.ALL:
        return True
    if scope == Scope.NONE:
        return False
    if obj.owner_id == user.pk:
        return True
    if user.team_id and obj.shared_with_team and obj.team_id == user.team_id:
        return True
    return scope == Scope.TEAM and obj.team_id in managed_team_ids(user)


def can_see(user: "User", obj: "OwnedModel") -> bool:
    if obj.deleted_at is not None:
        return False
    if _in_scope(user, obj, _scope(user, type(obj), write=False)) and _narrowing_holds(user, obj):
        return True
    # Some records are also visible through others (an activity through its account or contact).
    visible_through: Callable[[User], bool] | None = getattr(obj, "visible_through", None)
    return bool(visible_through and visible_through(user))


def can_edit(user: "User", obj: "OwnedModel") -> bool:
    return (obj.deleted_at is None and _in_scope(user, obj, _scope(user, type(obj), write=True))
            and _narrowing_holds(user, obj))


def can_read(user: "User", model: type[Model]) -> bool:
    """Whether the user's role reads any rows of this model at all (menus, panels, pages)."""
    return _scope(user, model, write=False) != Scope.NONE


def can_create(user: "User", model: type[Model]) -> bool:
    return _scope(user, model, write=True) != Scope.NONE


def _as_queryset(model_or_queryset: type[Model] | QuerySet[Any]) -> "OwnedQuerySet":
    # Every governed model's default manager is an OwnedQuerySet (or a subclass).
    if isinstance(model_or_queryset, QuerySet):
        return cast("OwnedQuerySet", model_or_queryset)
    return cast("OwnedQuerySet", model_or_queryset._default_manager.all())


def get_visible_or_404(model_or_queryset: type[Model] | QuerySet[Any], user: "User", **lookup: Any) -> Any:
    # The QuerySet's own visible_to: a model may widen the policy (ActivityQuerySet does).
    queryset = _as_queryset(model_or_queryset).visible_to(user)
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def get_editable_or_404(model_or_queryset: type[Model] | QuerySet[Any], user: "User", **lookup: Any) -> Any:
    """404 when the row is hidden or missing; 403 when it is visible but read-only for the user."""
    obj = get_visible_or_404(model_or_queryset, user, **lookup)
    if not can_edit(user, obj):
        raise PermissionDenied
    return obj


def with_visibility_flag[QS: QuerySet[Any]](queryset: QS, user: "User", field: str) -> QS:
    """Annotates `<field>_visible`: whether the user may see the record this foreign key points
    to, so a page never shows the name of a linked record the user may not open.

    For models on the plain policy the check is a condition on the joined row (no subquery,
    so lists stay index-ordered); models that widen the policy get an EXISTS."""
    from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef

    related = queryset.model._meta.get_field(field).related_model
    if (type(related._default_manager.get_queryset()).visible_to is not _plain_visible_to()
            or narrowed_q(user, related) is not None):
        linked = related._default_manager.visible_to(user).filter(pk=OuterRef(f"{field}_id"))
        return queryset.annotate(**{f"{field}_visible": Exists(linked)})
    condition = Q(**{f"{field}__deleted_at__isnull": True})
    scope_q = _scope_q(user, _scope(user, related, write=False))
    if scope_q is not None:
        condition &= _prefixed(scope_q, field)
    return queryset.annotate(**{f"{field}_visible": ExpressionWrapper(condition, output_field=BooleanField())})


def _plain_visible_to() -> Callable[..., Any]:
    from crm.models import OwnedQuerySet

    return OwnedQuerySet.visible_to


def _prefixed(q: Q, field: str) -> Q:
    """The same condition, on the row behind a foreign key: owner_id → account__owner_id."""
    children: list[Q | tuple[str, Any]] = []
    for child in q.children:
        if isinstance(child, Q):
            children.append(_prefixed(child, field))
        else:  # a (lookup, value) pair
            lookup, value = cast(tuple[str, Any], child)
            children.append((f"{field}__{lookup}", value))
    prefixed = Q(*children, _connector=q.connector, _negated=q.negated)
    return prefixed


def require_read(user: "User", model: type[Model]) -> None:
    """Pages about a kind of record the user's role never sees (a support agent on the deals list)
    answer 404, like a hidden record: the same answer whether or not such records exist."""
    if not can_read(user, model):
        raise Http404


def require_admin(user: "User") -> None:
    """Settings pages (pipelines, price books, rules, thresholds): admins only, 403 for everyone else."""
    if not (user.is_authenticated and user.is_admin):
        raise PermissionDenied


def require_create(user: "User", model: type[Model]) -> None:
    """403 for a role that reads these records but may not add one; 404 for a role that never sees them."""
    require_read(user, model)
    if not can_create(user, model):
        raise PermissionDenied
