import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.pagination import bounded_matches
from service.models import ACTIVE_STATUSES, Category, Channel, Priority, Queue, SlaState, Status, Ticket

VIEWS = [("", _("Open tickets")), ("mine", _("My open tickets")), ("unassigned", _("Unassigned")),
         ("all", _("All, solved and closed too"))]


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    view = django_filters.ChoiceFilter(label=_("Show"), choices=VIEWS[1:], empty_label=VIEWS[0][1],
                                       method="by_view")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices, empty_label=_("Any status"))
    priority = django_filters.TypedChoiceFilter(label=_("Priority"), coerce=int,
                                                choices=[("", _("Any priority")), *Priority.choices])
    sla_state = django_filters.ChoiceFilter(label=_("SLA"), choices=SlaState.choices, empty_label=_("Any"))
    queue = django_filters.ModelChoiceFilter(label=_("Queue"), queryset=Queue.objects.all(),
                                             empty_label=_("Any queue"))
    category = django_filters.ChoiceFilter(label=_("Category"), choices=Category.choices,
                                           empty_label=_("Any category"))
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices, empty_label=_("Any channel"))
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", widget=forms.HiddenInput)
    contact = django_filters.NumberFilter(label=_("Contact"), field_name="contact_id", widget=forms.HiddenInput)
    created_after = django_filters.DateFilter(label=_("Opened from"), field_name="created_at",
                                              lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"}))
    created_before = django_filters.DateFilter(label=_("Opened until"), field_name="created_at",
                                               lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Ticket
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return bounded_matches(queryset, Q(search_text__icontains=value))

    def by_view(self, queryset, name, value):
        if value == "mine":
            return queryset.filter(owner=self.request.user, status__in=ACTIVE_STATUSES)
        if value == "unassigned":
            return queryset.filter(owner__isnull=True, status__in=ACTIVE_STATUSES)
        return queryset

    def filter_queryset(self, queryset):
        """Without a view or a status, the list shows the open tickets."""
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not data.get("view") and not data.get("status"):
            queryset = queryset.filter(status__in=ACTIVE_STATUSES)
        return queryset
