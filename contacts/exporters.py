"""The contact list's export (found by the exports app's autodiscovery): the rows and filters of
the contacts page, through the visibility policy; an account the reader may not see is left blank."""

from django.utils.translation import gettext_lazy as _

from contacts.filters import ContactFilter
from contacts.models import Contact
from crm.visibility import with_visibility_flag
from exports.registry import Exporter, join_list, register


def _contacts(user):
    return with_visibility_flag(Contact.objects.visible_to(user).select_related("owner", "account"), user,
                                "account").order_by("last_name", "first_name", "id")


def _contact_filter():
    return ContactFilter


register(Exporter(
    target="contacts.contact", label=_("Contacts"), list_url="contacts:list",
    queryset=_contacts, filterset=_contact_filter,
    columns=[
        (_("ID"), lambda c: c.pk), (_("First name"), lambda c: c.first_name),
        (_("Middle name"), lambda c: c.middle_name), (_("Last name"), lambda c: c.last_name),
        (_("Job title"), lambda c: c.title), (_("Department"), lambda c: c.department),
        (_("Account"), lambda c: c.account if c.account_visible else ""),
        (_("Account tax number"), lambda c: c.account.tax_number if c.account_visible and c.account else ""),
        (_("E-mails"), lambda c: join_list(c.emails)), (_("Phones"), lambda c: join_list(c.phones)),
        (_("Numbers to check"), lambda c: join_list(c.phones_to_check)),
        (_("Website"), lambda c: c.website),
        (_("Birthday"), lambda c: c.birthday), (_("Street address"), lambda c: c.address),
        (_("City"), lambda c: c.city), (_("Region"), lambda c: c.region), (_("Postal code"), lambda c: c.postal_code),
        (_("Country"), lambda c: c.country),
        (_("Lead source"), lambda c: c.get_lead_source_display()), (_("Tags"), lambda c: join_list(c.tags)),
        (_("Notes"), lambda c: c.description),
        (_("Agreed to marketing e-mail"), lambda c: c.email_opt_in), (_("Do not call"), lambda c: c.do_not_call),
        (_("Owner"), lambda c: c.owner), (_("Created"), lambda c: c.created_at),
    ],
))
