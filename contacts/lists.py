"""The contacts list, declared (crm/lists.py renders it)."""

from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from contacts.filters import ContactFilter
from contacts.models import Contact
from crm.lists import Column, Link, ListPage, both_ways


class ContactList(ListPage):
    model = Contact
    filterset = ContactFilter
    title = _("Contacts")
    url_name = "contacts:list"
    bulk_url_name = "contacts:bulk"  # the list has no actions of its own; other modules register theirs
    table_id = "contact-table"
    columns = (
        Column(_("Name"), cell=Link(note="title"), sort="name", card="title"),
        Column(_("Account"), cell=Link(target="account", when="account_visible"), card="sub"),
        Column(_("E-mail"), value="primary_email"),
        Column(_("Phone"), value="primary_phone", format="phone", card="status", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
        Column(_("Updated"), value="updated_at", format="date", sort="updated", card="date", nowrap=True),
    )
    sorts = both_ways(name=("last_name", "first_name"), updated=("updated_at",))
    default_sort = "name"
    primary_filters = ("q", "mine", "email_opt_in")
    export_target = "contacts.contact"
    saved_views = "contacts.contact"
    built_in_views = (
        (_("My contacts"), "mine=true"),
        (_("Agreed to marketing e-mail"), "email_opt_in=true"),
    )
    noun_plural = _("contacts")
    empty_icon = "person-lines-fill"
    empty_text = _("Contacts are the people you talk to: at your customers, partners and prospects.")
    empty_filtered_text = _("No contact matches these filters.")
    create_url_name = "contacts:create"
    create_label = _("New contact")
    actions_template = "contacts/list_cells.html#contact_actions"

    def queryset(self):
        return Contact.objects.visible_to(self.user).select_related("owner", "account")

    def decorate(self, rows):
        """Whether the user may open each shown contact's account (`account_visible`), in one query for the
        page's accounts. As an annotation (`with_visibility_flag`) it joined the accounts into the bounded
        count and the deep pages' id list too: 16-18 against 6-8 ms for the count and 34-42 against
        5-6 ms for page 200's ids at 20,000 contacts (docs/benchmarks.md, issue 16)."""
        ids = {row.account_id for row in rows if row.account_id}
        visible = set(Account.objects.visible_to(self.user).filter(pk__in=ids).values_list("pk", flat=True)
                      ) if ids else set()
        for row in rows:
            row.account_visible = row.account_id in visible
