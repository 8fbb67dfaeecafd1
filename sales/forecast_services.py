"""Sales targets and the forecast.

Writes: target_set / target_clear (who may set a target: admins anyone; a sales manager the teams
they manage and those teams' members; nobody else).

Reads: `forecast()` computes one row per owner or per team for a month or a quarter in a constant
number of queries (one conditional aggregation over the visible deals, one for the people or teams,
one for the targets); `forecast_deals()` lists the deals behind one figure. Every figure is in
DEFAULT_CURRENCY, summed from Opportunity.amount_base, and only over `visible_to(user)`.

What counts where (each deal counts in at most one of won / commit / best case / pipeline):
- won: closed won, closed_at inside the period (the user's time zone);
- commit, best case, pipeline: open deals whose expected close date is inside the period, by their
  forecast category; omitted deals count nowhere;
- weighted: Σ amount_base × probability / 100 over those open, not omitted deals;
- attainment: won / target.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm import visibility
from crm.models import Role, Team, User
from sales.filters import stage_ids_by_kind
from sales.models import ForecastCategory, Opportunity, SalesTarget, StageKind, TargetPeriod
from sales.money import round_money

ZERO = Decimal(0)
SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


# --- Periods ------------------------------------------------------------------------------------


def normalize_period_start(kind: str, day: datetime.date) -> datetime.date:
    """The first day of the month or quarter that contains `day`."""
    if kind == TargetPeriod.QUARTER:
        return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if kind == TargetPeriod.MONTH:
        return day.replace(day=1)
    raise ValidationError({"period": _("Choose a month or a quarter.")})


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str  # TargetPeriod
    start: datetime.date

    @classmethod
    def containing(cls, kind: str, day: datetime.date) -> "Period":
        return cls(kind, normalize_period_start(kind, day))

    @property
    def months(self) -> int:
        return 3 if self.kind == TargetPeriod.QUARTER else 1

    @property
    def end(self) -> datetime.date:
        """The first day after the period."""
        return _add_months(self.start, self.months)

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def previous(self) -> "Period":
        return Period(self.kind, _add_months(self.start, -self.months))

    def next(self) -> "Period":
        return Period(self.kind, _add_months(self.start, self.months))

    def month_starts(self) -> list[datetime.date]:
        return [_add_months(self.start, offset) for offset in range(self.months)]

    @property
    def label(self) -> str:
        if self.kind == TargetPeriod.QUARTER:
            return _("Q%(quarter)s %(year)s") % {"quarter": (self.start.month - 1) // 3 + 1, "year": self.start.year}
        return date_format(self.start, "F Y")

    @property
    def short_label(self) -> str:
        if self.kind == TargetPeriod.QUARTER:
            return _("Q%(quarter)s") % {"quarter": (self.start.month - 1) // 3 + 1}
        return date_format(self.start, "M")

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The period as aware datetimes in the current (the user's) time zone, end exclusive."""
        zone = timezone.get_current_timezone()
        return (datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone),
                datetime.datetime.combine(self.end, datetime.time.min, tzinfo=zone))


def periods_of_year(kind: str, year: int) -> list[Period]:
    step = 3 if kind == TargetPeriod.QUARTER else 1
    return [Period(kind, datetime.date(year, month, 1)) for month in range(1, 13, step)]


# --- Who sees and who sets targets -----------------------------------------------------------------


def forecast_scope(user) -> visibility.Scope:
    """The forecast follows the deals' policy: admin/executive all, manager team, rep own,
    support and marketing nothing (their pages answer 404)."""
    return visibility.read_scope(user, Opportunity)


def visible_teams(user):
    """Teams whose rows the user may see on the forecast and targets pages."""
    scope = forecast_scope(user)
    if scope == visibility.Scope.ALL:
        return Team.objects.all()
    if scope == visibility.Scope.TEAM:
        return Team.objects.filter(pk__in=visibility.managed_team_ids(user))
    return Team.objects.none()


def people_condition(user) -> Q:
    """The people whose rows the user may see: everyone in sales (all scope), the members of the
    teams a manager manages and the manager, or only the rep."""
    scope = forecast_scope(user)
    if scope == visibility.Scope.ALL:
        return Q(is_active=True, role__in=SALES_ROLES)
    if scope == visibility.Scope.TEAM:
        return Q(pk=user.pk) | Q(is_active=True, team_id__in=visibility.managed_team_ids(user))
    if scope == visibility.Scope.OWN:
        return Q(pk=user.pk)
    return Q(pk__in=[])


def visible_people(user):
    return User.objects.filter(people_condition(user)).order_by("first_name", "last_name", "email")


def can_set_target(actor, *, user: User | None = None, team: Team | None = None) -> bool:
    if actor.is_admin:
        return True
    if actor.role != Role.SALES_MANAGER:
        return False
    managed = visibility.managed_team_ids(actor)
    if team is not None:
        return team.pk in managed
    return user is not None and user.team_id in managed


def _subject(user: User | None, team: Team | None) -> dict:
    if (user is None) == (team is None):
        raise ValueError("A target is for a user or for a team, not both.")
    return {"user": user} if user is not None else {"team": team}


@transaction.atomic
def target_set(*, actor: User, user: User | None = None, team: Team | None = None, period: str,
               period_start: datetime.date, amount: Decimal, deal_count: int | None = None) -> SalesTarget:
    """Sets the target of a rep or a team for the month or quarter containing `period_start`
    (one row per subject and period: an existing one is updated in place)."""
    subject = _subject(user, team)
    if not can_set_target(actor, user=user, team=team):
        raise PermissionDenied
    start = normalize_period_start(period, period_start)
    amount = Decimal(amount)
    if amount < 0:
        raise ValidationError({"amount": _("A target cannot be negative.")})
    if deal_count is not None and deal_count < 0:
        raise ValidationError({"deal_count": _("A deal count cannot be negative.")})
    # INSERT … ON CONFLICT DO UPDATE: two first saves of the same cell at once end as one row, no error.
    target = SalesTarget(period=period, period_start=start, amount=amount, deal_count=deal_count, set_by=actor,
                         **subject)
    target.full_clean(validate_unique=False, validate_constraints=False)
    key = ["user", "period", "period_start"] if user is not None else ["team", "period", "period_start"]
    SalesTarget.objects.bulk_create([target], update_conflicts=True, unique_fields=key,
                                    update_fields=["amount", "deal_count", "set_by", "updated_at"])
    return SalesTarget.objects.get(period=period, period_start=start, **subject)


@transaction.atomic
def target_clear(*, actor: User, user: User | None = None, team: Team | None = None, period: str,
                 period_start: datetime.date) -> None:
    subject = _subject(user, team)
    if not can_set_target(actor, user=user, team=team):
        raise PermissionDenied
    start = normalize_period_start(period, period_start)
    SalesTarget.objects.filter(period=period, period_start=start, **subject).delete()


# --- The forecast ---------------------------------------------------------------------------------

OWNER, TEAM = "owner", "team"
FIGURES = ("won", "commit", "best_case", "pipeline", "weighted")
CATEGORY_FIGURES = {"commit": ForecastCategory.COMMIT, "best_case": ForecastCategory.BEST_CASE,
                    "pipeline": ForecastCategory.PIPELINE}
NO_TEAM = "none"


@dataclass
class ForecastRow:
    key: int | None  # user id or team id (None: deals of no team)
    label: str
    target: Decimal | None = None
    target_deals: int | None = None
    target_from_months: bool = False  # a quarter without its own target: the sum of its months'
    won: Decimal = ZERO
    won_count: int = 0
    commit: Decimal = ZERO
    commit_count: int = 0
    best_case: Decimal = ZERO
    best_case_count: int = 0
    pipeline: Decimal = ZERO
    pipeline_count: int = 0
    weighted: Decimal = ZERO
    open_count: int = 0
    is_total: bool = False

    @property
    def attainment(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.won * 100 / self.target).quantize(Decimal("0.1"))

    @property
    def bar_value(self) -> int:
        """The progress bar's value (0–100)."""
        value = self.attainment
        return 0 if value is None else int(min(Decimal(100), max(ZERO, value)))

    @property
    def url_key(self) -> str:
        return NO_TEAM if self.key is None else str(self.key)


@dataclass
class Forecast:
    period: Period
    group_by: str
    rows: list[ForecastRow]
    total: ForecastRow
    currency: str = field(default_factory=lambda: settings.DEFAULT_CURRENCY)


def _conditions(period: Period, pipeline=None) -> tuple[Q, Q]:
    """Won in the period, and open closing in it. Stages are named by id (one small query) so that
    each condition is a range on an index of its own ((stage, closed_at) and (stage, close date))
    and the aggregation needs no join."""
    ids = stage_ids_by_kind(pipeline)  # cached stages (crm/lookups.py)
    won_ids, open_ids = ids[StageKind.WON], ids[StageKind.OPEN]
    start, end = period.bounds()
    won = Q(stage_id__in=won_ids, closed_at__gte=start, closed_at__lt=end)
    open_ = (Q(stage_id__in=open_ids, expected_close_date__gte=period.start, expected_close_date__lt=period.end)
             & ~Q(forecast_category=ForecastCategory.OMITTED))
    return won, open_


def _deals(user, *, team: Team | None = None, pipeline=None, owner: User | None = None):
    deals = Opportunity.objects.visible_to(user)
    if team is not None:
        deals = deals.filter(team=team)
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    if owner is not None:
        deals = deals.filter(owner=owner)
    return deals


def forecast(*, user: User, period: Period, group_by: str = OWNER, team: Team | None = None, pipeline=None,
             owner: User | None = None) -> Forecast:
    """The forecast rows for `period`, grouped by owner or team, in three queries."""
    if forecast_scope(user) == visibility.Scope.OWN:
        group_by = OWNER  # a rep's forecast is their own row
    won, open_ = _conditions(period, pipeline)
    key = "owner_id" if group_by == OWNER else "team_id"
    weighted = ExpressionWrapper(F("amount_base") * F("probability"), output_field=DecimalField())
    sums = {"won": Sum("amount_base", filter=won), "won_count": Count("id", filter=won),
            "weighted": Sum(weighted, filter=open_), "open_count": Count("id", filter=open_)}
    for name, category in CATEGORY_FIGURES.items():
        condition = open_ & Q(forecast_category=category)
        sums[name] = Sum("amount_base", filter=condition)
        sums[f"{name}_count"] = Count("id", filter=condition)
    figures = {
        row[key]: row
        for row in _deals(user, team=team, pipeline=pipeline, owner=owner).filter(won | open_)
        .values(key).annotate(**sums).order_by()
    }

    rows = _owner_rows(user, period, figures, team=team, owner=owner) if group_by == OWNER else \
        _team_rows(user, period, figures, team=team, owner=owner)
    for row in rows:
        found = figures.get(row.key)
        if not found:
            continue
        for name in ("won", "commit", "best_case", "pipeline"):
            setattr(row, name, found[name] or ZERO)
        for name in ("won_count", "commit_count", "best_case_count", "pipeline_count", "open_count"):
            setattr(row, name, found[name])
        row.weighted = round_money((found["weighted"] or ZERO) / 100, settings.DEFAULT_CURRENCY)

    total = ForecastRow(key=None, label=_("Total"), is_total=True)
    targets = [row.target for row in rows if row.target is not None]
    total.target = sum(targets, ZERO) if targets else None
    for name in (*FIGURES, "won_count", "commit_count", "best_case_count", "pipeline_count", "open_count"):
        setattr(total, name, sum((getattr(row, name) for row in rows), ZERO if name in FIGURES else 0))
    return Forecast(period=period, group_by=group_by, rows=rows, total=total)


def _owner_rows(user, period, figures, *, team, owner) -> list[ForecastRow]:
    people = Q(people_condition(user))
    if team is not None:
        people &= Q(team_id=team.pk)
    if owner is not None:
        people &= Q(pk=owner.pk)
    # Owners with figures are shown even when they left sales or the team (their deals still count).
    people |= Q(pk__in=[pk for pk in figures if pk is not None])
    users = list(User.objects.filter(people).order_by("first_name", "last_name", "email"))
    rows = [ForecastRow(key=person.pk, label=str(person)) for person in users]
    _apply_targets(rows, period, SalesTarget.objects.filter(user_id__in=[row.key for row in rows]), "user_id")
    return rows


def _team_rows(user, period, figures, *, team, owner) -> list[ForecastRow]:
    teams = visible_teams(user)
    if team is not None:
        teams = teams.filter(pk=team.pk)
    if owner is not None:
        teams = teams.filter(pk=owner.team_id)
    teams = Team.objects.filter(Q(pk__in=teams.values("pk")) | Q(pk__in=[pk for pk in figures if pk is not None]))
    rows = [ForecastRow(key=row.pk, label=row.name) for row in teams.order_by("name")]
    if None in figures:
        rows.append(ForecastRow(key=None, label=_("No team")))
    _apply_targets(rows, period, SalesTarget.objects.filter(team_id__in=[row.key for row in rows if row.key]),
                   "team_id")
    return rows


def _apply_targets(rows: list[ForecastRow], period: Period, targets, key: str) -> None:
    """A row's target is its own target for the period; a quarter without one adds up the
    targets of its months (when any is set)."""
    own, monthly = {}, {}
    for target in targets.filter(period_start__gte=period.start, period_start__lt=period.end):
        subject = getattr(target, key)
        if target.period == period.kind and target.period_start == period.start:
            own[subject] = target
        elif period.kind == TargetPeriod.QUARTER and target.period == TargetPeriod.MONTH:
            monthly.setdefault(subject, []).append(target)
    for row in rows:
        if row.key in own:
            row.target, row.target_deals = own[row.key].amount, own[row.key].deal_count
        elif row.key in monthly:
            months = monthly[row.key]
            row.target = sum((target.amount for target in months), ZERO)
            counts = [target.deal_count for target in months if target.deal_count is not None]
            row.target_deals = sum(counts) if counts else None
            row.target_from_months = True


def forecast_deals(*, user: User, period: Period, figure: str, group_by: str = OWNER, key: str = "",
                   team: Team | None = None, pipeline=None, owner: User | None = None):
    """The deals behind one figure of the forecast (a row's, or the total's when `key` is empty),
    through the same visibility and conditions as the figures."""
    won, open_ = _conditions(period, pipeline)
    deals = _deals(user, team=team, pipeline=pipeline, owner=owner)
    if figure == "won":
        deals = deals.filter(won)
    elif figure in CATEGORY_FIGURES:
        deals = deals.filter(open_, forecast_category=CATEGORY_FIGURES[figure])
    elif figure == "weighted":
        deals = deals.filter(open_)
    else:
        deals = deals.filter(won | open_)
    if forecast_scope(user) == visibility.Scope.OWN:
        group_by = OWNER
    if key:
        if group_by == TEAM:
            deals = deals.filter(team__isnull=True) if key == NO_TEAM else deals.filter(team_id=_int(key))
        else:
            deals = deals.filter(owner_id=_int(key))
    deals = visibility.with_visibility_flag(deals, user, "account")
    return deals.select_related("account", "stage", "owner", "pipeline", "team").order_by("-amount_base", "id")


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
