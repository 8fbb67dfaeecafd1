import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import AbcClass, Account, AccountTier, AccountType, RfmClass
from crm import custom_fields, lookups, visibility
from crm.choices import LeadSource
from crm.filtering import OwnFormFields
from crm.models import CustomFieldTarget, Territory, User
from crm.pagination import bounded_matches
from crm.phones import looks_like_phone, phone_candidates, search_regions

ANY_YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
SCOPES = [("", _("Anyone I may see")), ("mine", _("Only mine")), ("team", _("My team's"))]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
UNRANKED = "none"  # the ranking filters' value for "no class" (no purchase in the window)


def _ranking_choices(choices):
    return [*choices, (UNRANKED, _("No class"))]


class AccountFilter(OwnFormFields, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    scope = django_filters.ChoiceFilter(label=_("Owner"), choices=SCOPES[1:], empty_label=SCOPES[0][1],
                                        method="by_scope")
    owner = django_filters.ModelChoiceFilter(label=_("Owned by"), queryset=User.objects.none())
    type = django_filters.ChoiceFilter(label=_("Type"), choices=AccountType.choices)
    industry = django_filters.CharFilter(label=_("Industry"), lookup_expr="iexact")
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=AccountTier.choices)
    is_vip = django_filters.BooleanFilter(label=_("VIP"), widget=forms.Select(choices=ANY_YES_NO))
    territory = django_filters.ModelChoiceFilter(label=_("Territory"), queryset=Territory.objects.all(),
                                                 method="in_territory")
    lead_source = django_filters.ChoiceFilter(label=_("Lead source"), choices=LeadSource.choices)
    tag = django_filters.CharFilter(label=_("Tag"), method="with_tag")
    # The customer ranking (reports/ranking.py); the `*_previous` ones are the dashboard's movement links.
    abc_class = django_filters.ChoiceFilter(label=_("ABC class"), choices=_ranking_choices(AbcClass.choices),
                                            method="by_ranking")
    rfm_class = django_filters.ChoiceFilter(label=_("RFM class"), choices=_ranking_choices(RfmClass.choices),
                                            method="by_ranking")
    abc_previous = django_filters.ChoiceFilter(label=_("ABC class last month"),
                                               choices=_ranking_choices(AbcClass.choices), method="by_ranking",
                                               widget=forms.HiddenInput)
    rfm_previous = django_filters.ChoiceFilter(label=_("RFM class last month"),
                                               choices=_ranking_choices(RfmClass.choices), method="by_ranking",
                                               widget=forms.HiddenInput)
    purchases_min = django_filters.NumberFilter(label=_("Purchases in 12 months, at least"),
                                                field_name="purchases_12m", lookup_expr="gte", min_value=0)
    # The customers dashboard's churn risk (reports/customers.py): accounts whose last purchase fell in a range.
    last_purchase_after = django_filters.DateFilter(label=_("Last purchase from"), field_name="last_purchase_on",
                                                    lookup_expr="gte", widget=DATE_INPUT)
    last_purchase_before = django_filters.DateFilter(label=_("Last purchase until"), field_name="last_purchase_on",
                                                     lookup_expr="lte", widget=DATE_INPUT)
    created_after = django_filters.DateFilter(label=_("Created from"), field_name="created_at", lookup_expr="date__gte",
                                              widget=DATE_INPUT)
    created_before = django_filters.DateFilter(label=_("Created until"), field_name="created_at",
                                               lookup_expr="date__lte", widget=DATE_INPUT)
    updated_after = django_filters.DateFilter(label=_("Changed from"), field_name="updated_at",
                                              lookup_expr="date__gte", widget=DATE_INPUT)
    updated_before = django_filters.DateFilter(label=_("Changed until"), field_name="updated_at",
                                               lookup_expr="date__lte", widget=DATE_INPUT)

    class Meta:
        model = Account
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = request.user
        # Only people whose records the user may see are offered.
        people = User.objects.filter(is_active=True)
        offered = lookups.get("people")  # the same people, cached (crm/lookups.py), in a refinement of this order
        if visibility.read_scope(user, Account) != visibility.Scope.ALL:
            teams = [*visibility.managed_team_ids(user), user.team_id]
            people = people.filter(Q(pk=user.pk) | Q(team_id__in=teams))
            offered = [person for person in offered
                       if person.pk == user.pk or (person.team_id is not None and person.team_id in teams)]
        self.filters["owner"].queryset = people.order_by("first_name")
        custom_fields.add_filters(self, CustomFieldTarget.ACCOUNT)
        # The owner and territory selects from cached lookups (crm/lookups.py): a query less for each per page;
        # a submitted id is still checked against the queryset.
        lookups.show_choices(self.form.fields["owner"], offered)
        lookups.show_choices(self.form.fields["territory"], lookups.get("territories"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(name__icontains=value) | Q(email__iexact=value) | Q(tax_number=value)
        numbers = phone_candidates(value, search_regions(getattr(self.request, "user", None))) \
            if looks_like_phone(value) else []
        if numbers:
            condition |= Q(phone_e164__in=numbers)
        return bounded_matches(queryset, condition)

    def by_scope(self, queryset, name, value):
        user = self.request.user
        if value == "mine":
            return queryset.filter(owner=user)
        if value == "team":
            teams = {*visibility.managed_team_ids(user), user.team_id} - {None}
            return queryset.filter(team_id__in=teams)
        return queryset

    def by_ranking(self, queryset, name, value):
        return queryset.filter(**{name: "" if value == UNRANKED else value})

    def in_territory(self, queryset, name, value):
        return queryset.filter(territory_id__in=value.subtree_ids())

    def with_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value.strip()]) if value.strip() else queryset
