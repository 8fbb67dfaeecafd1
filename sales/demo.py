"""Sales demo data: pipelines, products, leads, deals at every stage, quotes, an order with an
invoice part-paid, and targets. Called by `manage.py seed_demo` once the demo people and accounts
exist; every write goes through the same services as the pages (history, stage changes, numbers)."""

import datetime
import random
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from crm.models import Role, Team, User
from sales import billing_services, forecast_services, lead_services, product_services, quote_services, services
from sales.models import (
    CompanyProfile,
    Invoice,
    LeadAssignmentRule,
    LeadRuleMethod,
    LeadStatus,
    LostReason,
    OrderStatus,
    Pipeline,
    Stage,
    StageKind,
)

# (name, probability, kind, {language: name}): the Russian team reads its pipelines and stages in
# Russian, and a Ukrainian reader in Ukrainian (crm/translated.py); the typed names stay English.
NEW_BUSINESS = [
    ("Qualification", 10, StageKind.OPEN, {"ru": "Квалификация", "uk": "Кваліфікація"}),
    ("Needs analysis", 25, StageKind.OPEN, {"ru": "Выявление потребностей", "uk": "Аналіз потреб"}),
    ("Proposal", 50, StageKind.OPEN, {"ru": "Коммерческое предложение", "uk": "Комерційна пропозиція"}),
    ("Negotiation", 75, StageKind.OPEN, {"ru": "Переговоры", "uk": "Переговори"}),
    ("Won", 100, StageKind.WON, {"ru": "Успешно", "uk": "Успішно"}),
    ("Lost", 0, StageKind.LOST, {"ru": "Проиграно", "uk": "Програно"}),
]
RENEWALS = [
    ("Up for renewal", 60, StageKind.OPEN, {"ru": "Подходит продление", "uk": "Час продовжувати"}),
    ("Terms agreed", 85, StageKind.OPEN, {"ru": "Условия согласованы", "uk": "Умови погоджено"}),
    ("Renewed", 100, StageKind.WON, {"ru": "Продлено", "uk": "Продовжено"}),
    ("Churned", 0, StageKind.LOST, {"ru": "Ушёл", "uk": "Пішов"}),
]
PRODUCTS = [
    ("CRM-CLOUD", "CRM Cloud licence", "Software", "seat/month", "25.00"),
    ("CRM-ANALYTICS", "Analytics add-on", "Software", "seat/month", "12.00"),
    ("CRM-MOBILE", "Mobile sales app", "Software", "seat/month", "8.00"),
    ("CRM-API", "API package (1M calls)", "Software", "package", "150.00"),
    ("HW-PHONE", "Desk IP phone", "Hardware", "pcs", "89.00"),
    ("HW-HEADSET", "Wireless headset", "Hardware", "pcs", "119.00"),
    ("HW-SCANNER", "Badge scanner", "Hardware", "pcs", "240.00"),
    ("HW-KIOSK", "Self-service kiosk", "Hardware", "pcs", "1900.00"),
    ("SRV-ONBOARD", "Onboarding workshop", "Services", "day", "950.00"),
    ("SRV-MIGRATE", "Data migration", "Services", "project", "4500.00"),
    ("SRV-TRAIN", "User training", "Services", "day", "700.00"),
    ("SRV-SUPPORT", "Premium support", "Services", "year", "3000.00"),
]
LEADS = [
    ("Hannah", "Fischer", "Brightline Media", "hannah.fischer@example.com", "web", "Spring webinar", "hot"),
    ("Tom", "Baker", "Quayside Foods", "tom.baker@example.com", "event", "Retail Expo 2026", "warm"),
    ("Chloé", "Bernard", "Atelier Lumière", "chloe.bernard@example.com", "web", "Spring webinar", "warm"),
    ("Jonas", "Weber", "Nordlicht GmbH", "jonas.weber@example.com", "referral", "", "hot"),
    ("Grace", "Mitchell", "Harbour Clinics", "grace.mitchell@example.com", "call", "", "cold"),
    ("Pierre", "Lefèvre", "Vins du Sud", "pierre.lefevre@example.com", "campaign", "Autumn mailing", "cold"),
    ("Amelia", "Wright", "Kestrel Drones", "amelia.wright@example.com", "web", "", "warm"),
    ("Felix", "Schulz", "Rheinwerk Tools", "felix.schulz@example.com", "partner", "", "warm"),
]
LEADS_RU = [
    ("Никита", "Павлов", "ООО «СибЛес»", "n.pavlov@example.com", "web", "Вебинар весна", "hot"),
    ("Татьяна", "Зайцева", "АО «ВолгаАгро»", "t.zaitseva@example.com", "event", "Выставка ИнноПром", "warm"),
    ("Роман", "Егоров", "ООО «ДальТранс»", "r.egorov@example.com", "call", "", "cold"),
]


def load(rng: random.Random) -> None:
    users = {user.email: user for user in User.objects.all()}
    admin, manager, manager_ru = users["admin@demo.crm"], users["manager@demo.crm"], users["manager.ru@demo.crm"]
    today = timezone.localdate()

    new_business = _pipeline("New business", NEW_BUSINESS, position=0, is_default=True,
                             translations={"ru": "Новые продажи", "uk": "Нові продажі"})
    renewals = _pipeline("Renewals", RENEWALS, position=1, translations={"ru": "Продления", "uk": "Продовження"})
    for currency, rate in (("USD", "0.92"), ("GBP", "1.17"), ("RUB", "0.0105")):
        if currency != settings.DEFAULT_CURRENCY:
            product_services.currency_rate_set(currency=currency, rate=Decimal(rate), actor=admin)
    quote_services.discount_thresholds_save(actor=admin, limits={Role.SALES_REP: Decimal(10),
                                                                  Role.SALES_MANAGER: Decimal(20)})
    profile = CompanyProfile.current()
    profile.name = "Demo CRM Solutions Ltd"
    profile.legal_details = "1 Demo Street, London EC1A 1AA\nCompany no. 01234567 · VAT GB 123 4567 89"
    profile.bank_details = "Demo Bank plc · IBAN GB00 DEMO 0000 0000 0000 00 · BIC DEMOGB2L"
    profile.email, profile.phone = "sales@demo.crm", "+44 20 7946 0000"
    profile.default_quote_terms = "Prices exclude delivery. Payment within 14 days of invoice."
    quote_services.company_profile_update(actor=admin, profile=profile)

    products = {}
    standard = product_services.price_book_create(actor=admin, name="Standard 2026", kind="standard",
                                                  currency=settings.DEFAULT_CURRENCY, active=True)
    partner = product_services.price_book_create(actor=admin, name="Partners 2026", kind="partner",
                                                 currency=settings.DEFAULT_CURRENCY, active=True,
                                                 description="20 % off list for resellers")
    for sku, name, family, unit, price in PRODUCTS:
        product = product_services.product_create(
            actor=admin, sku=sku, name=name, family=family, unit=unit, default_price=Decimal(price),
            currency=settings.DEFAULT_CURRENCY, tax_rate=Decimal(20),
            description=f"{name}: part of the {family.lower()} range.")
        product_services.price_book_entry_set(price_book=standard, product=product, unit_price=Decimal(price),
                                              actor=admin)
        product_services.price_book_entry_set(price_book=partner, product=product, actor=admin,
                                              unit_price=(Decimal(price) * Decimal("0.8")).quantize(Decimal("0.01")))
        products[sku] = product

    deals = _deals(rng, new_business, renewals, products, standard, today)
    _leads(rng, users, new_business, today)
    _quotes_and_billing(deals, products, today)
    _direct_orders(rng, products, standard, today)
    for rep in User.objects.filter(role=Role.SALES_REP, is_active=True).select_related("team"):
        boss = manager_ru if rep.team and rep.team.name == "Продажи Россия" else manager
        forecast_services.target_set(actor=boss, user=rep, period="quarter", period_start=today,
                                     amount=Decimal(60000), deal_count=6)
        forecast_services.target_set(actor=boss, user=rep, period="month", period_start=today,
                                     amount=Decimal(20000))
    for team in Team.objects.filter(manager__isnull=False, name__in=["Europe Sales", "Продажи Россия"]):
        forecast_services.target_set(actor=team.manager, team=team, period="quarter", period_start=today,
                                     amount=Decimal(250000))


def _pipeline(name, stages, *, position, translations, is_default=False) -> Pipeline:
    pipeline = Pipeline.objects.create(name=name, position=position, is_default=is_default,
                                       translations=translations)
    for index, (stage_name, probability, kind, names) in enumerate(stages):
        Stage.objects.create(pipeline=pipeline, name=stage_name, position=index, probability=probability, kind=kind,
                             translations=names)
    return pipeline


def _deals(rng, new_business, renewals, products, price_book, today) -> list:
    """One or two deals per account, walked through the stages so the history and the board are real."""
    stages = list(new_business.stages.order_by("position"))
    open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
    won, lost = stages[-2], stages[-1]
    made = []
    for account in Account.objects.select_related("owner").order_by("id"):
        russian = account.country in ("Россия", "Казахстан")
        contact = Contact.objects.filter(account=account).order_by("id").first()
        for number in range(rng.choice([1, 1, 2])):
            target = rng.choice([*open_stages, *open_stages, won, lost])
            close = today + datetime.timedelta(days=rng.randint(-20, 120) if target.kind == StageKind.OPEN
                                               else rng.randint(-25, 0))
            deal = services.opportunity_create(
                actor=account.owner, name=(f"{account.name}: внедрение" if russian else f"{account.name} rollout")
                + (f" #{number + 1}" if number else ""),
                account=account, primary_contact=contact, pipeline=new_business, stage=stages[0],
                amount=Decimal(rng.randint(4, 120) * 500), currency="RUB" if russian else settings.DEFAULT_CURRENCY,
                expected_close_date=close, lead_source=rng.choice(["web", "referral", "event", "partner"]),
                next_step=rng.choice(["Demo for the IT team", "Send the proposal", "Call the CFO", "Site visit"]),
                forecast_category=rng.choice(["pipeline", "pipeline", "best_case", "commit"]))
            if russian:
                services.opportunity_update(opportunity=deal, actor=account.owner, expected_version=None,
                                            amount=deal.amount * 90)
            elif rng.random() < 0.6:
                for sku in rng.sample(sorted(products), k=rng.randint(1, 3)):
                    product_services.opportunity_line_add(opportunity=deal, actor=account.owner,
                                                          product=products[sku], price_book=price_book,
                                                          quantity=Decimal(rng.randint(1, 25)))
                product_services.opportunity_use_lines_total(opportunity=deal, actor=account.owner,
                                                             expected_version=None)
            for stage in open_stages[1:]:
                if stage.position > target.position:
                    break
                services.opportunity_move(opportunity=deal, stage=stage, actor=account.owner, expected_version=None)
            if target.kind == StageKind.WON:
                services.opportunity_move(opportunity=deal, stage=won, actor=account.owner, expected_version=None)
            elif target.kind == StageKind.LOST:
                services.opportunity_move(opportunity=deal, stage=lost, actor=account.owner, expected_version=None,
                                          lost_reason=rng.choice(LostReason.values), lost_note="")
            made.append(deal)
        if account.type == "customer" and rng.random() < 0.4:
            first = renewals.stages.order_by("position").first()
            services.opportunity_create(
                actor=account.owner, name=f"{account.name}: renewal {today.year + 1}", account=account,
                pipeline=renewals, stage=first, amount=Decimal(rng.randint(10, 60) * 500),
                currency="RUB" if russian else settings.DEFAULT_CURRENCY,
                expected_close_date=today + datetime.timedelta(days=rng.randint(30, 200)))
    return made


def _leads(rng, users, pipeline, today) -> None:
    europe = Team.objects.get(name="Europe Sales")
    LeadAssignmentRule.objects.create(name="Web leads: round-robin in Europe Sales", position=0, team=europe,
                                      source="web", method=LeadRuleMethod.ROUND_ROBIN)
    marketer = users["marketing@demo.crm"]
    for index, (first, last, company, email, source, _campaign, rating) in enumerate(LEADS):
        owner = None if index % 3 == 0 else users[rng.choice(["rep@demo.crm", "rep2@demo.crm"])]
        lead = lead_services.lead_create(
            actor=marketer if owner is None else owner, owner=owner, team=europe, first_name=first, last_name=last,
            company=company, email=email, source=source, rating=rating,
            status=rng.choice([LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED]))
        if index == 1:
            lead_services.lead_set_status(lead=lead, actor=lead.owner or marketer, status=LeadStatus.DISQUALIFIED,
                                          reason="no_budget")
    ru_team = Team.objects.get(name="Продажи Россия")
    for first, last, company, email, source, _campaign, rating in LEADS_RU:
        lead_services.lead_create(actor=users["rep.ru@demo.crm"], owner=users["rep.ru@demo.crm"], team=ru_team,
                                  first_name=first, last_name=last, company=company, email=email, source=source,
                                  rating=rating, status=LeadStatus.WORKING)
    # One lead already became a customer, with a deal.
    rep = users["rep@demo.crm"]
    converted = lead_services.lead_create(
        actor=rep, owner=rep, first_name="Oliver", last_name="Grant", company="Grant & Sons Engineering",
        email="oliver.grant@example.com", source="referral", status=LeadStatus.QUALIFIED, rating="hot")
    lead_services.lead_convert(lead=converted, actor=rep, opportunity=lead_services.OpportunityPlan(
        name="Grant & Sons: CRM rollout", stage=pipeline.stages.get(position=1), amount=Decimal(18000),
        currency=settings.DEFAULT_CURRENCY, expected_close_date=today + datetime.timedelta(days=45)))


def _direct_orders(rng, products, price_book, today) -> None:
    """Phone and walk-in orders over the last year, so the customers dashboard's purchases by month, region and
    product family show orders beside the won deals, and its shipments by family and month a real on-time
    share: most orders are promised for one to three weeks after they were placed, and those older than a week
    have shipped, some after their promise, a few in two parts."""
    accounts = list(Account.objects.filter(owner__role=Role.SALES_REP).select_related("owner").order_by("id"))
    catalogue = list(products.values())
    if not accounts or not catalogue:
        return
    shipping = random.Random(1212)  # noqa: S311 - demo data; apart from `rng`, so the first orders stay as they were
    for number in range(36):
        account = accounts[(number * 7) % len(accounts)]
        chooser = rng if number < 16 else shipping
        lines = [{"product": product, "quantity": Decimal(chooser.randrange(1, 6))}
                 for product in chooser.sample(catalogue, chooser.choice([1, 1, 2]))]
        ordered_on = today - datetime.timedelta(days=(number * 15) % 240 if number < 16 else 8 + 18 * (number - 16))
        promised_on = (ordered_on + datetime.timedelta(days=shipping.choice([7, 10, 14, 21]))
                       if number % 7 != 3 else None)  # a few were taken with no promised date
        order = billing_services.order_create_direct(
            actor=account.owner, account=account, currency=settings.DEFAULT_CURRENCY, lines=lines,
            price_book=price_book, ordered_on=ordered_on, promised_on=promised_on, notes="Ordered by phone.")
        if (today - ordered_on).days < 7:
            continue  # not shipped yet
        billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=account.owner)
        shipped_on = min(today, ordered_on + datetime.timedelta(days=shipping.choice([3, 5, 6, 9, 12, 13, 18, 26])))
        billing_services.shipment_record(order=order, actor=account.owner, shipped_on=shipped_on,
                                         carrier=shipping.choice(["DHL", "UPS", "DPD"]),
                                         tracking_number=f"DEMO{number:08d}")
        if number % 5 == 0 and shipped_on + datetime.timedelta(days=6) <= today:  # the rest followed a week later
            billing_services.shipment_record(order=order, actor=account.owner,
                                             shipped_on=shipped_on + datetime.timedelta(days=6), carrier="DHL",
                                             note="The remaining items.")
        if (today - shipped_on).days > 14:
            billing_services.order_set_status(order=order, status=OrderStatus.DELIVERED, actor=account.owner)


def _quotes_and_billing(deals, products, today) -> None:
    """Quotes at each status, and one accepted quote followed to an invoice paid in part."""
    english = [deal for deal in deals if deal.currency == settings.DEFAULT_CURRENCY and deal.lines.exists()]
    if len(english) < 4:
        return
    accepted_deal, sent_deal, approval_deal, draft_deal = english[:4]
    for deal in (accepted_deal, sent_deal):
        quote = quote_services.quote_create(actor=deal.owner, opportunity=deal)
        quote_services.quote_send(quote=quote, actor=deal.owner, to=["buyer@example.com"],
                                  subject=f"Our proposal {quote.number}",
                                  message="Please find our proposal attached.")
        if deal is accepted_deal:
            quote_services.quote_accept(quote=quote, actor=deal.owner)
            order = billing_services.order_create_from_quote(quote=quote, actor=deal.owner)
            billing_services.order_set_status(order=order, status="confirmed", actor=deal.owner)
            billing_services.order_set_promised_on(order=order, promised_on=today + datetime.timedelta(days=5),
                                                   actor=deal.owner)
            billing_services.shipment_record(order=order, actor=deal.owner, carrier="DHL",
                                             tracking_number="JD014600006281234567")
            invoice = billing_services.invoice_create_from_order(order=order, actor=deal.owner)
            part = (invoice.total * Decimal("0.4")).quantize(Decimal("0.01"))
            billing_services.payment_record(invoice=invoice, amount=part, paid_on=today, method="bank_transfer",
                                            reference="TX-DEMO-0001", actor=deal.owner)
            # Issued six weeks ago, so the receivables show it overdue in the 31–60 bucket.
            Invoice.objects.filter(pk=invoice.pk).update(issue_date=today - datetime.timedelta(days=56),
                                                         due_date=today - datetime.timedelta(days=42))
    quote = quote_services.quote_create(actor=approval_deal.owner, opportunity=approval_deal,
                                        discount_pct=Decimal(25))
    if quote_services.approval_required(quote, approval_deal.owner):
        quote_services.quote_request_approval(quote=quote, actor=approval_deal.owner)
    quote_services.quote_create(actor=draft_deal.owner, opportunity=draft_deal)
