"""API filters: the list pages' filters (accounts/filters.py, contacts/filters.py) with exact
timestamps for change-based sync (`updated_after=2026-05-01T12:00:00Z`)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.filters import AccountFilter
from activities.models import Activity, ActivityKind, TaskStatus
from contacts.filters import ContactFilter


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class ChangedFilters(django_filters.FilterSet):
    """Exact timestamps (the list pages filter by day)."""

    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created at or after (ISO 8601)"))
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before (ISO 8601)"))
    updated_after = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed at or after (ISO 8601)"))
    updated_before = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="lt", label=_("Changed before (ISO 8601)"))


class AccountApiFilter(ChangedFilters, AccountFilter):
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    parent = IdFilter(field_name="parent_id", label=_("Parent account id"))

    class Meta(AccountFilter.Meta):
        pass


class ContactApiFilter(ChangedFilters, ContactFilter):
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    account = IdFilter(field_name="account_id", label=_("Account id"))

    class Meta(ContactFilter.Meta):
        fields = [*ContactFilter.Meta.fields, "owner"]


class ActivityApiFilter(ChangedFilters):
    q = django_filters.CharFilter(label=_("Search in the subject"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ActivityKind.choices)
    status = django_filters.ChoiceFilter(label=_("Task status"), choices=TaskStatus.choices)
    account = IdFilter(field_name="account_id", label=_("Account id"))
    contact = IdFilter(field_name="contact_id", label=_("Contact id"))
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    mine = django_filters.BooleanFilter(label=_("Only mine"), method="only_mine")
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Happens at or after (ISO 8601)"))
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Happens before (ISO 8601)"))

    class Meta:
        model = Activity
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(subject__icontains=value)) if value else queryset

    def only_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset
