import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import User
from marketing.models import Campaign, CampaignStatus, CampaignType, Segment, StaticList

SCOPES = [("", _("Anyone's")), ("mine", _("Only mine"))]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CampaignStatus.choices, empty_label=_("Any status"))
    type = django_filters.ChoiceFilter(label=_("Type"), choices=CampaignType.choices, empty_label=_("Any type"))
    scope = django_filters.ChoiceFilter(label=_("Owner"), choices=SCOPES[1:], empty_label=SCOPES[0][1],
                                        method="by_scope")
    owner = django_filters.ModelChoiceFilter(label=_("Owned by"), queryset=User.objects.none())
    starts_after = django_filters.DateFilter(label=_("Starts from"), field_name="start_date", lookup_expr="gte",
                                             widget=DATE_INPUT)
    starts_before = django_filters.DateFilter(label=_("Starts until"), field_name="start_date", lookup_expr="lte",
                                              widget=DATE_INPUT)
    parent = django_filters.NumberFilter(label=_("Part of"), field_name="parent_id", widget=forms.HiddenInput)

    class Meta:
        model = Campaign
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        # Campaigns are read by every role that reads them at all: every active colleague may own one.
        self.filters["owner"].queryset = User.objects.filter(is_active=True).order_by("first_name", "last_name")

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value)) if value else queryset

    def by_scope(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value == "mine" else queryset


class SegmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    scope = django_filters.ChoiceFilter(label=_("Owner"), choices=SCOPES[1:], empty_label=SCOPES[0][1],
                                        method="by_scope")

    class Meta:
        model = Segment
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__icontains=value) if value else queryset

    def by_scope(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value == "mine" else queryset


class StaticListFilter(SegmentFilter):
    class Meta:
        model = StaticList
        fields = []
