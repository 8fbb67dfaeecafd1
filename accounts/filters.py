import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, AccountType

ANY_YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class AccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    type = django_filters.ChoiceFilter(label=_("Type"), choices=AccountType.choices)
    industry = django_filters.CharFilter(label=_("Industry"), lookup_expr="iexact")
    is_vip = django_filters.BooleanFilter(label=_("VIP"), widget=forms.Select(choices=ANY_YES_NO))
    mine = django_filters.BooleanFilter(label=_("Owner"), method="only_mine", widget=forms.Select(choices=[
        ("", _("Anyone I may see")), ("true", _("Only mine"))]))

    class Meta:
        model = Account
        fields = ["q", "type", "industry", "is_vip", "mine"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__iexact=value) | Q(tax_number=value))

    def only_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset
