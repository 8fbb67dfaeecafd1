"""Filters of the activity list: whose, which kind, when it happened or was done, overdue tasks. The
sales manager's dashboard (reports/team.py) links to this list with exactly these parameters."""

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.models import Activity, ActivityKind, TaskStatus
from crm import visibility
from crm.models import User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YES = [("1", _("Yes"))]


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of `day` in the reader's time zone (the dashboard's periods are read the same way)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


class ActivityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", help_text=_("Subject."))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ActivityKind.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owned by"), queryset=User.objects.none())
    status = django_filters.ChoiceFilter(label=_("Task status"), choices=TaskStatus.choices)
    overdue = django_filters.ChoiceFilter(label=_("Overdue tasks"), choices=YES, method="only_overdue")
    occurred_from = django_filters.DateFilter(label=_("Dated from"), method="dated_from", widget=DATE_INPUT)
    occurred_to = django_filters.DateFilter(label=_("Dated until"), method="dated_to", widget=DATE_INPUT)
    done_from = django_filters.DateFilter(label=_("Done from"), method="done_since", widget=DATE_INPUT)
    done_to = django_filters.DateFilter(label=_("Done until"), method="done_until", widget=DATE_INPUT)
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", widget=forms.HiddenInput)

    class Meta:
        model = Activity
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = request.user
        people = User.objects.filter(is_active=True)
        if visibility.read_scope(user, Activity) != visibility.Scope.ALL:
            people = people.filter(Q(pk=user.pk) | Q(team_id__in=[*visibility.managed_team_ids(user), user.team_id]))
        self.filters["owner"].queryset = people.order_by("first_name", "last_name")

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(subject__icontains=value) if value else queryset

    def only_overdue(self, queryset, name, value):
        """Open tasks whose due time has passed (the same rule as My day and the dashboard)."""
        return queryset.filter(kind=ActivityKind.TASK, status=TaskStatus.OPEN, occurred_at__lt=timezone.now())

    def dated_from(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=_day_start(value))

    def dated_to(self, queryset, name, value):
        return queryset.filter(occurred_at__lt=_day_start(value + datetime.timedelta(days=1)))

    def done_since(self, queryset, name, value):
        return queryset.filter(status=TaskStatus.DONE, completed_at__gte=_day_start(value))

    def done_until(self, queryset, name, value):
        return queryset.filter(status=TaskStatus.DONE,
                               completed_at__lt=_day_start(value + datetime.timedelta(days=1)))
