"""Filters of the quotes list (also used by its export and the API)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import visibility
from crm.models import User
from sales.models import ApprovalStatus, Quote, QuoteStatus

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QuoteFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Number, title or customer name."))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=QuoteStatus.choices)
    approval_status = django_filters.ChoiceFilter(label=_("Discount approval"), choices=ApprovalStatus.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owned by"), queryset=User.objects.none())
    account = django_filters.NumberFilter(field_name="account_id", widget=forms.HiddenInput)
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", widget=forms.HiddenInput)
    issued_from = django_filters.DateFilter(label=_("Dated from"), field_name="issue_date", lookup_expr="gte",
                                            widget=DATE_INPUT)
    issued_to = django_filters.DateFilter(label=_("Dated until"), field_name="issue_date", lookup_expr="lte",
                                          widget=DATE_INPUT)

    class Meta:
        model = Quote
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = request.user
        people = User.objects.filter(is_active=True)
        if visibility.read_scope(user, Quote) != visibility.Scope.ALL:
            people = people.filter(Q(pk=user.pk) | Q(team_id__in=[*visibility.managed_team_ids(user), user.team_id]))
        self.filters["owner"].queryset = people.order_by("first_name")

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value)
                               | Q(account__name__icontains=value))
