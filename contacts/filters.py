import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact, LeadSource
from crm import custom_fields
from crm.filtering import OwnFormFields
from crm.models import CustomFieldTarget
from crm.pagination import bounded_matches
from crm.phones import looks_like_phone, phone_candidates, search_regions


class ContactFilter(OwnFormFields, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    lead_source = django_filters.ChoiceFilter(label=_("Lead source"), choices=LeadSource.choices)
    tag = django_filters.CharFilter(label=_("Tag"), method="with_tag")
    email_opt_in = django_filters.BooleanFilter(label=_("Agreed to marketing e-mail"), widget=forms.Select(
        choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]))
    mine = django_filters.BooleanFilter(label=_("Owner"), method="only_mine", widget=forms.Select(choices=[
        ("", _("Anyone I may see")), ("true", _("Only mine"))]))
    account = django_filters.NumberFilter(field_name="account_id", widget=forms.HiddenInput)
    do_not_call = django_filters.BooleanFilter(label=_("Do not call"), widget=forms.Select(choices=[
        ("", _("Any")), ("true", _("Yes")), ("false", _("No"))]))

    class Meta:
        model = Contact
        fields = ["q", "lead_source", "tag", "email_opt_in", "do_not_call", "mine", "account"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        custom_fields.add_filters(self, CustomFieldTarget.CONTACT)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if "@" in value:
            return queryset.with_email(value)
        if looks_like_phone(value):
            numbers = phone_candidates(value, search_regions(getattr(self.request, "user", None)))
            return queryset.with_phone(numbers) if numbers else queryset.none()
        return bounded_matches(queryset, Q(full_name__icontains=value))

    def with_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value.strip()]) if value.strip() else queryset

    def only_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset
