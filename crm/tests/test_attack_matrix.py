"""The attack matrix, generated from the URL configuration (issue 14, "The attack matrix, in CI").

Every URL pattern that takes a parameter is listed in TABLE with its category and how to fill each
parameter from one "world" of records that `owner` keeps private (team A). A pattern missing from the
table fails the suite, naming it: a new URL must be classified before it lands.

Each URL is tried with GET and POST (the API also with PATCH and DELETE):
- by the users who must not reach it (another team's rep, a role without that kind of data, another
  user for personal objects, a non-admin for settings, a portal user of another account, a staff
  session on portal pages) -> 404 / 403 / the sign-in page, and the owner's private names never appear;
- by the users who may read but not change it -> never a 500, and nothing changes;
- anonymously -> the sign-in page (401/403 for the API);
- with each id replaced by a missing one, by a user who sees the world -> 404.
Nothing may change: the database is fingerprinted (an md5 of every row of every table, pghistory's
event tables included) before and after each URL.

The fuzz half (every list, search, autocomplete and API list answering GET, fed NUL bytes, 10,000
characters, bad dates, NaN/Infinity and unknown sort fields) is in test_fuzz_matrix.py.
"""

import datetime
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.tests.factories import AccountFactory
from activities.models import Activity
from contacts.tests.factories import ContactFactory
from crm.api import tokens
from crm.models import CustomField, Notification, Role, SavedView
from crm.tests.factories import TerritoryFactory, UserFactory
from exports.models import ExportJob
from imports.models import ImportJob
from marketing.models import (
    BouncedAddress,
    CallList,
    CallListItem,
    CampaignCost,
    CampaignMember,
    EmailTemplate,
    EmailTemplateVersion,
    Mailing,
    Segment,
    StaticList,
    Topic,
    WebForm,
)
from marketing.tests.factories import CampaignFactory
from portal.models import Survey
from portal.tests.factories import PORTAL_PASSWORD, PortalUserFactory
from reports.models import DeliveryStatus, ReportDelivery, ReportSubscription, SavedReport
from sales.models import (
    CompanyProfile,
    CurrencyRate,
    Invoice,
    LeadAssignmentRule,
    OpportunityContactRole,
    OpportunityLine,
    Order,
    Payment,
    ProductDocument,
    Quote,
    QuoteLine,
)
from sales.tests.factories import LeadFactory, OpportunityFactory, PriceBookEntryFactory
from service import contract_services, field_services
from service import services as ticket_services
from service.models import Article, ImapMailbox, TicketAttachment
from service.tests.factories import QueueFactory
from webhooks.tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db

SECRET = "Zq7Secret"  # in the name of every private record of the world: never in a refusal
MISSING = 987_654_321
FORGED = "forged-0123456789abcdef"
# URL patterns the matrix does not walk: Django's own admin (staff-only, its own tests) and the old
# contacts/leads/ addresses, which redirect to sales/leads/ without looking at anything.
SKIPPED_PREFIXES = ("django-admin/", "^contacts/leads/")


# --- The URL table -------------------------------------------------------------------------------
# Categories (what a refused caller must get):
OWNED = "owned"  # a private record of `owner`: `hidden` roles get 404, `readers` may read but change nothing
CATALOGUE = "catalogue"  # global data everyone reads: a rep's writes answer 403/404
ADMIN = "admin"  # settings: every non-admin gets 403 (or 404)
PERSONAL = "personal"  # one user's own object (export, import, saved view, token...): another user gets 404
TOKEN = "token"  # a signed or secret token in the address: a forged one answers 404 or an error page
PORTAL = "portal"  # a portal user's own data: a portal user of another account gets 404
PORTAL_PUBLIC = "portal-public"  # portal pages every portal user reads (help articles)
ANY_STAFF = "any-staff"  # an action every signed-in staff user may take (a helpful vote on an article)

# Who may not see / may only read a private record of `owner`, per visibility policy (crm/visibility.py).
# One reader each (a role that sees the record but may not change it), to keep the matrix fast.
CUSTOMER = {"hidden": ("outsider",), "readers": ("support_agent",)}
ACTIVITY = CUSTOMER
SALES = {"hidden": ("outsider", "support_agent", "marketer"), "readers": ("executive",)}
LEAD = {"hidden": ("outsider", "support_agent"), "readers": ("marketer",)}
# Sales reads its customers' tickets; the desk runs with agents narrowed to their team's queues
# (SERVICE_AGENTS_SEE=team-queues, set for the whole matrix): an agent of another team's queue sees nothing.
TICKET = {"hidden": ("outsider", "marketer", "queue_agent"), "readers": ("owner",)}
# Satisfaction surveys: the desk and executives read them (FEEDBACK_DATA) on the tickets they see.
SURVEY = {"hidden": ("outsider", "marketer", "owner", "queue_agent"), "readers": ("executive",)}
CONTRACT = {"hidden": ("outsider", "marketer"), "readers": ("support_agent",)}
CAMPAIGN = {"hidden": ("support_agent",), "readers": ("outsider",)}
# Inviting a customer to the portal: the desk does it for any customer it reads; sales and marketing never.
PORTAL_ACCESS = {"hidden": ("outsider",), "readers": ("marketer",)}


@dataclass(frozen=True)
class Entry:
    category: str
    params: dict  # URL kwarg -> key of the world (its pk) or a literal string (tokens, kinds)
    hidden: tuple = ()
    readers: tuple = ()
    touches: tuple = ()  # tables a read may update (a view counter), checked column by column at the end


def owned(rules: dict, **params) -> Entry:
    return Entry(OWNED, params, rules["hidden"], rules["readers"])


def catalogue(**params) -> Entry:
    return Entry(CATALOGUE, params)


def admin(**params) -> Entry:
    return Entry(ADMIN, params)


def personal(**params) -> Entry:
    return Entry(PERSONAL, params)


def token(**params) -> Entry:
    return Entry(TOKEN, params)


def portal(**params) -> Entry:
    return Entry(PORTAL, params)


T = {"token": FORGED}
TABLE = {
    # Reports, profile, calendar
    "report_unsubscribe": personal(pk="report_subscription"),
    "saved_report": personal(pk="saved_report"),
    "report_copy": personal(pk="saved_report"),
    "report_delete": personal(pk="saved_report"),
    "saved_report_schedules": personal(pk="saved_report"),
    "schedule_delete": personal(pk="report_schedule"),
    "run_retry": personal(pk="report_run"),
    "api_token_revoke": personal(pk="api_token"),
    "calendar_feed": token(**T),
    # Accounts and contacts
    "accounts:detail": owned(CUSTOMER, pk="account"),
    "accounts:edit": owned(CUSTOMER, pk="account"),
    "accounts:delete": owned(CUSTOMER, pk="account"),
    "accounts:merge": owned(CUSTOMER, pk="account"),
    "contacts:detail": owned(CUSTOMER, pk="contact"),
    "contacts:edit": owned(CUSTOMER, pk="contact"),
    "contacts:delete": owned(CUSTOMER, pk="contact"),
    "contacts:merge": owned(CUSTOMER, pk="contact"),
    "contacts:personal_data": owned(CUSTOMER, pk="contact"),
    "contacts:erase": owned(CUSTOMER, pk="contact"),
    # The API (token header)
    "api:account-detail": owned(CUSTOMER, pk="account"),
    "api:contact-detail": owned(CUSTOMER, pk="contact"),
    "api:campaign-detail": owned(CAMPAIGN, pk="campaign"),
    "api:opportunity-detail": owned(SALES, pk="opportunity"),
    "api:pipeline-detail": catalogue(pk="pipeline"),
    "api:order-detail": owned(SALES, pk="order"),
    "api:invoice-detail": owned(SALES, pk="invoice"),
    "api:payment-detail": owned(SALES, pk="payment"),
    "api:product-detail": catalogue(pk="product"),
    "api:price-book-detail": catalogue(pk="price_book"),
    "api:quote-detail": owned(SALES, pk="quote"),
    "api:lead-detail": owned(LEAD, pk="lead"),
    "api:ticket-detail": owned(TICKET, pk="ticket"),
    "api:ticket-messages": owned(TICKET, pk="ticket"),
    "api:survey-detail": owned(SURVEY, pk="survey"),
    "api:work-order-detail": owned(TICKET, pk="work_order"),
    "api:article-detail": catalogue(pk="article"),
    "api:contract-detail": owned(CONTRACT, pk="contract"),
    "api:activity-detail": owned(ACTIVITY, pk="activity"),
    # Sales: deals
    "sales:opportunity_detail": owned(SALES, pk="opportunity"),
    "sales:opportunity_edit": owned(SALES, pk="opportunity"),
    "sales:opportunity_delete": owned(SALES, pk="opportunity"),
    "sales:opportunity_stage": owned(SALES, pk="opportunity"),
    "sales:contact_role_add": owned(SALES, pk="opportunity"),
    "sales:contact_role_remove": owned(SALES, pk="opportunity", role_pk="contact_role"),
    "sales:opportunity_win_from_quote": owned(SALES, quote_pk="quote"),
    "sales:opportunity_lines": owned(SALES, pk="opportunity"),
    "sales:opportunity_line_add": owned(SALES, pk="opportunity"),
    "sales:opportunity_lines_use_total": owned(SALES, pk="opportunity"),
    "sales:opportunity_line_edit": owned(SALES, pk="opportunity", line_pk="opportunity_line"),
    "sales:opportunity_line_delete": owned(SALES, pk="opportunity", line_pk="opportunity_line"),
    "sales:forecast_deal_category": owned(SALES, pk="opportunity"),
    # The board of a pipeline shows only the deals the user sees (checked: no private name in it).
    "sales:board": catalogue(pk="pipeline"),
    "sales:board_column": catalogue(pk="pipeline", stage_pk="stage"),
    "sales:pipeline_edit": admin(pk="pipeline"),
    # Sales: the catalogue
    "sales:product_detail": catalogue(pk="product"),
    "sales:product_edit": catalogue(pk="product"),
    "sales:product_set_active": catalogue(pk="product"),
    "sales:product_delete": catalogue(pk="product"),
    "sales:product_document_upload": catalogue(pk="product"),
    "sales:product_document_download": catalogue(pk="product", document_pk="product_document"),
    "sales:product_document_delete": catalogue(pk="product", document_pk="product_document"),
    "sales:price_book_detail": catalogue(pk="price_book"),
    "sales:price_book_edit": catalogue(pk="price_book"),
    "sales:price_book_delete": catalogue(pk="price_book"),
    "sales:price_book_entry_add": catalogue(pk="price_book"),
    "sales:price_book_entry_edit": catalogue(pk="price_book", entry_pk="price_book_entry"),
    "sales:price_book_entry_remove": catalogue(pk="price_book", entry_pk="price_book_entry"),
    "sales:currency_rate_delete": catalogue(pk="currency_rate"),
    # Sales: quotes, orders, invoices
    "sales:quote_detail": owned(SALES, pk="quote"),
    "sales:quote_edit": owned(SALES, pk="quote"),
    "sales:quote_delete": owned(SALES, pk="quote"),
    "sales:quote_line_add": owned(SALES, pk="quote"),
    "sales:quote_line_edit": owned(SALES, pk="quote", line_pk="quote_line"),
    "sales:quote_line_delete": owned(SALES, pk="quote", line_pk="quote_line"),
    "sales:quote_pdf": owned(SALES, pk="quote"),
    "sales:quote_send": owned(SALES, pk="quote"),
    "sales:quote_request_approval": owned(SALES, pk="quote"),
    "sales:quote_approve": owned(SALES, pk="quote"),
    "sales:quote_reject_approval": owned(SALES, pk="quote"),
    "sales:quote_accept": owned(SALES, pk="quote"),
    "sales:quote_reject": owned(SALES, pk="quote"),
    "sales:quote_revise": owned(SALES, pk="quote"),
    "sales:order_create_from_quote": owned(SALES, pk="quote"),
    "sales:order_detail": owned(SALES, pk="order"),
    "sales:order_status": owned(SALES, pk="order"),
    "sales:order_promise": owned(SALES, pk="order"),
    "sales:order_shipment_add": owned(SALES, pk="order"),
    "sales:invoice_create_from_order": owned(SALES, pk="order"),
    "sales:invoice_detail": owned(SALES, pk="invoice"),
    "sales:invoice_pdf": owned(SALES, pk="invoice"),
    "sales:payment_add": owned(SALES, pk="invoice"),
    "sales:invoice_cancel": owned(SALES, pk="invoice"),
    "sales:account_receivables": owned(SALES, pk="account"),
    # Sales: leads and their assignment rules
    "sales:lead_rule_edit": admin(pk="lead_rule"),
    "sales:lead_rule_delete": admin(pk="lead_rule"),
    "sales:lead_rule_move": admin(pk="lead_rule"),
    "sales:lead_detail": owned(LEAD, pk="lead"),
    "sales:lead_edit": owned(LEAD, pk="lead"),
    "sales:lead_status": owned(LEAD, pk="lead"),
    "sales:lead_delete": owned(LEAD, pk="lead"),
    "sales:lead_convert": owned(LEAD, pk="lead"),
    # Service
    "service:ticket_detail": owned(TICKET, pk="ticket"),
    "service:ticket_edit": owned(TICKET, pk="ticket"),
    "service:ticket_reply": owned(TICKET, pk="ticket"),
    "service:ticket_status": owned(TICKET, pk="ticket"),
    "service:ticket_assign": owned(TICKET, pk="ticket"),
    "service:ticket_delete": owned(TICKET, pk="ticket"),
    "service:canned_fill": owned(TICKET, pk="ticket"),
    "service:attachment": owned(TICKET, pk="ticket", attachment_pk="ticket_attachment"),
    "service:article_insert": owned(TICKET, pk="ticket"),
    "service:work_log_add": owned(TICKET, pk="ticket"),
    # Work orders follow their ticket (service/field_models.py); a specialist sees their own visits too.
    "service:work_order_create": owned(TICKET, pk="ticket"),
    "service:work_order_detail": owned(TICKET, pk="work_order"),
    "service:work_order_dispatch": owned(TICKET, pk="work_order"),
    "service:work_order_log": owned(TICKET, pk="work_order"),
    "service:work_order_bill": owned(TICKET, pk="work_order"),
    "service:work_order_action": owned(TICKET, pk="work_order", action="start"),
    "service:article_detail": Entry(CATALOGUE, {"pk": "article"}, touches=("service_article",)),
    "service:article_edit": catalogue(pk="article"),
    "service:article_vote": Entry(ANY_STAFF, {"pk": "article"}),
    "service:contract_detail": owned(CONTRACT, pk="contract"),
    "service:contract_edit": owned(CONTRACT, pk="contract"),
    "service:contract_renew": owned(CONTRACT, pk="contract"),
    "service:setup": catalogue(kind="queues"),
    "service:setup_new": catalogue(kind="queues"),
    "service:setup_edit": catalogue(kind="queues", pk="queue"),
    # The IMAP mailboxes hold a password: the support lead and admins only (MAILBOX_SETUP), 404 for the rest.
    "service:mailbox_check": admin(pk="imap_mailbox"),
    "service:mailbox_read": admin(pk="imap_mailbox"),
    # Marketing
    "marketing:campaign_detail": owned(CAMPAIGN, pk="campaign"),
    "marketing:campaign_edit": owned(CAMPAIGN, pk="campaign"),
    "marketing:campaign_delete": owned(CAMPAIGN, pk="campaign"),
    "marketing:cost_add": owned(CAMPAIGN, pk="campaign"),
    "marketing:cost_remove": owned(CAMPAIGN, pk="campaign", cost_pk="campaign_cost"),
    "marketing:member_add": owned(CAMPAIGN, pk="campaign"),
    "marketing:member_status": owned(CAMPAIGN, pk="campaign", member_pk="campaign_member"),
    "marketing:member_remove": owned(CAMPAIGN, pk="campaign", member_pk="campaign_member"),
    "marketing:lead_attribution": owned(LEAD, lead_pk="lead"),
    "marketing:deal_attribution": owned(SALES, deal_pk="opportunity"),
    "marketing:segment_detail": owned(CAMPAIGN, pk="segment"),
    "marketing:segment_edit": owned(CAMPAIGN, pk="segment"),
    "marketing:segment_delete": owned(CAMPAIGN, pk="segment"),
    "marketing:segment_to_campaign": owned(CAMPAIGN, pk="segment"),
    "marketing:static_list_detail": owned(CAMPAIGN, pk="static_list"),
    "marketing:static_list_edit": owned(CAMPAIGN, pk="static_list"),
    "marketing:static_list_delete": owned(CAMPAIGN, pk="static_list"),
    "marketing:static_list_remove": owned(CAMPAIGN, pk="static_list"),
    "marketing:mailing_create": owned(CAMPAIGN, campaign_pk="campaign"),
    "marketing:mailing_detail": owned(CAMPAIGN, pk="mailing"),
    "marketing:mailing_send": owned(CAMPAIGN, pk="mailing"),
    "marketing:mailing_unschedule": owned(CAMPAIGN, pk="mailing"),
    "marketing:mailing_test": owned(CAMPAIGN, pk="mailing"),
    "marketing:template_detail": owned(CAMPAIGN, pk="email_template"),
    "marketing:template_edit": owned(CAMPAIGN, pk="email_template"),
    "marketing:template_delete": owned(CAMPAIGN, pk="email_template"),
    "marketing:template_test": owned(CAMPAIGN, pk="email_template"),
    "marketing:template_use": owned(CAMPAIGN, pk="email_template"),
    "marketing:product_notice": catalogue(product_pk="product"),
    "marketing:bounce_clear": admin(pk="bounced_address"),
    "marketing:call_list_create": owned(CAMPAIGN, campaign_pk="campaign"),
    "marketing:call_list_detail": owned(CAMPAIGN, pk="call_list"),
    "marketing:call_list_edit": owned(CAMPAIGN, pk="call_list"),
    "marketing:call_list_close": owned(CAMPAIGN, pk="call_list"),
    "marketing:call_list_add": owned(CAMPAIGN, pk="call_list"),
    "marketing:call_list_entries": owned(CAMPAIGN, pk="call_list"),
    "marketing:call_list_work": owned(CAMPAIGN, pk="call_list"),
    "marketing:call_list_log": owned(CAMPAIGN, pk="call_list"),
    "marketing:call_list_release": owned(CAMPAIGN, pk="call_list"),
    "marketing:unsubscribe": token(**T),
    "marketing:preferences": token(**T),
    "marketing:track_open": token(**T),
    "marketing:track_click": token(**T),
    "marketing:topic_edit": admin(pk="topic"),
    "marketing:webform_edit": admin(pk="web_form"),
    "marketing:webform_public": token(**{"key": FORGED}),
    "marketing:webform_embed": token(**{"key": FORGED}),
    "marketing:contact_topics": owned(CUSTOMER, contact_pk="contact"),
    # The customer portal, and its staff pages
    "portal:set_password": token(**T),
    "portal:survey": token(**T),
    "portal:ticket": portal(pk="ticket"),
    "portal:ticket_reply": portal(pk="ticket"),
    "portal:ticket_rate": portal(pk="ticket"),
    "portal:attachment": portal(pk="ticket", attachment_pk="ticket_attachment"),
    "portal:help_article": Entry(PORTAL_PUBLIC, {"pk": "article"}, touches=("service_article",)),
    "portal_staff:invite": owned(PORTAL_ACCESS, contact_pk="contact"),
    "portal_staff:access": owned(PORTAL_ACCESS, contact_pk="contact"),
    # Exports, imports
    "exports:detail": personal(pk="export_job"),
    "exports:download": personal(pk="export_job"),
    "imports:detail": personal(pk="import_job"),
    "imports:mapping": personal(pk="import_job"),
    "imports:preview": personal(pk="import_job"),
    "imports:start": personal(pk="import_job"),
    "imports:errors_csv": personal(pk="import_job"),
    "imports:undo": personal(pk="import_job"),
    "imports:abandon": personal(pk="import_job"),
    # Activities, saved views, notifications
    "activity_detail": owned(ACTIVITY, pk="activity"),
    "activity_edit": owned(ACTIVITY, pk="activity"),
    "activity_complete": owned(ACTIVITY, pk="activity"),
    "activity_delete": owned(ACTIVITY, pk="activity"),
    "saved_view_delete": personal(pk="saved_view"),
    "notification_open": personal(pk="notification"),
    # Sign-in links
    "password_reset_confirm": token(uidb64="owner_uidb64", token=FORGED),
    "invite_accept": token(uidb64="owner_uidb64", token=FORGED),
    # Admin tools
    "user_edit": admin(pk="teammate"),
    "user_set_active": admin(pk="teammate"),
    "user_unlock": admin(pk="teammate"),
    "user_two_factor_reset": admin(pk="teammate"),
    "team_edit": admin(pk="team"),
    "territory_edit": admin(pk="territory"),
    "custom_field_edit": admin(pk="custom_field"),
    "admin_api_token_revoke": admin(pk="api_token"),
    "outbox_message": admin(name="0001-missing.eml"),
    "webhooks:endpoint_edit": admin(pk="webhook_endpoint"),
    "webhooks:endpoint_rotate_secret": admin(pk="webhook_endpoint"),
    "webhooks:endpoint_ping": admin(pk="webhook_endpoint"),
    "webhooks:delivery_detail": admin(pk="webhook_delivery"),
    "webhooks:delivery_resend": admin(pk="webhook_delivery"),
    "background_retry": admin(source="webhooks", pk="webhook_delivery"),
}


# --- Walking the URL configuration -----------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    name: str | None
    route: str
    params: tuple  # the pattern's keyword arguments, in order

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def is_portal(self) -> bool:
        return self.route.startswith("portal/")


def all_routes() -> list[Route]:
    def walk(resolver: URLResolver, prefix: str, namespace: str | None):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
                yield Route(name, prefix + str(pattern.pattern), tuple(pattern.pattern.regex.groupindex))

    routes = []
    for route in walk(get_resolver(), "", None):
        if route.route.startswith(SKIPPED_PREFIXES):
            continue
        params = route.params
        # Nested includes: the outer regex's groups are part of the route text.
        if not params and ("<" in route.route or "(?P<" in route.route):
            params = ("?",)
        routes.append(Route(route.name, route.route, params))
    return routes


def routes_with_parameters() -> list[Route]:
    return [route for route in all_routes() if "<" in route.route or "(?P<" in route.route]


def test_every_url_that_takes_a_parameter_is_in_the_matrix():
    routes = routes_with_parameters()
    assert len(routes) > 150  # the walk found the URL configuration
    unnamed = [route.route for route in routes if not route.name]
    assert not unnamed, f"Name these URL patterns so the attack matrix can classify them: {unnamed}"
    missing = [f"{route.name} ({route.route})" for route in routes if route.name not in TABLE]
    assert not missing, (
        "These URLs take a parameter but have no entry in TABLE (crm/tests/test_attack_matrix.py): "
        f"classify each (owned, catalogue, admin, personal, token, portal) so the matrix tries it: {missing}")
    stale = set(TABLE) - {route.name for route in routes}
    assert not stale, f"TABLE lists URLs that no longer exist: {sorted(stale)}"
    for route in routes:
        assert set(TABLE[route.name].params) == set(route.params), (
            f"{route.name}: TABLE fills {sorted(TABLE[route.name].params)}, the pattern takes {sorted(route.params)}")


# --- The world ---------------------------------------------------------------------------------------
def build_world(cast) -> dict:
    """One of each record the URLs name, all private to `owner` (team A), plus the catalogue, the
    settings rows and the personal objects of `owner`."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    owner, outsider = cast["owner"], cast["outsider"]
    today = datetime.date(2026, 6, 1)
    account = AccountFactory(owner=owner, shared_with_team=False, name=f"{SECRET} Account")
    contact = ContactFactory(owner=owner, shared_with_team=False, account=account, first_name="",
                             last_name=f"{SECRET} Contact", emails=["zq7@example.com"])
    opportunity = OpportunityFactory(owner=owner, shared_with_team=False, account=account, name=f"{SECRET} Deal")
    quote = Quote.objects.create(owner=owner, team=owner.team, number="Q-2026-9001", title=f"{SECRET} Quote",
                                 account=account, opportunity=opportunity, valid_until=datetime.date(2026, 12, 31))
    order = Order.objects.create(owner=owner, team=owner.team, number=f"{SECRET}-O1", account=account,
                                 opportunity=opportunity)
    invoice = Invoice.objects.create(owner=owner, team=owner.team, number=f"{SECRET}-I1", account=account,
                                     due_date=datetime.date(2026, 12, 31))
    # The ticket waits in a queue team A serves; another team's agent works another queue.
    ticket_queue = QueueFactory(name="Team A line")
    ticket_queue.teams.set([owner.team])
    other_queue = QueueFactory(name="Team B line")
    other_queue.teams.set([outsider.team])
    if "queue_agent" in cast:  # the matrix's cast (the fuzz matrix builds the world with the project's)
        other_queue.members.set([cast["queue_agent"]])
    ticket = ticket_services.ticket_create(actor=owner, subject=f"{SECRET} Ticket", account=account, contact=contact,
                                           queue=ticket_queue)
    contract = contract_services.contract_create(actor=owner, name=f"{SECRET} Contract", account=account,
                                                 starts_on=today, ends_on=today + datetime.timedelta(days=365))
    campaign = CampaignFactory(owner=owner, shared_with_team=False, name=f"{SECRET} Campaign")
    static_list = StaticList.objects.create(owner=owner, team=owner.team, name=f"{SECRET} List")
    pipeline = opportunity.pipeline
    product_entry = PriceBookEntryFactory()
    product = product_entry.product
    # The other account's customer, for a portal user of another account.
    other_contact = ContactFactory(owner=outsider, account=AccountFactory(owner=outsider, name="South customer"),
                                   emails=["south@example.com"])
    api_token, _key = tokens.api_token_create(user=owner, name="owner's integration")
    world = {
        "account": account, "contact": contact, "opportunity": opportunity, "quote": quote, "order": order,
        "invoice": invoice, "ticket": ticket, "contract": contract,
        "work_order": field_services.work_order_create(ticket=ticket, actor=owner),
        "campaign": campaign, "static_list": static_list,
        "activity": Activity.objects.create(kind="task", subject=f"{SECRET} Task", owner=owner, team=owner.team,
                                            shared_with_team=False, status="open", account=account),
        "lead": LeadFactory(owner=owner, shared_with_team=False, first_name="", last_name=f"{SECRET} Lead",
                            company=""),
        "contact_role": OpportunityContactRole.objects.create(opportunity=opportunity, contact=contact),
        "opportunity_line": OpportunityLine.objects.create(opportunity=opportunity, name=f"{SECRET} line",
                                                           unit_price=Decimal("10.00")),
        "quote_line": QuoteLine.objects.create(quote=quote, name=f"{SECRET} line", unit_price=Decimal("10.00")),
        "payment": Payment.objects.create(invoice=invoice, amount=Decimal("1.00")),
        "ticket_attachment": TicketAttachment.objects.create(ticket=ticket, file="attachments/zq7.txt",
                                                             name=f"{SECRET}.txt", content_type="text/plain", size=3),
        "campaign_cost": CampaignCost.objects.create(campaign=campaign, description=f"{SECRET} cost",
                                                     amount=Decimal("5.00"), created_by=owner),
        "campaign_member": CampaignMember.objects.create(campaign=campaign, contact=contact),
        "segment": Segment.objects.create(owner=owner, team=owner.team, shared_with_team=False,
                                          name=f"{SECRET} Segment"),
        "mailing": Mailing.objects.create(owner=owner, team=owner.team, shared_with_team=False,
                                          subject=f"{SECRET} Mailing", body="Hello", campaign=campaign,
                                          static_list=static_list),
        "call_list": _call_list(owner, campaign, static_list, contact),
        "email_template": _email_template(owner),
        "bounced_address": BouncedAddress.objects.create(email="secret-bounce@example.com",
                                                         suppressed_at=datetime.datetime.now(datetime.UTC)),
        # The catalogue and the settings
        "topic": Topic.objects.create(name=f"{SECRET} Topic"),
        "web_form": WebForm.objects.create(name=f"{SECRET} Form", thank_you="Thanks", created_by=owner),
        "pipeline": pipeline,
        "stage": pipeline.stages.order_by("position").first(),
        "product": product,
        "product_document": ProductDocument.objects.create(product=product, title="Datasheet",
                                                           file="products/datasheet.pdf",
                                                           content_type="application/pdf", size=3),
        "price_book": product_entry.price_book,
        "price_book_entry": product_entry,
        "currency_rate": CurrencyRate.objects.create(currency="USD", rate=Decimal("0.9")),
        "article": Article.objects.create(title="How to restart", body="Turn it off and on.", status="published",
                                          audience="public"),
        "queue": QueueFactory(name="First line"),
        "imap_mailbox": ImapMailbox.objects.create(name="Support", host="127.0.0.1", port=9, username="desk",
                                                   password=SECRET, security="starttls"),
        "lead_rule": LeadAssignmentRule.objects.create(name="All web leads", team=owner.team),
        "team": owner.team,
        "teammate": cast["teammate"],
        "territory": TerritoryFactory(),
        "custom_field": CustomField.objects.create(target="contacts.contact", key="shoe", label="Shoe size",
                                                   kind="number"),
        "webhook_delivery": DeliveryFactory(endpoint__created_by=cast["admin"]),
        # What belongs to `owner` alone
        "report_subscription": ReportSubscription.objects.create(user=owner, base_url="http://testserver",
                                                                 next_run_at=datetime.datetime(2030, 1, 1,
                                                                                               tzinfo=datetime.UTC)),
        "saved_report": SavedReport.objects.create(owner=owner, name=f"{SECRET} report", entity="deals",
                                                   query="entity=deals&c=name"),
        "api_token": api_token,
        "export_job": ExportJob.objects.create(user=owner, target="accounts.account"),
        "import_job": ImportJob.objects.create(user=owner, target="contacts.contact", original_name="x.csv"),
        "saved_view": SavedView.objects.create(user=owner, target="accounts.account", name="Mine", query="q=a"),
        "notification": Notification.objects.create(user=owner, kind="assignment", text=f"{SECRET} note",
                                                    url="/accounts/"),
        "owner_uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
        "portal_user": PortalUserFactory(contact=contact, email="zq7@example.com"),
        "other_portal_user": PortalUserFactory(contact=other_contact, email="south@example.com"),
    }
    world["webhook_endpoint"] = world["webhook_delivery"].endpoint
    world["report_schedule"] = ReportSubscription.objects.create(
        user=owner, report=world["saved_report"], base_url="http://testserver", recipients="zq7@example.com",
        next_run_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
    world["report_run"] = ReportDelivery.objects.create(subscription=world["report_schedule"], period_key="W2030-01",
                                                        status=DeliveryStatus.FAILED, error=f"{SECRET} error")
    world["survey"] = Survey.objects.create(ticket=ticket,
                                            resolved_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC))
    CompanyProfile.current()  # the quote PDF creates the singleton on first use
    return world


def fill(route: Route, world: dict, replace: str | None = None) -> str:
    """The URL of `route` for the world; `replace` names one id to swap for a missing one."""
    entry = TABLE[route.name]
    kwargs = {}
    for param, source in entry.params.items():
        if param == replace:
            kwargs[param] = MISSING
        elif source in world:
            value = world[source]
            kwargs[param] = value if isinstance(value, str) else value.pk
        else:
            kwargs[param] = source
    return reverse(route.name, kwargs=kwargs)


def id_params(route: Route) -> list[str]:
    """The parameters that name a row (ids), as opposed to tokens and kinds."""
    return [param for param, source in TABLE[route.name].params.items()
            if source not in (FORGED,) and not source.endswith("uidb64") and param not in ("kind", "name")]


# --- The database fingerprint --------------------------------------------------------------------------
def tables() -> list[str]:
    names = {model._meta.db_table for model in apps.get_models(include_auto_created=True)
             if model._meta.managed and not model._meta.proxy}
    return sorted(names)


# Book-keeping that a refused request may legitimately touch. Each with its reason:
VOLATILE_TABLES = {
    "django_session",  # the session is saved on every response that used it (messages, idle stamp)
}
VOLATILE_COLUMNS = {
    "service_article": {"views"},  # reading an article counts the view
}


def _columns(table: str) -> list[str]:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return [f.column for f in model._meta.concrete_fields if f.column not in VOLATILE_COLUMNS[table]]
    raise LookupError(table)


def fingerprint_sql() -> str:
    quote = connection.ops.quote_name  # table and column names from the models, quoted
    parts = []
    for name in tables():
        if name in VOLATILE_TABLES:
            continue
        row = "t::text"
        if name in VOLATILE_COLUMNS:
            row = "ROW(" + ", ".join(f"t.{quote(column)}" for column in _columns(name)) + ")::text"
        parts.append(f"(SELECT md5(coalesce(string_agg({row}, '|' ORDER BY {row}), '')) FROM {quote(name)} t)")  # noqa: S608
    return "SELECT " + ", ".join(parts)


class Fingerprint:
    """Every row of every table (md5 per table, VOLATILE_COLUMNS left out): taken at the start and the end."""

    def __init__(self):
        self.names = [name for name in tables() if name not in VOLATILE_TABLES]
        self.sql = fingerprint_sql()

    def take(self) -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(self.sql)
            return cursor.fetchone()

    def diff(self, before: tuple, after: tuple) -> list[str]:
        return [name for name, a, b in zip(self.names, before, after, strict=True) if a != b]


def writes() -> dict:
    """Rows inserted, updated and deleted so far in this transaction, per table: PostgreSQL counts them
    (pg_stat_xact_user_tables), so a write shows even when it was undone. Cheap enough for every URL."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables")
        return {name: counts for name, *counts in cursor.fetchall() if name not in VOLATILE_TABLES}


def written(before: dict, after: dict, allowed: tuple = ()) -> list[str]:
    return sorted(name for name, counts in after.items()
                  if counts != before.get(name, [0, 0, 0]) and name not in allowed)


# --- Callers ----------------------------------------------------------------------------------------
POST_DATA = {"name": "Hacked", "subject": "Hacked", "last_name": "Hacked", "title": "Hacked", "body": "Hacked",
             "status": "closed", "amount": "1", "rating": "1", "delete": "1", "confirm": "yes", "category": "x"}


@dataclass
class Caller:
    name: str
    client: object
    api: bool = False


def staff_caller(name: str, user) -> Caller:
    client = Client()
    client.force_login(user)
    return Caller(name, client)


def api_caller(name: str, user) -> Caller:
    client = APIClient()
    if user is not None:
        _token, key = tokens.api_token_create(user=user, name=f"matrix {name}")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        # A token's first use is stamped and logged (then once a minute): done before the fingerprints.
        client.get(reverse("api:account-list"))
    return Caller(name, client, api=True)


def portal_caller(name: str, portal_user) -> Caller:
    client = Client()
    response = client.post(reverse("portal:login"), {"email": portal_user.email, "password": PORTAL_PASSWORD})
    assert response.status_code == 302, f"the portal user {portal_user.email} could not sign in"
    return Caller(name, client)


@dataclass
class Outcome:
    status: int | None
    body: bytes = b""
    location: str = ""
    error: str = ""


def call(caller: Caller, method: str, url: str) -> Outcome:
    client = caller.client
    try:
        with transaction.atomic():  # a failing query must not poison the test's transaction
            if method == "GET":
                response = client.get(url)
            elif caller.api:
                response = getattr(client, method.lower())(url, POST_DATA, format="json")
            else:
                response = getattr(client, method.lower())(url, POST_DATA)
    except Exception as error:  # noqa: BLE001 - the test client re-raises a view's exception: that is a 500
        return Outcome(None, error=f"{type(error).__name__}: {error}"[:300])
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return Outcome(response.status_code, body, response.get("Location", ""))


@dataclass(frozen=True)
class Expect:
    allowed: frozenset
    secret_hidden: bool = True  # the owner's private names must not appear in the answer
    sign_in: str | None = None  # a 302 must lead to this sign-in page
    missing_url: str | None = None  # a 403 must also be the answer for a missing id (no existence leak)


def expect(allowed, secret_hidden=True, sign_in=None, missing_url=None) -> Expect:
    return Expect(frozenset(allowed), secret_hidden, sign_in, missing_url)


@dataclass
class Tally:
    requests: int = 0
    urls: set = field(default_factory=set)
    callers: set = field(default_factory=set)
    seconds: dict = field(default_factory=dict)  # per URL, to find the slow ones (pytest -s prints them)
    failures: list = field(default_factory=list)

    def check(self, route: Route, caller: Caller, method: str, url: str, want: Expect):
        outcome = call(caller, method, url)
        self.requests += 1
        self.urls.add(route.name)
        self.callers.add(caller.name)
        where = f"{route.name} {method} {url[:160]} as {caller.name}"
        if outcome.status is None or outcome.status >= 500:
            self.failures.append(f"{where}: 500 {outcome.error}")
            return
        if outcome.status not in want.allowed:
            self.failures.append(f"{where}: answered {outcome.status} {outcome.location}, expected one of "
                                 f"{sorted(want.allowed)}")
        elif want.sign_in and outcome.status == 302 and not outcome.location.startswith(want.sign_in):
            self.failures.append(f"{where}: redirected to {outcome.location}, not to the sign-in page {want.sign_in}")
        elif outcome.status == 403 and want.missing_url:
            self.requests += 1
            missing = call(caller, method, want.missing_url)
            if missing.status != 403:
                self.failures.append(f"{where}: 403 for the hidden row but {missing.status} for a missing one: "
                                     "the answer tells that the row exists")
        if want.secret_hidden and SECRET.encode() in outcome.body:
            self.failures.append(f"{where}: the answer shows a private record ({SECRET})")

    def assert_clean(self):
        assert not self.failures, f"{len(self.failures)} failures:\n" + "\n".join(self.failures)


def methods(route: Route) -> tuple:
    return ("GET", "POST", "PATCH", "DELETE") if route.is_api else ("GET", "POST")


STAFF_SIGN_IN, PORTAL_SIGN_IN = "/auth/login/", "/portal/sign-in/"
REFUSED = {404, 405}  # 405: the view takes another method, whatever the id (it reveals nothing)
# A role that may read the record: any answer but a 500, and nothing changes (the fingerprint).
READER = {200, 302, 400, 403, 404, 405}


@pytest.fixture
def cast(cast, other_team):
    """The project's cast, and a support agent of team B (whose team serves another queue than the world's)."""
    return {**cast, "queue_agent": UserFactory(email="queue.agent@example.com", role=Role.SUPPORT_AGENT,
                                              team=other_team)}


@pytest.fixture(autouse=True)
def _agents_narrowed_to_their_teams_queues(settings):
    settings.SERVICE_AGENTS_SEE = "team-queues"


def _call_list(owner, campaign, static_list, contact):
    """The owner's private call list, the owner its one agent, the contact on it."""
    call_list = CallList.objects.create(owner=owner, team=owner.team, shared_with_team=False, campaign=campaign,
                                        name=f"{SECRET} Calls", static_list=static_list, script="Hello")
    call_list.agents.set([owner])
    CallListItem.objects.create(call_list=call_list, contact=contact, agent=owner)
    return call_list


def _email_template(owner):
    template = EmailTemplate.objects.create(owner=owner, team=owner.team, shared_with_team=False,
                                            name=f"{SECRET} Template")
    EmailTemplateVersion.objects.create(template=template, language="en", subject=f"{SECRET} subject",
                                        html="<p>Hello {first_name}</p>")
    return template


@pytest.fixture
def world(cast):
    return build_world(cast)


@pytest.fixture(autouse=True)
def _quiet_refusals():
    """Every 403/404 is logged with its traceback by django.request: thousands of them here."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def report(label: str, tally: Tally, started: float):
    print(f"\n[attack matrix] {label}: {len(tally.urls)} URLs x {len(tally.callers)} callers, "
          f"{tally.requests} requests, {time.perf_counter() - started:.1f}s; slowest: "
          + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in
                      sorted(tally.seconds.items(), key=lambda item: -item[1])[:5]))


def run(routes, plan, tally: Tally):
    """`plan(route)` yields (caller, method, url, Expect). No URL may write a row (PostgreSQL's counts of
    this transaction's writes, per URL), and every row is the same at the end (the md5 fingerprint)."""
    fingerprint = Fingerprint()
    start = fingerprint.take()
    for route in routes:
        before = writes()
        route_started = time.perf_counter()
        for caller, method, url, want in plan(route):
            tally.check(route, caller, method, url, want)
        tally.seconds[route.name] = time.perf_counter() - route_started
        changed = written(before, writes(), TABLE[route.name].touches)
        if changed:
            tally.failures.append(f"{route.name}: the requests wrote to {changed}")
    changed = fingerprint.diff(start, fingerprint.take())
    if changed:
        tally.failures.append(f"the rows of these tables changed: {changed}")


# Two halves of about the same length, so that pytest-xdist runs them side by side.
HALVES = {"owned records": lambda entry: entry.category == OWNED,
          "everything else": lambda entry: entry.category != OWNED}


@pytest.mark.parametrize("half", HALVES)
def test_other_users_and_roles_are_refused_and_change_nothing(cast, world, half):
    started = time.perf_counter()
    staff = {name: staff_caller(name, user) for name, user in cast.items()}
    api = {name: api_caller(name, user) for name, user in cast.items()}
    other_portal_user = portal_caller("portal user of another account", world["other_portal_user"])
    tally = Tally()

    def plan(route):
        entry = TABLE[route.name]
        callers = api if route.is_api else staff
        url = fill(route, world)
        ids = id_params(route)
        missing_url = fill(route, world, replace=ids[0]) if ids else None
        for method in methods(route):
            if entry.category == OWNED:
                for role in entry.hidden:
                    # 404 like a missing row; 403 only when the role may never do this (the same for a missing id).
                    yield callers[role], method, url, expect(REFUSED | {403}, missing_url=missing_url)
                for role in entry.readers:
                    yield callers[role], method, url, expect(READER, secret_hidden=False)
            elif entry.category == CATALOGUE:
                # Everyone reads the catalogue; a rep's or a marketer's write is refused. A read page that
                # ignores the method answers 200 to a POST: the fingerprint proves it changed nothing.
                for role in ("outsider", "marketer"):
                    yield callers[role], method, url, expect({200, 403, 404, 405})
            elif entry.category == ADMIN:
                for role in ("manager", "executive"):
                    yield callers[role], method, url, expect({403, 404, 405})
            elif entry.category == PERSONAL:
                for role in ("teammate", "admin"):
                    yield callers[role], method, url, expect(REFUSED)
            elif entry.category == TOKEN:
                # A forged token: 404, or an error page that shows nothing (400, 410 gone, a form again).
                yield callers["outsider"], method, url, expect({200, 302, 400, 403, 404, 405, 410})
            elif entry.category == PORTAL:
                yield other_portal_user, method, url, expect(REFUSED)
                # A staff session is no portal session: it is sent to the portal's sign-in.
                yield staff["owner"], method, url, expect({302, 405}, sign_in=PORTAL_SIGN_IN)
            elif entry.category == PORTAL_PUBLIC:
                yield staff["owner"], method, url, expect({302, 405}, sign_in=PORTAL_SIGN_IN)

    routes = [route for route in routes_with_parameters() if HALVES[half](TABLE[route.name])]
    run(routes, plan, tally)
    report(f"other users and roles, {half}", tally, started)
    tally.assert_clean()


def test_anonymous_callers_are_sent_to_sign_in_and_change_nothing(world):
    started = time.perf_counter()
    anonymous, anonymous_api = Caller("anonymous", Client()), api_caller("anonymous", None)
    tally = Tally()

    def plan(route):
        entry = TABLE[route.name]
        url = fill(route, world)
        for method in methods(route):
            if route.is_api:
                yield anonymous_api, method, url, expect({401, 403})
            elif entry.category == TOKEN:
                yield anonymous, method, url, expect({200, 302, 400, 403, 404, 405, 410})
            else:
                sign_in = PORTAL_SIGN_IN if route.is_portal else STAFF_SIGN_IN
                yield anonymous, method, url, expect({302, 405} if route.is_portal else {302}, sign_in=sign_in)

    run(routes_with_parameters(), plan, tally)
    report("anonymous", tally, started)
    tally.assert_clean()


def test_a_missing_id_answers_404_and_changes_nothing(cast, world):
    started = time.perf_counter()
    staff = {name: staff_caller(name, cast[name]) for name in ("owner", "admin")}
    api = {name: api_caller(name, cast[name]) for name in ("owner", "admin")}
    portal_user = portal_caller("portal user", world["portal_user"])
    tally = Tally()

    def plan(route):
        entry = TABLE[route.name]
        # Someone who sees the world: the portal user for portal pages, the owner for personal objects,
        # an admin for everything else.
        if entry.category in (PORTAL, PORTAL_PUBLIC):
            caller = portal_user
        else:
            caller = (api if route.is_api else staff)["owner" if entry.category == PERSONAL else "admin"]
        for param in id_params(route):
            url = fill(route, world, replace=param)
            for method in methods(route):
                yield caller, method, url, expect(REFUSED, secret_hidden=False)

    run(routes_with_parameters(), plan, tally)
    report("missing ids", tally, started)
    tally.assert_clean()
