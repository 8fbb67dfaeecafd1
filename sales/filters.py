import datetime
import re

import django_filters
from django import forms
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import custom_fields, lookups, visibility
from crm.choices import LeadSource
from crm.models import CustomFieldTarget, Team, Territory, User
from crm.pagination import bounded_matches
from crm.roles import Role
from sales.models import (
    ForecastCategory,
    LostReason,
    Opportunity,
    OpportunityContactRole,
    OpportunityLine,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SCOPES = [("", _("Anyone I may see")), ("mine", _("Only mine")), ("team", _("My team's"))]
STATUSES = [(StageKind.OPEN, _("Open")), (StageKind.WON, _("Won")), (StageKind.LOST, _("Lost"))]


SELLERS = [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP]


def people_visible_to(user: User, model: type[Model]) -> QuerySet[User]:
    """People who own deals and whose deals the user may see (to offer as an owner filter)."""
    people = User.objects.filter(is_active=True, role__in=SELLERS)
    if visibility.read_scope(user, model) != visibility.Scope.ALL:
        people = people.filter(Q(pk=user.pk) | Q(team_id__in=[*visibility.managed_team_ids(user), user.team_id]))
    return people.order_by("first_name", "last_name")


def teams_visible_to(user: User, model: type[Model]) -> QuerySet[Team]:
    """All teams for a user who sees every deal; else their own team and the ones they manage."""
    if visibility.read_scope(user, model) == visibility.Scope.ALL:
        return Team.objects.all()
    return Team.objects.filter(pk__in=[*visibility.managed_team_ids(user), user.team_id])


# The same two answers for the filter selects, from cached lookups (crm/lookups.py) instead of two
# queries per page; each keeps exactly the rows its queryset above keeps.
def _sellers() -> list[User]:
    return list(User.objects.filter(is_active=True, role__in=SELLERS).only(
        "id", "first_name", "last_name", "email", "team_id", "role", "is_active"))


lookups.register("sellers", _sellers, models=("crm.user",))


def people_choices(user: User, model: type[Model]) -> list[User]:
    people = lookups.get("sellers")
    if visibility.read_scope(user, model) == visibility.Scope.ALL:
        return people
    teams = {*visibility.managed_team_ids(user), user.team_id} - {None}  # SQL's IN never matches NULL
    return [person for person in people if person.pk == user.pk or person.team_id in teams]


def team_choices(user: User, model: type[Model]) -> list[Team]:
    teams = lookups.get("teams")
    if visibility.read_scope(user, model) == visibility.Scope.ALL:
        return teams
    mine = {*visibility.managed_team_ids(user), user.team_id}
    return [team for team in teams if team.pk in mine]


def _pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.all())


def _stages() -> list[Stage]:
    return list(Stage.objects.select_related("pipeline"))


lookups.register("pipelines", _pipelines, models=("sales.pipeline",))
lookups.register("stages", _stages, models=("sales.stage", "sales.pipeline"))


def stage_ids_by_kind(pipeline=None) -> dict[str, list[int]]:
    """Stage ids per kind (open, won, lost), of one pipeline or all: from the cached stages."""
    ids: dict[str, list[int]] = {kind: [] for kind in StageKind.values}
    for stage in lookups.get("stages"):
        if pipeline is None or stage.pipeline_id == getattr(pipeline, "pk", pipeline):
            ids[stage.kind].append(stage.pk)
    return ids


def cached_deal_choices(form, user: User, **fields: str) -> None:
    """Fills the owner / team / pipeline / stage / territory selects named in `fields` (form field
    name -> which) from the cached lookups."""
    rows = {"owner": lambda: people_choices(user, Opportunity), "team": lambda: team_choices(user, Opportunity),
            "pipeline": lambda: lookups.get("pipelines"), "stage": lambda: lookups.get("stages"),
            "territory": lambda: lookups.get("territories")}
    for name, which in fields.items():
        if name in form.fields:
            lookups.show_choices(form.fields[name], rows[which]())


def reached_stage_condition(stage: Stage) -> Q:
    """A deal reached an open stage when its history holds a move to that stage or a later open one (by
    position) of the same pipeline, or when it was won there: the funnel counts (reports) and the list's
    "got as far as" filter share this condition."""
    later = StageChange.objects.filter(to_stage__pipeline_id=stage.pipeline_id, to_stage__kind=StageKind.OPEN,
                                       to_stage__position__gte=stage.position).values("opportunity_id")
    won = Stage.objects.filter(pipeline_id=stage.pipeline_id, kind=StageKind.WON).values("id")
    return Q(pipeline_id=stage.pipeline_id) & (Q(pk__in=later) | Q(stage_id__in=won))


def competitor_regex(name: str) -> str:
    """One of the comma-separated entries of `competitors` is this name (the reports count the same way)."""
    return r"(^|,)\s*" + re.escape(name.strip()) + r"\s*(,|$)"


def idle_condition(days: int, now: datetime.datetime | None = None) -> Q:
    """A deal with no activity in the last `days` days: no call, meeting, note or e-mail dated between
    then and now, and no task done since then (an open task is a plan, not contact). The sales manager's
    dashboard counts with the same condition. Activities sit above sales (docs/architecture.md), so the
    model is reached through the deals' reverse relation rather than imported."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    activity = Opportunity._meta.get_field("activities").related_model
    touched = activity.objects.filter(opportunity_id=OuterRef("pk"), deleted_at__isnull=True).filter(
        (~Q(kind="task") & Q(occurred_at__gte=since, occurred_at__lte=now))
        | Q(kind="task", status="done", completed_at__gte=since, completed_at__lte=now))
    return ~Exists(touched)


def use_small_controls(filterset) -> None:
    """Bootstrap classes on the filter panel's widgets, so the template renders them in a plain loop
    (crispy's per-field templates cost ~10 ms on a sixteen-field panel)."""
    for field in filterset.form.fields.values():
        if isinstance(field.widget, forms.HiddenInput):
            continue
        is_select = isinstance(field.widget, forms.Select)
        field.widget.attrs["class"] = "form-select form-select-sm" if is_select else "form-control form-control-sm"


def deal_ids_of_contact(contact_id: int):
    """The ids of the deals where the contact is the primary contact or has a role, as one UNION subquery:
    written as `primary_contact = x OR id IN (roles)` the planner cannot use either index and walks every
    deal in the list's order (9 ms at 22,000 deals, linear in the deals)."""
    primary = Opportunity.objects.filter(primary_contact_id=contact_id).order_by().values("pk")
    with_role = OpportunityContactRole.objects.filter(contact_id=contact_id).order_by().values("opportunity_id")
    return primary.union(with_role)


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    scope = django_filters.ChoiceFilter(label=_("Owner"), choices=SCOPES[1:], empty_label=SCOPES[0][1],
                                        method="by_scope")
    owner = django_filters.ModelChoiceFilter(label=_("Owned by"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    pipeline = django_filters.ModelChoiceFilter(label=_("Pipeline"), queryset=Pipeline.objects.all())
    stage = django_filters.ModelChoiceFilter(label=_("Stage"), queryset=Stage.objects.select_related("pipeline"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=STATUSES, method="with_status")
    forecast_category = django_filters.ChoiceFilter(label=_("Forecast category"), choices=ForecastCategory.choices)
    territory = django_filters.ModelChoiceFilter(label=_("Territory"), queryset=Territory.objects.all(),
                                                 method="in_territory")
    lead_source = django_filters.ChoiceFilter(label=_("Lead source"), choices=LeadSource.choices)
    industry = django_filters.CharFilter(label=_("Industry"), field_name="account__industry", lookup_expr="iexact")
    lost_reason = django_filters.ChoiceFilter(label=_("Lost reason"), choices=LostReason.choices)
    competitor = django_filters.CharFilter(label=_("Competitor"), method="with_competitor")
    product_family = django_filters.CharFilter(label=_("Product family"), method="with_product_family")
    close_from = django_filters.DateFilter(label=_("Closing from"), field_name="expected_close_date",
                                           lookup_expr="gte", widget=DATE_INPUT)
    close_to = django_filters.DateFilter(label=_("Closing until"), field_name="expected_close_date",
                                         lookup_expr="lte", widget=DATE_INPUT)
    closed_from = django_filters.DateFilter(label=_("Closed from"), field_name="closed_at", lookup_expr="date__gte",
                                            widget=DATE_INPUT)
    closed_to = django_filters.DateFilter(label=_("Closed until"), field_name="closed_at", lookup_expr="date__lte",
                                          widget=DATE_INPUT)
    created_from = django_filters.DateFilter(label=_("Created from"), field_name="created_at",
                                             lookup_expr="date__gte", widget=DATE_INPUT)
    created_to = django_filters.DateFilter(label=_("Created until"), field_name="created_at", lookup_expr="date__lte",
                                           widget=DATE_INPUT)
    # The marketing dashboard's links (reports/marketing_figures.py): the deals attributed to a campaign.
    campaign = django_filters.NumberFilter(label=_("Source campaign"), field_name="attribution__campaign",
                                           widget=forms.HiddenInput)
    # The funnel's drill-down (reports): deals that got at least this far, and deals that moved on from a stage.
    # Hidden: set by the funnel's links, shown as a chip (no extra select, no extra query on the list).
    reached_stage = django_filters.ModelChoiceFilter(label=_("Got as far as"), method="filter_reached",
                                                     field_name="stage",
                                                     queryset=Stage.objects.filter(kind=StageKind.OPEN),
                                                     widget=forms.HiddenInput)
    left_stage = django_filters.ModelChoiceFilter(label=_("Moved on from"), method="filter_left",
                                                  field_name="stage",
                                                  queryset=Stage.objects.filter(kind=StageKind.OPEN),
                                                  widget=forms.HiddenInput)
    amount_min = django_filters.NumberFilter(label=_("Amount from"), field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(label=_("Amount up to"), field_name="amount", lookup_expr="lte")
    idle_days = django_filters.NumberFilter(label=_("No activity for (days)"), method="with_no_activity",
                                            min_value=1, max_value=3650)
    account = django_filters.NumberFilter(field_name="account_id", widget=forms.HiddenInput)
    contact = django_filters.NumberFilter(label=_("Contact"), method="filter_contact", widget=forms.HiddenInput)

    class Meta:
        model = Opportunity
        fields = []

    def filter_contact(self, queryset, name, value):
        """Deals where the contact is the primary contact or has a role."""
        return queryset.filter(pk__in=deal_ids_of_contact(value))

    def with_product_family(self, queryset, name, value):
        """Deals with at least one line of a product of this family (any case)."""
        value = value.strip()
        if not value:
            return queryset
        lines = OpportunityLine.objects.filter(product__family__iexact=value).values("opportunity_id")
        return queryset.filter(pk__in=lines)

    def with_competitor(self, queryset, name, value):
        """Deals naming this competitor as one of their comma-separated competitors (any case)."""
        value = value.strip()[:100]
        return queryset.filter(competitors__iregex=competitor_regex(value)) if value else queryset

    def with_no_activity(self, queryset, name, value):
        """Open deals with nothing done on them in the last `value` days (see idle_condition)."""
        return queryset.filter(stage_id__in=stage_ids_by_kind()[StageKind.OPEN]).filter(idle_condition(int(value)))

    def filter_reached(self, queryset, name, stage):
        """Deals of the stage's pipeline that were once in this open stage or a later one, or that were won."""
        return queryset.filter(reached_stage_condition(stage))

    def filter_left(self, queryset, name, stage):
        """Deals that moved on from this stage at least once."""
        return queryset.filter(pk__in=StageChange.objects.filter(from_stage=stage).values("opportunity_id"))

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["owner"].queryset = people_visible_to(request.user, Opportunity)
        self.filters["team"].queryset = teams_visible_to(request.user, Opportunity)
        self.filters["stage"].field.label_from_instance = lambda stage: f"{stage.pipeline} › {stage}"
        custom_fields.add_filters(self, CustomFieldTarget.OPPORTUNITY)
        use_small_controls(self)
        cached_deal_choices(self.form, request.user, owner="owner", team="team", pipeline="pipeline", stage="stage",
                            territory="territory")

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return bounded_matches(queryset, Q(name__icontains=value))

    def by_scope(self, queryset, name, value):
        user = self.request.user
        if value == "mine":
            return queryset.filter(owner=user)
        if value == "team":
            return queryset.filter(team_id__in={*visibility.managed_team_ids(user), user.team_id} - {None})
        return queryset

    def with_status(self, queryset, name, value: str):
        # By stage ids (a short list) rather than a join on the stage: the list keeps its index order.
        return queryset.filter(stage_id__in=stage_ids_by_kind().get(value, []))

    def in_territory(self, queryset, name, value):
        return queryset.filter(account__territory_id__in=value.subtree_ids())


class BoardFilter(django_filters.FilterSet):
    """The board's filters: whose deals, which region, closing which month."""

    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("Team"), queryset=Team.objects.all())
    territory = django_filters.ModelChoiceFilter(label=_("Territory"), queryset=Territory.objects.all(),
                                                 method="in_territory")
    close_month = django_filters.CharFilter(label=_("Closing in"), method="in_month",
                                            widget=forms.TextInput(attrs={"type": "month"}))

    class Meta:
        model = Opportunity
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.filters["owner"].queryset = people_visible_to(request.user, Opportunity)
        self.filters["team"].queryset = teams_visible_to(request.user, Opportunity)
        use_small_controls(self)
        cached_deal_choices(self.form, request.user, owner="owner", team="team", territory="territory")

    def in_territory(self, queryset, name, value):
        return queryset.filter(account__territory_id__in=value.subtree_ids())

    def in_month(self, queryset, name, value):
        try:
            year, month = (int(part) for part in value.split("-"))
            if not 1 <= month <= 12 or not 2000 <= year <= 2100:
                raise ValueError
        except ValueError:
            return queryset
        first = datetime.date(year, month, 1)
        after = datetime.date(year + month // 12, month % 12 + 1, 1)
        return queryset.filter(expected_close_date__gte=first, expected_close_date__lt=after)
