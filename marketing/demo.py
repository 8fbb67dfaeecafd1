"""Marketing demo data (loaded by demo's seed_demo after the sales demo): campaigns with budgets,
cost lines, members and results, in euros and roubles, owned by marketing@demo.crm. The demo leads
that named a campaign (sales/demo.py) are attributed to it, and so are a few won deals, so the
campaign pages show real cost per lead and ROI."""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from contacts.models import Contact
from crm.models import User
from marketing import calllists, services
from marketing.models import (
    CallDistribution,
    CallResult,
    Campaign,
    CampaignStatus,
    CampaignType,
    MemberStatus,
    Topic,
    TopicSubscription,
)
from sales import demo as sales_demo
from sales.models import Lead, Opportunity, Product, StageKind

# name, type, status, start (days from today), length in days, currency, budget, expected revenue, costs, parent
CAMPAIGNS = [
    ("Product launch 2026", CampaignType.OTHER, CampaignStatus.ACTIVE, -120, 240, "EUR", "30000", "150000", [], None),
    ("Spring webinar", CampaignType.WEBINAR, CampaignStatus.COMPLETED, -100, 30, "EUR", "4000", "20000",
     [("Webinar platform, 3 months", "900.00"), ("LinkedIn ads", "1850.00"), ("Speaker fee", "600.00")],
     "Product launch 2026"),
    ("Retail Expo 2026", CampaignType.EVENT, CampaignStatus.COMPLETED, -70, 3, "EUR", "12000", "60000",
     [("Stand rental", "6500.00"), ("Printing and giveaways", "1400.00"), ("Travel", "2300.00")], None),
    ("Autumn mailing", CampaignType.EMAIL, CampaignStatus.ACTIVE, -20, 45, "EUR", "1500", "15000",
     [("Copywriting", "450.00")], "Product launch 2026"),
    ("Partner newsletter Q1", CampaignType.EMAIL, CampaignStatus.PLANNED, 25, 60, "EUR", "800", "5000", [], None),
    ("Вебинар весна", CampaignType.WEBINAR, CampaignStatus.COMPLETED, -90, 14, "RUB", "250000", "1500000",
     [("Площадка вебинара", "45000.00"), ("Реклама в Яндекс Директ", "120000.00")], None),
    ("Выставка ИнноПром", CampaignType.EVENT, CampaignStatus.ACTIVE, -5, 4, "RUB", "900000", "4000000",
     [("Аренда стенда", "540000.00"), ("Раздаточные материалы", "85000.00")], None),
    ("Обзвон посетителей выставки", CampaignType.TELEMARKETING, CampaignStatus.ACTIVE, -3, 30, "RUB", "60000",
     "800000", [("Часы операторов", "18000.00")], None),
]
CALL_SCRIPT = ("Добрый день! Меня зовут {agent}, компания «Демо». Вы были на нашем стенде на выставке.\n"
               "— Удобно ли сейчас говорить две минуты?\n"
               "Предложение: демонстрация для вашей команды и скидка 10 % до конца месяца.\n"
               "Если «дорого»: расскажите о рассрочке на 6 месяцев.")
MEMBER_STATUSES = [MemberStatus.TARGETED] * 4 + [MemberStatus.SENT] * 3 + [MemberStatus.RESPONDED] * 2 + [
    MemberStatus.CONVERTED]


def load(rng: random.Random) -> None:
    marketer = User.objects.get(email="marketing@demo.crm")
    today = timezone.localdate()
    campaigns: dict[str, Campaign] = {}
    for name, kind, status, start, length, currency, budget, expected, costs, parent in CAMPAIGNS:
        start_date = today + datetime.timedelta(days=start)
        campaign = services.campaign_create(
            actor=marketer, name=name, type=kind, status=status, start_date=start_date,
            end_date=start_date + datetime.timedelta(days=length), currency=currency, budget=Decimal(budget),
            expected_revenue=Decimal(expected), parent=campaigns.get(parent) if parent else None)
        for offset, (description, amount) in enumerate(costs):
            services.campaign_cost_add(campaign=campaign, actor=marketer, description=description,
                                       amount=Decimal(amount),
                                       incurred_on=min(today, start_date + datetime.timedelta(days=offset * 5)))
        campaigns[name] = campaign

    # The demo leads that came from a campaign.
    named = {email: campaign for _f, _l, _c, email, _s, campaign, _r in sales_demo.LEADS + sales_demo.LEADS_RU
             if campaign}
    for lead in Lead.objects.filter(email__in=named):
        services.lead_attribute(lead=lead, campaign=campaigns[named[lead.email]], actor=marketer)

    # Won and open deals that the expo and the Russian webinar brought in.
    for campaign_name, currency, count in (("Retail Expo 2026", "EUR", 3), ("Вебинар весна", "RUB", 2)):
        deals = list(Opportunity.objects.filter(currency=currency, stage__kind__in=[StageKind.WON, StageKind.OPEN])
                     .order_by("-stage__kind", "id")[:count])
        for deal in deals:
            services.deal_attribute(opportunity=deal, campaign=campaigns[campaign_name], actor=marketer)

    contacts = list(Contact.objects.order_by("id"))

    # Audiences to reuse.
    services.segment_create(actor=marketer, name="Customers who agreed to e-mail",
                            description="For product news and webinars.",
                            criteria={"account_types": ["customer"], "consent": "opted_in", "has_email": True})
    services.segment_create(actor=marketer, name="VIP and key accounts", criteria={"vip": "yes"})
    services.segment_create(actor=marketer, name="Клиенты без покупок полгода",
                            description="Для кампании по возврату клиентов.",
                            criteria={"account_types": ["customer"], "no_purchase_months": 6,
                                      "exclude_do_not_call": True})

    # The contacts' "Newsletter segment" custom field (seed_demo defines it), and an audience built on it.
    groups, picker = ("Executives", "Engineers", "Purchasing"), random.Random(11)  # noqa: S311 - demo data; keeps `rng` as it was
    for contact in contacts:
        if picker.random() < 0.7:
            contact.custom = {**(contact.custom or {}), "newsletter_segment": picker.choice(groups)}
            contact.save(update_fields=["custom"])
    services.segment_create(actor=marketer, name="Engineers and purchasers who agreed to e-mail",
                            description="The newsletter's technical issue.",
                            criteria={"consent": "opted_in", "custom": [
                                {"on": "contact", "key": "newsletter_segment", "op": "in",
                                 "value": ["Engineers", "Purchasing"]}]})

    expo_guests = services.static_list_create(actor=marketer, name="Retail Expo 2026: stand visitors",
                                              description="Badges scanned at our stand.")
    services.static_list_add(static_list=expo_guests, actor=marketer,
                             contacts=Contact.objects.filter(pk__in=[c.pk for c in rng.sample(contacts, 8)]))
    # Visitors not yet in the CRM as customers: leads on the same list (the first few open ones).
    services.static_list_add_leads(static_list=expo_guests, actor=marketer, leads=Lead.objects.filter(
        pk__in=list(Lead.objects.filter(converted_at__isnull=True).order_by("id").values_list("pk", flat=True)[:3])))

    # The people each campaign reached, with how far they got.
    for name in ("Spring webinar", "Retail Expo 2026", "Autumn mailing", "Вебинар весна"):
        campaign = campaigns[name]
        english = campaign.currency != "RUB"
        people = [c for c in contacts if c.last_name[:1].isascii() == english]
        chosen = rng.sample(people, min(len(people), 12))
        services.campaign_members_add(campaign=campaign, actor=marketer, contacts=chosen)
        for member in campaign.members.all():
            services.campaign_member_set_status(member=member, actor=marketer, status=rng.choice(MEMBER_STATUSES))

    _call_list_in_progress(rng, marketer, campaigns["Обзвон посетителей выставки"], expo_guests)
    _templates_and_a_new_product(rng, marketer, contacts)


def _templates_and_a_new_product(rng: random.Random, marketer: User, contacts: list[Contact]) -> None:
    """Two e-mail templates (one in three languages), a topic for the Software family with subscribers,
    and a product marked new, ready to be announced from its page."""
    topic, _created = Topic.objects.get_or_create(
        name="Software news", defaults={"description": "New apps and add-ons.", "product_family": "Software",
                                        "translations": {"ru": "Новости ПО", "uk": "Новини ПЗ"}})
    if not topic.product_family:
        Topic.objects.filter(pk=topic.pk).update(product_family="Software")
    pool = [c for c in contacts if c.email_opt_in] or contacts
    for contact in rng.sample(pool, min(len(pool), 10)):
        TopicSubscription.objects.get_or_create(contact=contact, topic=topic, defaults={"source": "demo"})
    Product.objects.filter(sku="CRM-MOBILE").update(is_new=True)
    services.template_save(actor=marketer, template=None, name="Monthly newsletter", topic=topic, versions={
        "en": ("News for you, {first_name}",
               "<h2>What's new this month</h2><p>Hello {first_name},</p><p>Here is what {company} may like:</p>"
               "<ul><li>Faster reports</li><li>A new mobile app</li></ul>"
               '<p><a href="https://example.com/news">Read the news</a></p><p>{owner_name}, {owner_phone}</p>'),
        "ru": ("Новости для вас, {first_name}",
               "<h2>Что нового в этом месяце</h2><p>Здравствуйте, {first_name}!</p>"
               "<ul><li>Быстрые отчёты</li><li>Новое мобильное приложение</li></ul>"
               '<p><a href="https://example.com/news">Читать новости</a></p><p>{owner_name}, {owner_phone}</p>'),
        "uk": ("Новини для вас, {first_name}",
               "<h2>Що нового цього місяця</h2><p>Вітаємо, {first_name}!</p>"
               "<ul><li>Швидкі звіти</li><li>Новий мобільний застосунок</li></ul>"
               '<p><a href="https://example.com/news">Читати новини</a></p><p>{owner_name}, {owner_phone}</p>')})
    services.template_save(actor=marketer, template=None, name="Webinar invitation", topic=None, versions={
        "en": ("Join our webinar, {first_name}",
               "<p>Hello {first_name},</p><p>We invite you to a one-hour webinar on sales analytics.</p>"
               '<p><a href="https://example.com/webinar">Register</a></p>')})


def _call_list_in_progress(rng: random.Random, marketer: User, campaign: Campaign, audience) -> None:
    """The expo's stand visitors, called by the marketer from one shared queue: a few outcomes logged, a
    call-back tomorrow, the rest waiting."""
    call_list = calllists.call_list_create(
        actor=marketer, campaign=campaign, name="Посетители стенда: первый звонок", static_list=audience,
        agents=[marketer], distribution=CallDistribution.SHARED, script=CALL_SCRIPT.format(agent=marketer.first_name))
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    for result in (CallResult.INTERESTED, CallResult.NO_ANSWER, CallResult.CALLBACK, CallResult.NOT_INTERESTED):
        item = calllists.call_next(call_list=call_list, agent=marketer)
        if item is None:
            return
        calllists.call_log(call_list=call_list, agent=marketer, item_id=item.pk, result=result,
                           create_lead=result == CallResult.INTERESTED, duration_minutes=rng.randint(2, 9),
                           callback_at=tomorrow.replace(hour=11, minute=0) if result == CallResult.CALLBACK else None,
                           notes={CallResult.INTERESTED: "Просит демонстрацию на следующей неделе.",
                                  CallResult.CALLBACK: "Перезвонить после совещания."}.get(result, ""))
