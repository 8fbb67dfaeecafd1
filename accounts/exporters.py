"""The account list's export (found by the exports app's autodiscovery): the rows and filters of
the accounts page, through the visibility policy."""

from django.utils.translation import gettext_lazy as _

from accounts.filters import AccountFilter
from accounts.models import Account
from exports.registry import Exporter, join_list, register


def _accounts(user):
    return Account.objects.visible_to(user).select_related("owner", "territory").order_by("name", "id")


def _account_filter():
    return AccountFilter


register(Exporter(
    target="accounts.account", label=_("Accounts"), list_url="accounts:list",
    queryset=_accounts, filterset=_account_filter,
    columns=[
        (_("ID"), lambda a: a.pk), (_("Company name"), lambda a: a.name), (_("Legal name"), lambda a: a.legal_name),
        (_("Type"), lambda a: a.get_type_display()), (_("Industry"), lambda a: a.industry),
        (_("Tier"), lambda a: a.get_tier_display()), (_("VIP"), lambda a: a.is_vip),
        (_("Tax number"), lambda a: a.tax_number), (_("Phone"), lambda a: a.phone), (_("E-mail"), lambda a: a.email),
        (_("Website"), lambda a: a.website), (_("Country"), lambda a: a.country), (_("City"), lambda a: a.city),
        (_("Billing address"), lambda a: a.address), (_("Shipping address"), lambda a: a.shipping_address),
        (_("Lead source"), lambda a: a.get_lead_source_display()), (_("Description"), lambda a: a.description),
        (_("Territory"), lambda a: a.territory), (_("Owner"), lambda a: a.owner),
        (_("Tags"), lambda a: join_list(a.tags)),
        (_("Annual revenue"), lambda a: a.annual_revenue), (_("Employees"), lambda a: a.employees),
        (_("Created"), lambda a: a.created_at), (_("Changed"), lambda a: a.updated_at),
    ],
))
