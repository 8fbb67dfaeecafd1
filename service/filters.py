from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from contacts.models import Contact
from crm import custom_fields
from crm.pagination import bounded_matches
from service.kb_services import text_query
from service.models import (
    ACTIVE_STATUSES,
    OPEN_WORK_ORDER_STATUSES,
    SALES_ROLES,
    Article,
    ArticleAudience,
    ArticleCategory,
    ArticleStatus,
    Category,
    Channel,
    Contract,
    ContractKind,
    Priority,
    Queue,
    Skill,
    SlaState,
    Status,
    Ticket,
    WorkLog,
    WorkOrder,
    WorkOrderStatus,
)

VIEWS = [("", _("Open tickets")), ("mine", _("My open tickets")), ("unassigned", _("Unassigned")),
         ("all", _("All, solved and closed too"))]
# Sales never works a ticket: "mine" is the open tickets of the customers the user owns (not a teammate's
# shared ones, nor, for a manager, the team's), and nothing waits unassigned for them.
SALES_VIEWS = [("", _("Open tickets")), ("mine", _("My customers' open tickets")),
               ("all", _("All, solved and closed too"))]


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    view = django_filters.ChoiceFilter(label=_("Show"), choices=VIEWS[1:], empty_label=VIEWS[0][1],
                                       method="by_view")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices, empty_label=_("Any status"))
    # "Any" as the filter's empty label, not a choice: the API schema then lists only the real values
    # (an empty string among integers made client generators skip the whole endpoint).
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices,
                                           empty_label=_("Any priority"))
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
    # The service dashboard's links (reports/service_figures.py): solved in a period, SLA kept, reopened.
    resolved_after = django_filters.DateFilter(label=_("Solved from"), field_name="resolved_at",
                                               lookup_expr="date__gte", widget=forms.HiddenInput)
    resolved_before = django_filters.DateFilter(label=_("Solved until"), field_name="resolved_at",
                                                lookup_expr="date__lte", widget=forms.HiddenInput)
    sla_met = django_filters.BooleanFilter(label=_("SLA kept"), field_name="sla_met", widget=forms.HiddenInput)
    reopened = django_filters.BooleanFilter(label=_("Reopened"), method="was_reopened", widget=forms.HiddenInput)
    # Complaints by product and contract coverage (the same dashboard).
    product = django_filters.NumberFilter(label=_("Product"), field_name="product_id", widget=forms.HiddenInput)
    covered = django_filters.BooleanFilter(label=_("Under a contract or warranty"), field_name="contract",
                                           lookup_expr="isnull", exclude=True, widget=forms.HiddenInput)

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        custom_fields.add_filters(self, "service.ticket")  # the admin's filterable ticket fields
        if self._for_sales():
            view = self.filters["view"]
            view.extra["choices"] = SALES_VIEWS[1:]
            # A form field built before (the API schema reads the class's filters) was deep-copied with the
            # agents' choices: drop it, so it is built again with these.
            view.__dict__.pop("_field", None)

    def _for_sales(self) -> bool:
        user = getattr(self.request, "user", None)
        return bool(user is not None and user.is_authenticated and user.role in SALES_ROLES and not user.is_superuser)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return bounded_matches(queryset, Q(search_text__icontains=value))

    def was_reopened(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(reopened_count__gt=0) if value else queryset.filter(reopened_count=0)

    def by_view(self, queryset, name, value):
        if value == "mine" and self._for_sales():
            # Ids from the user's own rows (a few hundred), not joins: at a million tickets the joins read every
            # open ticket's account and contact (77 ms); the subqueries let the open-tickets index stop at a page.
            user = self.request.user
            accounts = Account._base_manager.filter(owner=user).values("id")
            contacts = Contact._base_manager.filter(owner=user).values("id")
            return queryset.filter(Q(account_id__in=accounts) | Q(account__isnull=True, contact_id__in=contacts),
                                   status__in=ACTIVE_STATUSES)
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


class ArticleFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ArticleStatus.choices, empty_label=_("Any status"))
    audience = django_filters.ChoiceFilter(label=_("Readers"), choices=ArticleAudience.choices, empty_label=_("Anyone"))
    category = django_filters.ModelChoiceFilter(label=_("Category"), queryset=ArticleCategory.objects.all(),
                                                empty_label=_("Any category"))
    tag = django_filters.CharFilter(label=_("Tag"), method="with_tag")

    class Meta:
        model = Article
        fields = []

    def search(self, queryset, name, value):
        """Every word of the search, in English or Russian word forms (full text)."""
        query = text_query(value)
        return queryset if query is None else queryset.filter(search_vector=query)

    def with_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value.strip()]) if value.strip() else queryset


CONTRACT_STATES = [("in_force", _("In force")), ("expiring", _("Ending within 60 days")), ("expired", _("Expired")),
                   ("upcoming", _("Not started"))]


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    state = django_filters.ChoiceFilter(label=_("State"), choices=CONTRACT_STATES, empty_label=_("Any"),
                                        method="in_state")
    kind = django_filters.ChoiceFilter(label=_("Type"), choices=ContractKind.choices, empty_label=_("Any type"))
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", widget=forms.HiddenInput)
    # The service dashboard's "ending within N days" links (reports/service_figures.py).
    ends_before = django_filters.DateFilter(label=_("Ends on or before"), field_name="ends_on", lookup_expr="lte",
                                            widget=forms.HiddenInput)

    class Meta:
        model = Contract
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return bounded_matches(queryset, Q(name__icontains=value) | Q(number__iexact=value)
                               | Q(serial_number__iexact=value))

    def in_state(self, queryset, name, value):
        today = timezone.localdate()
        if value == "in_force":
            return queryset.filter(starts_on__lte=today, ends_on__gte=today)
        if value == "expiring":
            return queryset.filter(starts_on__lte=today, ends_on__gte=today,
                                   ends_on__lte=today + timedelta(days=60))
        if value == "expired":
            return queryset.filter(ends_on__lt=today)
        if value == "upcoming":
            return queryset.filter(starts_on__gt=today)
        return queryset


WORK_ORDER_VIEWS = [("mine", _("My visits")), ("open", _("Open")), ("unbilled", _("With unbilled work"))]


class WorkOrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    view = django_filters.ChoiceFilter(label=_("Show"), choices=WORK_ORDER_VIEWS, empty_label=_("All"),
                                       method="by_view")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=WorkOrderStatus.choices,
                                         empty_label=_("Any status"))
    skill = django_filters.ModelChoiceFilter(label=_("Skill"), queryset=Skill.objects.all(), empty_label=_("Any skill"))
    day = django_filters.DateFilter(label=_("Visit on"), field_name="scheduled_start", lookup_expr="date",
                                    widget=forms.DateInput(attrs={"type": "date"}))
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", widget=forms.HiddenInput)
    ticket = django_filters.NumberFilter(label=_("Ticket"), field_name="ticket_id", widget=forms.HiddenInput)

    class Meta:
        model = WorkOrder
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return bounded_matches(queryset, Q(number__iexact=value) | Q(ticket__number__iexact=value)
                               | Q(ticket__subject__icontains=value) | Q(address__icontains=value))

    def by_view(self, queryset, name, value):
        if value == "mine":
            return queryset.filter(owner=self.request.user)
        if value == "open":
            return queryset.filter(status__in=OPEN_WORK_ORDER_STATUSES)
        if value == "unbilled":
            return queryset.filter(pk__in=WorkLog.objects.filter(work_order__isnull=False,
                                                                 billed_order__isnull=True).values("work_order_id"))
        return queryset
