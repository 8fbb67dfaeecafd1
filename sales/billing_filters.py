"""List filters of orders and invoices (also used by their exports and the API)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Territory
from sales.models import Invoice, InvoiceStatus, Order, OrderLine, OrderStatus, Punctuality

ANY_YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Number"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices)
    account = django_filters.NumberFilter(field_name="account_id", widget=forms.HiddenInput)
    mine = django_filters.BooleanFilter(label=_("Only mine"), method="only_mine", widget=forms.CheckboxInput)

    class Meta:
        model = Order
        fields = ["q", "status", "account", "mine"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(number__icontains=value) if value else queryset

    def only_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset


class OrderListFilter(OrderFilter):
    """The order list's filters, with those the customers dashboard's purchase and shipment figures link with
    (reports/customers.py): direct purchases, an order-date range, a region, a product family (or none), an
    owner, and the orders shipped in a range of days (by their first shipment) on time, late or with no
    promised date."""

    purchase = django_filters.ChoiceFilter(label=_("Direct purchases"), method="only_purchases",
                                           choices=[("true", _("Yes")), ("false", _("No"))],
                                           widget=forms.HiddenInput)
    ordered_from = django_filters.DateFilter(label=_("Ordered from"), field_name="ordered_on", lookup_expr="gte",
                                             widget=forms.HiddenInput)
    ordered_to = django_filters.DateFilter(label=_("Ordered until"), field_name="ordered_on", lookup_expr="lte",
                                           widget=forms.HiddenInput)
    territory = django_filters.ModelChoiceFilter(label=_("Territory"), queryset=Territory.objects.all(),
                                                 method="in_territory", widget=forms.HiddenInput)
    product_family = django_filters.CharFilter(label=_("Product family"), method="with_product_family",
                                               widget=forms.HiddenInput)
    no_product_family = django_filters.ChoiceFilter(label=_("No product family"), choices=[("true", _("Yes"))],
                                                    method="without_product_family", widget=forms.HiddenInput)
    owner = django_filters.NumberFilter(label=_("Owner"), field_name="owner_id", widget=forms.HiddenInput)
    # Read together in filter_queryset: they all compare the order's first shipment (Order.objects.shipped).
    shipped_from = django_filters.DateFilter(label=_("Shipped from"), method="applied_together",
                                             widget=forms.HiddenInput)
    shipped_to = django_filters.DateFilter(label=_("Shipped until"), method="applied_together",
                                           widget=forms.HiddenInput)
    punctuality = django_filters.ChoiceFilter(label=_("Delivery"), choices=Punctuality.choices,
                                              method="applied_together", widget=forms.HiddenInput)

    class Meta:
        model = Order
        fields = ["q", "status", "account", "mine", "purchase", "ordered_from", "ordered_to", "territory",
                  "product_family", "no_product_family", "owner", "shipped_from", "shipped_to", "punctuality"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        first, last, punctuality = data.get("shipped_from"), data.get("shipped_to"), data.get("punctuality")
        if first or last or punctuality:
            queryset = queryset.shipped(first, last)
            if punctuality:
                queryset = queryset.punctuality(punctuality)
        return queryset

    def applied_together(self, queryset, name, value):
        return queryset

    def only_purchases(self, queryset, name, value):
        """A direct order (not made from a deal) that is not cancelled: the customer ranking's purchase."""
        if value not in ("true", "false"):
            return queryset
        condition = Q(opportunity__isnull=True) & ~Q(status=OrderStatus.CANCELLED)
        return queryset.filter(condition) if value == "true" else queryset.exclude(condition)

    def in_territory(self, queryset, name, value):
        return queryset.filter(account__territory_id__in=value.subtree_ids())

    def with_product_family(self, queryset, name, value):
        """Orders with at least one line of a product of this family (any case)."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(pk__in=OrderLine.objects.filter(product__family__iexact=value).values("order_id"))

    def without_product_family(self, queryset, name, value):
        """Orders with at least one line whose product has no family, or that names no product."""
        if value != "true":
            return queryset
        lines = OrderLine.objects.filter(Q(product__isnull=True) | Q(product__family=""))
        return queryset.filter(pk__in=lines.values("order_id"))


class InvoiceFilter(OrderFilter):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=InvoiceStatus.choices)
    outstanding = django_filters.BooleanFilter(label=_("Not fully paid"), method="only_outstanding",
                                               widget=forms.Select(choices=ANY_YES_NO))
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="only_overdue",
                                           widget=forms.Select(choices=ANY_YES_NO))
    # The customers dashboard's ageing links (reports/customers.py): a bucket is a range of due dates.
    due_after = django_filters.DateFilter(label=_("Due from"), field_name="due_date", lookup_expr="gte",
                                          widget=forms.HiddenInput)
    due_before = django_filters.DateFilter(label=_("Due until"), field_name="due_date", lookup_expr="lte",
                                           widget=forms.HiddenInput)
    owner = django_filters.NumberFilter(label=_("Owner"), field_name="owner_id", widget=forms.HiddenInput)

    class Meta:
        model = Invoice
        fields = ["q", "status", "outstanding", "overdue", "due_after", "due_before", "account", "owner", "mine"]

    def only_outstanding(self, queryset, name, value):
        if value is None:
            return queryset
        condition = Q(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID])
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def only_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = Q(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID],
                      due_date__lt=timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)
