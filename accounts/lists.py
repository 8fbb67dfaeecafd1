"""The accounts list, declared (crm/lists.py renders it)."""

import functools

from django.contrib import messages
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.filters import AccountFilter
from accounts.models import Account
from crm.lists import (
    BulkAction,
    BulkRefused,
    Choice,
    Column,
    ExportColumn,
    Link,
    ListPage,
    both_ways,
    bulk_owner,
    choice_label,
)
from crm.urlcache import plain_url

ABC_BADGE = {"A": "success", "B": "primary"}  # any other class: secondary


NO_RANKING = SafeString('<span class="text-body-secondary">—</span>')


@functools.cache
def _ranking_words(language: str) -> tuple[str, str, str]:
    return gettext("ABC class"), gettext("RFM class"), gettext("score %(score)s")


def ranking_badges(account) -> str:
    """The account's ABC and RFM badges, each a link to the accounts of its class: the markup of
    accounts/_ranking_badges.html (the account page's heading), written in Python for the list's rows
    (the list's URL, the words and the class labels looked up once, not per row: crm.urlcache, choice_label)."""
    if not account.abc_class and not account.rfm_class:
        return NO_RANKING
    url = plain_url("accounts:list")
    abc_words, rfm_words, score_words = _ranking_words(get_language())
    html = SafeString()
    if account.abc_class:
        html += format_html(
            '<a class="badge rounded-pill text-bg-{} text-decoration-none" href="{}?abc_class={}" '
            'title="{}: {}">{}</a>',
            ABC_BADGE.get(account.abc_class, "secondary"), url, account.abc_class, abc_words,
            choice_label(Account, "abc_class", account.abc_class), account.abc_class)
    if account.rfm_class:
        title = rfm_words
        if account.rfm_score:
            title += " (" + score_words % {"score": account.rfm_score} + ")"
        html += format_html(' <a class="badge rounded-pill text-bg-light border text-decoration-none" '
                            'href="{}?rfm_class={}" title="{}">{}</a>', url, account.rfm_class, title,
                            choice_label(Account, "rfm_class", account.rfm_class))
    return html


def assign(request, accounts):
    owner = bulk_owner(request)
    if owner is None:
        raise BulkRefused(_("Choose whom to assign the accounts to."))
    count = services.accounts_assign(actor=request.user, accounts=accounts, owner=owner)
    messages.success(request, ngettext("%(count)s account assigned to %(owner)s.",
                                       "%(count)s accounts assigned to %(owner)s.", count)
                     % {"count": count, "owner": owner})


def tag(add: bool):
    def run(request, accounts):
        count = services.accounts_tag(actor=request.user, accounts=accounts, tag=request.POST.get("tag", ""), add=add)
        messages.success(request, ngettext("%(count)s account changed.", "%(count)s accounts changed.", count)
                         % {"count": count})
    return run


class AccountList(ListPage):
    model = Account
    filterset = AccountFilter
    title = _("Accounts")
    url_name = "accounts:list"
    bulk_url_name = "accounts:bulk"
    table_id = "account-table"
    columns = (
        Column(_("Company name"), cell=Link(text="name", badge=("is_vip", _("VIP"))), sort="name", card="title"),
        Column(_("Type"), cell=Choice("type"), sort="type", card="status"),
        Column(_("Industry"), value="industry", card="sub"),
        Column(_("Phone"), value="phone", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
        Column(_("ABC / RFM"), cell=ranking_badges, nowrap=True),
        Column(_("Updated"), value="updated_at", format="date", sort="updated", card="date", nowrap=True),
    )
    sorts = {**both_ways(name=("name",), updated=("updated_at",)),
             "type": ("type", "name", "id"), "-type": ("-type", "name", "id")}
    default_sort = "name"
    primary_filters = ("q", "scope", "type")
    bulk_actions = (
        BulkAction("assign", _("Assign to…"), assign, needs="owner"),
        BulkAction("add_tag", _("Add tag"), tag(add=True), needs="tag"),
        BulkAction("remove_tag", _("Remove tag"), tag(add=False), needs="tag"),
    )
    export_columns = (
        ExportColumn(_("Company name"), "name"), ExportColumn(_("Legal name"), "legal_name"),
        ExportColumn(_("Type"), "get_type_display"), ExportColumn(_("Industry"), "industry"),
        ExportColumn(_("Tax number"), "tax_number"), ExportColumn(_("Phone"), "phone"),
        ExportColumn(_("E-mail"), "email"), ExportColumn(_("Website"), "website"),
        ExportColumn(_("Country"), "country"), ExportColumn(_("City"), "city"), ExportColumn(_("Owner"), "owner"),
        ExportColumn(_("Tags"), "tags"), ExportColumn(_("ABC class"), "abc_class"),
        ExportColumn(_("RFM class"), "get_rfm_class_display"), ExportColumn(_("Created"), "created_at"),
    )
    export_filename = "accounts"
    export_ordering = ("name", "id")
    export_target = "accounts.account"
    saved_views = "accounts.account"
    built_in_views = (
        (_("My accounts"), "scope=mine"),
        (_("My team's VIP customers"), "scope=team&type=customer&is_vip=true"),
        (_("Recently changed"), "sort=-updated"),
    )
    noun_plural = _("accounts")
    nothing_ticked = _("Tick at least one account first.")
    skipped = ngettext_lazy("%(count)s ticked account is read-only for you and was left as it was.",
                            "%(count)s ticked accounts are read-only for you and were left as they were.", "count")
    empty_icon = "building"
    empty_text = _("Accounts are the companies you sell to and serve. Every contact, deal and ticket hangs off one.")
    empty_filtered_text = _("No account matches these filters.")
    create_url_name = "accounts:create"
    create_label = _("New account")
    actions_template = "accounts/list_cells.html#actions"

    def queryset(self):
        return Account.objects.visible_to(self.user).select_related("owner")  # the rows show no territory

    def export_rows(self, ids):
        return super().export_rows(ids).select_related("owner")
