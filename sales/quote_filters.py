"""Filters of the quotes list (also used by its export and the API)."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from crm import visibility
from crm.models import User
from sales.models import ApprovalStatus, PriceBookEntry, Quote, QuoteLine, QuoteStatus

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


YES = [("1", _("Yes"))]
# A quote's discount counts once it reached the customer: drafts were never offered, and a superseded
# version is replaced by the next one (counting both would count the discount twice).
NOT_OFFERED = [QuoteStatus.DRAFT, QuoteStatus.SUPERSEDED]


def discount_condition() -> Q:
    """An offered quote with a discount (on a line or overall); the sales manager's dashboard counts these."""
    return ~Q(status__in=NOT_OFFERED) & Q(discount_total__gt=0)


def below_price_book_condition() -> Q:
    """An offered quote with a line priced under its price book's price for the product."""
    entries = PriceBookEntry.objects.filter(price_book_id=OuterRef("quote__price_book_id"),
                                            product_id=OuterRef("product_id"), unit_price__gt=OuterRef("unit_price"))
    lines = QuoteLine.objects.filter(Exists(entries)).values("quote_id")
    return ~Q(status__in=NOT_OFFERED) & Q(price_book__isnull=False, pk__in=lines)


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

    discounted = django_filters.ChoiceFilter(label=_("Discount given"), choices=YES, method="with_discount")
    below_price_book = django_filters.ChoiceFilter(label=_("Priced below the price book"), choices=YES,
                                                   method="with_reduced_price")

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

    def with_discount(self, queryset, name, value):
        return queryset.filter(discount_condition())

    def with_reduced_price(self, queryset, name, value):
        return queryset.filter(below_price_book_condition())

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value)
                               | Q(account__name__icontains=value))
