"""Every page in the URL table passes axe-core (no serious or critical violation) at 1366 px and 375 px
in the light and the dark theme, and no page is wider than a 375 px phone. The table
is checked against the URL configuration: a named route that is neither in PAGES nor in SKIP fails
test_every_route_is_in_the_url_table, so a new page cannot be added without its accessibility check.

axe-core comes from npm (package.json, node_modules/axe-core) and is evaluated through Playwright's
DevTools channel, which the page's Content-Security-Policy does not govern."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from crm.models import CustomField
from marketing.subscriptions import preference_token
from marketing.webforms import form_key
from sales.tests.billing_helpers import invoice_for
from sales.tests.factories import LeadFactory, OpportunityFactory, ProductFactory
from sales.tests.quote_factories import make_quote

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# (width, colour scheme): both widths in both themes (the dark theme follows prefers-color-scheme, see
# theme.js; the phone layout has its own dark parts: the menu, list cards, the calendar agenda).
RUNS = ((1366, "light"), (375, "light"), (1366, "dark"), (375, "dark"))
BLOCKING = {"serious", "critical"}

World = dict[str, object]

# Route name → the address of a page that shows it, built from the records of `world` below.
PAGES: dict[str, Callable[[World], str]] = {
    "home": lambda w: "/",
    "calendar": lambda w: "/calendar/",
    "timeline": lambda w: f"/timeline/?account={w['account'].pk}",
    "search": lambda w: "/search/?q=Acme",
    "notifications": lambda w: "/notifications/",
    "profile": lambda w: "/profile/",
    "api_tokens": lambda w: "/profile/tokens/",
    "handover": lambda w: "/handover/",
    "password_change": lambda w: "/auth/password/change/",
    "reports": lambda w: "/reports/",
    "reports_analysis": lambda w: "/reports/analysis/",
    "reports_team": lambda w: "/reports/team/",
    "reports_customers": lambda w: "/reports/customers/",
    "reports_service": lambda w: "/reports/service/",
    "reports_sources": lambda w: "/reports/sources/",
    "reports_marketing": lambda w: "/reports/marketing/",
    "report_subscriptions": lambda w: "/reports/subscriptions/",
    "report_builder": lambda w: "/reports/builder/?entity=deals&c=name&c=account.name&c=amount&ff=amount&fo=gt&fv=1"
                                "&g1=closed_at&g1p=month&g2=stage&a=sum:amount&chart=bar",
    "saved_reports": lambda w: "/reports/saved/",
    "saved_report": lambda w: f"/reports/saved/{w['saved_report'].pk}/",
    "saved_report_schedules": lambda w: f"/reports/saved/{w['saved_report'].pk}/schedules/",
    "activity_list": lambda w: "/activities/?kind=call",
    "activity_create": lambda w: "/activities/new/?kind=call",
    "activity_detail": lambda w: w["activity"].get_absolute_url(),
    "activity_edit": lambda w: f"/activities/{w['activity'].pk}/edit/",
    "accounts:list": lambda w: "/accounts/",
    "accounts:create": lambda w: "/accounts/new/",
    "accounts:detail": lambda w: w["account"].get_absolute_url(),
    "accounts:edit": lambda w: f"/accounts/{w['account'].pk}/edit/",
    "contacts:list": lambda w: "/contacts/",
    "contacts:create": lambda w: "/contacts/new/",
    "contacts:detail": lambda w: w["contact"].get_absolute_url(),
    "contacts:edit": lambda w: f"/contacts/{w['contact'].pk}/edit/",
    "sales:overview": lambda w: "/sales/",
    "sales:opportunity_list": lambda w: "/sales/opportunities/",
    "sales:opportunity_create": lambda w: "/sales/opportunities/new/",
    "sales:opportunity_detail": lambda w: w["deal"].get_absolute_url(),
    "sales:opportunity_edit": lambda w: f"/sales/opportunities/{w['deal'].pk}/edit/",
    "sales:board_default": lambda w: "/sales/board/",
    "sales:board": lambda w: f"/sales/board/{w['deal'].pipeline_id}/",
    "sales:pipeline_list": lambda w: "/sales/pipelines/",
    "sales:pipeline_create": lambda w: "/sales/pipelines/new/",
    "sales:product_list": lambda w: "/sales/products/",
    "sales:product_create": lambda w: "/sales/products/new/",
    "sales:product_detail": lambda w: f"/sales/products/{w['product'].pk}/",
    "sales:price_book_list": lambda w: "/sales/price-books/",
    "sales:price_book_detail": lambda w: f"/sales/price-books/{w['price_book'].pk}/",
    "sales:currency_rate_list": lambda w: "/sales/exchange-rates/",
    "sales:quote_list": lambda w: "/sales/quotes/",
    "sales:quote_create": lambda w: "/sales/quotes/new/",
    "sales:approval_list": lambda w: "/sales/quotes/approvals/",
    "sales:quote_detail": lambda w: w["quote"].get_absolute_url(),
    "sales:discount_thresholds": lambda w: "/sales/settings/discount-thresholds/",
    "sales:company_profile": lambda w: "/sales/settings/company-profile/",
    "sales:order_list": lambda w: "/sales/orders/",
    "sales:order_create": lambda w: "/sales/orders/new/",
    "sales:order_detail": lambda w: w["invoice"].order.get_absolute_url(),
    "sales:invoice_list": lambda w: "/sales/invoices/",
    "sales:invoice_detail": lambda w: w["invoice"].get_absolute_url(),
    "sales:receivables": lambda w: "/sales/receivables/",
    "sales:account_receivables": lambda w: f"/sales/receivables/accounts/{w['invoice'].account_id}/",
    "sales:forecast": lambda w: "/sales/forecast/",
    "sales:targets": lambda w: "/sales/targets/",
    "sales:lead_list": lambda w: "/sales/leads/",
    "sales:lead_queue": lambda w: "/sales/leads/queue/",
    "sales:lead_create": lambda w: "/sales/leads/new/",
    "sales:lead_rules": lambda w: "/sales/leads/rules/",
    "sales:lead_detail": lambda w: w["lead"].get_absolute_url(),
    "sales:lead_convert": lambda w: f"/sales/leads/{w['lead'].pk}/convert/",
    "sales:price_book_create": lambda w: "/sales/price-books/new/",
    "service:home": lambda w: "/service/",
    "service:hotline": lambda w: "/service/hotline/",
    "service:ticket_list": lambda w: "/service/tickets/",
    "service:ticket_detail": lambda w: w["ticket"].get_absolute_url(),
    "service:article_detail": lambda w: w["article"].get_absolute_url(),
    "service:contract_detail": lambda w: w["contract"].get_absolute_url(),
    "service:setup_new": lambda w: "/service/setup/queues/new/",
    "service:ticket_create": lambda w: "/service/tickets/new/",
    "service:article_list": lambda w: "/service/kb/",
    "service:article_create": lambda w: "/service/kb/new/",
    "service:contract_list": lambda w: "/service/contracts/",
    "service:contract_create": lambda w: "/service/contracts/new/",
    "service:inbound_log": lambda w: "/service/mailbox/",
    "service:my_day": lambda w: "/service/my-day/",
    "service:work_order_list": lambda w: "/service/work-orders/",
    "service:work_order_detail": lambda w: f"/service/work-orders/{w['work_order'].pk}/",
    "service:work_order_dispatch": lambda w: f"/service/work-orders/{w['work_order'].pk}/dispatch/",
    "profile_security": lambda w: "/profile/security/",
    "two_factor_enrol": lambda w: "/profile/security/two-factor/",
    "security_settings": lambda w: "/admin-tools/security/",
    "security_log": lambda w: "/admin-tools/security-log/",
    "background_work": lambda w: "/admin-tools/background/",
    "service:setup": lambda w: "/service/setup/queues/",
    "marketing:overview": lambda w: "/marketing/",
    "marketing:campaign_list": lambda w: "/marketing/campaigns/",
    "marketing:campaign_create": lambda w: "/marketing/campaigns/new/",
    "marketing:campaign_detail": lambda w: w["campaign"].get_absolute_url(),
    "marketing:segment_detail": lambda w: w["segment"].get_absolute_url(),
    "marketing:static_list_detail": lambda w: w["static_list"].get_absolute_url(),
    "marketing:mailing_create": lambda w: f"/marketing/campaigns/{w['campaign'].pk}/mailings/new/",
    "marketing:mailing_detail": lambda w: f"/marketing/mailings/{w['mailing'].pk}/",
    "marketing:template_list": lambda w: "/marketing/templates/",
    "marketing:template_create": lambda w: "/marketing/templates/new/",
    "marketing:template_detail": lambda w: w["email_template"].get_absolute_url(),
    "marketing:template_edit": lambda w: f"/marketing/templates/{w['email_template'].pk}/edit/",
    "marketing:template_delete": lambda w: f"/marketing/templates/{w['email_template'].pk}/delete/",
    "marketing:product_notice": lambda w: f"/marketing/products/{w['product'].pk}/announce/",
    "marketing:segment_list": lambda w: "/marketing/segments/",
    "marketing:segment_create": lambda w: "/marketing/segments/new/",
    "marketing:static_list_list": lambda w: "/marketing/lists/",
    "marketing:static_list_create": lambda w: "/marketing/lists/new/",
    "marketing:topic_list": lambda w: "/marketing/topics/",
    "marketing:webform_list": lambda w: "/marketing/web-forms/",
    "marketing:webform_create": lambda w: "/marketing/web-forms/new/",
    "marketing:webform_edit": lambda w: f"/marketing/web-forms/{w['web_form'].pk}/edit/",
    "marketing:webform_public": lambda w: f"/marketing/f/{form_key(w['web_form'].pk)}/",
    "marketing:webform_embed": lambda w: f"/marketing/f/{form_key(w['web_form'].pk)}/embed/",
    "marketing:topic_edit": lambda w: f"/marketing/topics/{w['topic'].pk}/edit/",
    "marketing:contact_topics": lambda w: f"/marketing/contacts/{w['contact'].pk}/topics/",
    "marketing:bounce_list": lambda w: "/marketing/bounces/",
    "marketing:call_list_create": lambda w: f"/marketing/campaigns/{w['campaign'].pk}/call-lists/new/",
    "marketing:call_list_detail": lambda w: f"/marketing/call-lists/{w['call_list'].pk}/",
    "marketing:call_list_work": lambda w: f"/marketing/call-lists/{w['call_list'].pk}/work/",
    "marketing:call_list_edit": lambda w: f"/marketing/call-lists/{w['call_list'].pk}/edit/",
    "marketing:call_list_add": lambda w: f"/marketing/call-lists/{w['call_list'].pk}/add/",
    "marketing:call_list_entries": lambda w: f"/marketing/call-lists/{w['call_list'].pk}/entries/",
    # Public (no sign-in), opened here signed in: the page is the same.
    "marketing:preferences": lambda w: f"/marketing/preferences/{preference_token(w['contact'].pk)}/",
    "portal_staff:feedback": lambda w: "/portal-admin/feedback/",
    "exports:list": lambda w: "/exports/",
    "exports:log": lambda w: "/exports/log/",
    "imports:list": lambda w: "/imports/",
    "imports:upload": lambda w: "/imports/new/",
    "user_list": lambda w: "/admin-tools/users/",
    "user_invite": lambda w: "/admin-tools/users/invite/",
    "team_list": lambda w: "/admin-tools/teams/",
    "territory_list": lambda w: "/admin-tools/territories/",
    "custom_field_list": lambda w: "/admin-tools/custom-fields/",
    "outbox": lambda w: "/admin-tools/outbox/",
    "admin_api_tokens": lambda w: "/admin-tools/tokens/",
    "webhooks:endpoint_list": lambda w: "/admin-tools/webhooks/",
    "webhooks:endpoint_create": lambda w: "/admin-tools/webhooks/new/",
    "webhooks:delivery_list": lambda w: "/admin-tools/webhooks/deliveries/",
}

# Routes that are not pages a person reads, or not yet in the table, each with its reason. A prefix
# ending in ":" covers a whole namespace.
SKIP: dict[str, str] = {
    "api:": "the JSON API (its schema is checked by the API tests)",
    "admin:": "Django's own admin, not the product's interface",
    "portal:": "the customer portal, a separate site with its own tests",
    "?": "unnamed routes (the API router's root, the old leads address that redirects)",
    "healthz": "a JSON health check",
    "metrics": "Prometheus text for a scraper, behind a token",
    "sign_in_code": "signed out: the second sign-in step (crm/tests/test_browser_security.py drives it)",
    "recovery_codes_new": "POST only: shows the new codes",
    "sign_out_everywhere": "POST only",
    "report_export": "a file download (CSV, XLSX or PDF), not a page",
    "report_save": "POST only: saves the builder's report",
    "report_copy": "POST only: copies a saved report",
    "report_delete": "POST only",
    "schedule_delete": "POST only",
    "run_retry": "POST only: sends a failed run again",
    "background_retry": "POST only: queues a failed background job again",
    "two_factor_disable": "POST only",
    "user_unlock": "POST only",
    "user_two_factor_reset": "POST only",
    "service:work_order_create": "POST only: a ticket becomes a work order",
    "service:work_order_log": "POST only: logs work from the day list",
    "service:work_order_bill": "POST only: bills the logged work",
    "service:work_order_action": "POST only: start, finish or cancel a visit",
    "service:mailbox_check": "POST only: checks an IMAP mailbox's connection, then back to its set-up page",
    "service:mailbox_read": "POST only: reads an IMAP mailbox now, then the support mailbox log",
    "marketing:mailing_unschedule": "POST only: a scheduled mailing back to draft",
    "marketing:mailing_test": "POST only: sends a test of the draft to the signed-in user",
    "marketing:template_test": "POST only: sends a test of the template to the signed-in user",
    "marketing:template_use": "a redirect to the new-mailing form (checked there)",
    "set_language": "POST only: switches the language",
    "login": "signed out (the sign-in page is checked by the auth browser tests)",
    "logout": "POST only",
    "password_change_done": "a confirmation after a POST",
    "password_reset": "signed out",
    "password_reset_done": "signed out",
    "password_reset_confirm": "signed out, needs a token",
    "password_reset_complete": "signed out",
    "invite_accept": "signed out, needs a token",
    "calendar_feed": "an iCalendar file",
    "marketing:unsubscribe": "public, needs a token",
    "marketing:bounce_clear": "POST only: lets a bounced address receive mail again",
    "marketing:call_list_log": "POST only: an agent's outcome for the person they called",
    "marketing:call_list_release": "POST only: an agent hands back the person they hold",
    "marketing:call_list_close": "POST only: a manager closes or reopens a call list",
    "marketing:track_open": "public: a 1×1 image, not a page",
    "marketing:track_click": "public: a redirect to the mailing's link (its invalid-link page is the auth card)",
    "sales:forecast_deals": "an htmx fragment of the forecast page",
    "sales:lead_duplicates": "POST only: the lead form's live duplicate check",
    "sales:order_promise": "POST only: sets the promised delivery date from the order page",
}
# Actions (POST endpoints, downloads, JSON and htmx fragments): no page of their own.
ACTION_WORDS = ("_delete", "_remove", "_revoke", "_regenerate", "_reschedule", "_move", "_set_active", "_status",
                "_save", "_bulk", ":bulk", "_autocomplete", "autocomplete_", "lookup_", "duplicates_check",
                "_pdf", "_download", "download", "errors_csv", "_ping", "_resend", "_rotate_secret", "_vote",
                "_accept", "_reject", "_revise", "_approve", "_send", "_request_approval", "_cancel", "_complete",
                "_open", "_read_all", "_start", "_undo", "_abandon", "_column", "_category", "_preview", "_logo",
                "_fill", "_insert", ":attachment", "take_next", "hotline_ticket", "hotline_call", "_reply",
                "_assign", "_add", "_stage", "_use_total", "_win_from_quote", "_create_from_", "_to_campaign",
                "_renew", "_attribution", "vcard_", "_erase", "_lines", "_edit", ":start", ":merge",
                "personal_data", ":invite", ":access", "outbox_message", ":detail", ":mapping", ":preview",
                ":delete", ":erase", ":abandon", ":undo", "_unsubscribe", "_upload")
# Record pages whose records this table does not build yet (listed so they stay visible; see the note).
# (The core's tests may not import the webhooks app, whose delivery log is checked by its own tests.)
NOT_YET = {"webhooks:delivery_detail"}


def _routes(patterns=None, namespace: str = "") -> Iterator[str]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else (
                pattern.namespace or namespace)
            yield from _routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or "?"
            yield f"{namespace}:{name}" if namespace else name


def _accounted_for(name: str) -> bool:
    if name in PAGES or name in SKIP or name in NOT_YET:
        return True
    if any(name.startswith(prefix) for prefix in SKIP if prefix.endswith(":")) or name.endswith(":?"):
        return True
    return name not in PAGES and any(word in name for word in ACTION_WORDS)


def test_every_route_is_in_the_url_table():
    missing = sorted({name for name in _routes() if not _accounted_for(name)})
    assert not missing, f"add these routes to PAGES (or SKIP, with the reason) in {__file__}: {missing}"


def test_the_table_names_only_real_routes():
    routes = set(_routes())
    assert not (set(PAGES) | NOT_YET) - routes


@pytest.fixture
def world(admin_user, owner):
    from activities.models import ActivityKind
    from activities.services import activity_create
    from contacts.models import Contact
    from exports.models import ExportJob
    from marketing import services as marketing_services
    from marketing.calllists import call_list_create
    from marketing.models import Topic, WebForm
    from marketing.tests.factories import CampaignFactory
    from reports.models import SavedReport
    from sales.models import Lead
    from sales.tests.factories import PriceBookFactory
    from service import contract_services, field_services, kb_services
    from service import services as service_services

    account = AccountFactory(owner=admin_user, team=admin_user.team, name="Acme Corp")
    contact = ContactFactory(owner=admin_user, account=account, first_name="Ada", last_name="Buyer")
    invoice = invoice_for(admin_user, account=account)
    campaign = CampaignFactory(owner=admin_user, team=admin_user.team)
    segment = marketing_services.segment_create(actor=admin_user, name="Customers", criteria={})
    # A static list with a contact and a lead: the list's page, the contact's and the lead's panels.
    lead = LeadFactory(owner=admin_user)
    static_list = marketing_services.static_list_create(actor=admin_user, name="Trade fair")
    marketing_services.static_list_add(static_list=static_list, actor=admin_user,
                                       contacts=Contact.objects.filter(pk=contact.pk))
    marketing_services.static_list_add_leads(static_list=static_list, actor=admin_user,
                                             leads=Lead.objects.filter(pk=lead.pk))
    # A ticket custom field: on the ticket form, the ticket page and the list's filters.
    CustomField.objects.create(target="service.ticket", key="device", label="Device model", kind="choice",
                               choices="Zebra DS2208\nHoneywell 1450g")
    ticket = service_services.ticket_create(actor=admin_user, subject="The printer is silent", contact=contact,
                                            custom={"device": "Zebra DS2208"})
    return {
        "ticket": ticket,
        "work_order": field_services.work_order_create(ticket=ticket, actor=admin_user),
        "article": kb_services.article_create(actor=admin_user, title="Printing blank pages",
                                              body="Check the toner first."),
        "contract": contract_services.contract_create(
            actor=admin_user, name="Support 2026", account=account, starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + timedelta(days=300), entitlement="hours", entitled_amount=10),
        "campaign": campaign, "segment": segment,
        "call_list": call_list_create(actor=admin_user, campaign=campaign, name="Обзвон клиентов",
                                      agents=[admin_user], segment=segment, script="Представьтесь."),
        "static_list": static_list,
        "email_template": marketing_services.template_save(
            actor=admin_user, template=None, name="Весенняя рассылка", topic=None,
            versions={"en": ("Spring for {first_name}", "<h2>Spring</h2><p>Hello {first_name}!</p>"),
                      "ru": ("Весна для {first_name}", "<p>Здравствуйте, {first_name}!</p>")}),
        "mailing": marketing_services.mailing_create(actor=admin_user, campaign=campaign, subject="News",
                                                     body="Hello {{ first_name }}", segment=segment),
        "price_book": PriceBookFactory(),
        "topic": Topic.objects.create(name="Новинки"),
        "web_form": WebForm.objects.create(name="Запрос цены", thank_you="Спасибо!", created_by=admin_user,
                                           fields=["company", "phone", "message"],
                                           consent_wording="Я согласен получать письма."),
        "account": account, "contact": contact, "invoice": invoice,
        "deal": OpportunityFactory(owner=admin_user, account=account, name="Fleet renewal"),
        "quote": make_quote(admin_user, account=account, lines=((3, "24000.00", "10", "20"),)),
        "lead": lead,
        "product": ProductFactory(),
        "activity": activity_create(actor=admin_user, kind=ActivityKind.CALL, subject="Call the CFO",
                                    account=account, contact=contact),
        # The background-work page with a row in its table.
        "failed_export": ExportJob.objects.create(user=admin_user, target="contacts.contact", status="failed",
                                                  error="disk full", heartbeat_at=timezone.now()),
        "saved_report": SavedReport.objects.create(owner=admin_user, name="Pipeline by stage", entity="deals",
                                                   query="entity=deals&g1=stage&a=sum:amount&chart=pie"),
    }


def _check(page, url: str, width: int, scheme: str = "light") -> list[str]:
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=scheme)
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    problems = []
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    for violation in result:
        if violation["impact"] in BLOCKING:
            problems.append(f"{url} @{width}px {scheme} axe {violation['id']} ({violation['impact']}): "
                            f"{violation['nodes']}")
    if width <= 375:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{url} @{width}px is {overflow}px wider than the screen")
    return problems


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_passes_axe_and_fits_a_phone(page, admin_user, world, name):
    sign_in(page, admin_user)
    url = PAGES[name](world)
    problems = []
    for width, scheme in RUNS:
        problems += _check(page, url, width, scheme)
    assert not problems, "\n".join(problems)
