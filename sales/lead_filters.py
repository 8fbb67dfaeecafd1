import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models import LeadSource
from crm import custom_fields
from crm.models import CustomFieldTarget
from crm.pagination import bounded_matches
from crm.phones import looks_like_phone, phone_candidates, search_regions
from sales.models import Lead, LeadRating, LeadStatus

OWNER_CHOICES_SHOWN = 200


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  help_text=_("Name, company, e-mail or phone."))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=LeadStatus.choices, method="with_status")
    source = django_filters.ChoiceFilter(label=_("Source"), choices=LeadSource.choices)
    rating = django_filters.ChoiceFilter(label=_("Rating"), choices=LeadRating.choices)
    owner = django_filters.ChoiceFilter(label=_("Owner"), method="with_owner", choices=[])
    # The lead-source dashboard's links (reports/sources.py): leads created in a period, the reader's time zone.
    created_from = django_filters.DateFilter(label=_("Created from"), field_name="created_at", lookup_expr="date__gte",
                                             widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    created_to = django_filters.DateFilter(label=_("Created until"), field_name="created_at", lookup_expr="date__lte",
                                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    # The marketing dashboard's links (reports/marketing_figures.py): the leads attributed to a campaign.
    campaign = django_filters.NumberFilter(label=_("Source campaign"), field_name="attribution__campaign",
                                           widget=forms.HiddenInput)

    class Meta:
        model = Lead
        fields = ["q", "status", "source", "rating", "owner", "created_from", "created_to", "campaign"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from crm.visibility import assignable_owners

        user = self.request.user
        people = list(assignable_owners(user).exclude(pk=user.pk).order_by("first_name", "last_name", "id")
                      .only("id", "first_name", "last_name", "email")[:OWNER_CHOICES_SHOWN])
        self.filters["owner"].extra["choices"] = [
            ("me", _("Me")), ("none", _("Nobody (in a queue)")), *((str(p.pk), str(p)) for p in people)]
        self.filters["status"].extra["choices"] = [("open", _("Open (new, working, qualified)")),
                                                   *LeadStatus.choices]
        custom_fields.add_filters(self, CustomFieldTarget.LEAD)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if "@" in value:
            return queryset.filter(email=value.lower())  # stored lower-cased
        if looks_like_phone(value):
            numbers = phone_candidates(value, search_regions(getattr(self.request, "user", None)))
            return queryset.filter(phone_e164__in=numbers) if numbers else queryset.none()
        return bounded_matches(queryset, Q(last_name__icontains=value) | Q(company__icontains=value))

    def with_status(self, queryset, name, value):
        if value == "open":
            return queryset.open()
        return queryset.filter(status=value) if value else queryset

    def with_owner(self, queryset, name, value):
        if value == "me":
            return queryset.filter(owner=self.request.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset

