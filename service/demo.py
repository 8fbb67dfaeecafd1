"""The service desk's demo: business hours, SLA policies, escalation, queues, canned responses and
tickets in every state (some at risk or breached), so the demo is worth opening as support.lead@ and
support@demo.crm. Loaded by demo's seed_demo; time is moved by opening tickets in the past."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Account
from contacts.models import Contact
from crm.models import Territory, User
from sales.models import Product
from service import contract_services, field_services, kb_services, services, sla_clock
from service.models import (
    Article,
    ArticleCategory,
    ArticleStatus,
    AssignmentMode,
    BusinessCalendar,
    CannedResponse,
    Category,
    Channel,
    ContractKind,
    Entitlement,
    EscalationEvent,
    EscalationRule,
    EscalationTarget,
    Holiday,
    Priority,
    Queue,
    Skill,
    SlaPolicy,
    Status,
    Ticket,
    WorkKind,
)

TICKETS = [
    # subject, category, priority, channel, hours ago, what happened
    ("Cannot sign in to the customer area", Category.INCIDENT, Priority.HIGH, Channel.PHONE, 3, "new"),
    ("Invoice INV-2026-0003 shows the wrong VAT number", Category.BILLING, Priority.NORMAL, Channel.EMAIL, 30, "open"),
    ("Delivery arrived damaged", Category.COMPLAINT, Priority.HIGH, Channel.PHONE, 52, "pending"),
    ("How do I add a second user?", Category.QUESTION, Priority.LOW, Channel.PORTAL, 6, "new"),
    ("Server room sensors offline", Category.INCIDENT, Priority.URGENT, Channel.PHONE, 5, "breach"),
    ("Request: training session for new staff", Category.REQUEST, Priority.NORMAL, Channel.WEB, 80, "resolved"),
    ("Не приходит счёт на оплату", Category.BILLING, Priority.NORMAL, Channel.EMAIL, 20, "open"),
    ("Сломался терминал на складе", Category.INCIDENT, Priority.URGENT, Channel.PHONE, 0.45, "risk"),
    ("Export to Excel loses Cyrillic names", Category.PROBLEM, Priority.NORMAL, Channel.EMAIL, 100, "closed"),
    ("Price list for 2027", Category.QUESTION, Priority.LOW, Channel.EMAIL, 2, "new"),
    ("Second complaint about late delivery", Category.COMPLAINT, Priority.URGENT, Channel.PHONE, 1, "new"),
    ("Change of billing address", Category.REQUEST, Priority.LOW, Channel.PORTAL, 140, "resolved"),
]

CANNED = [
    ("Thanks, we are on it", "Hello {contact.first_name},\n\nThank you for contacting us about “{ticket.subject}”. "
     "We are looking into it now and will update you shortly.\n\nBest regards,\n{agent.name}"),
    ("Need more details", "Hello {contact.first_name},\n\nTo help you faster, could you send us a screenshot and "
     "the time the problem happened?\n\nReference: {ticket.number}\n{agent.name}"),
    ("Solved — please confirm", "Hello {contact.first_name},\n\nWe believe this is now fixed. If anything is still "
     "wrong, just reply to this e-mail and the ticket opens again.\n\n{agent.name}"),
    ("Ответ: приняли в работу", "Здравствуйте, {contact.first_name}!\n\nСпасибо за обращение «{ticket.subject}». "
     "Мы уже занимаемся им и скоро сообщим о результате.\n\nС уважением,\n{agent.name}"),
]


ARTICLES = [
    ("Printing", "The printer prints blank pages", "public", ["printer", "toner"],
     "Blank pages almost always mean the toner cartridge is empty or its seal was not removed.\n\n"
     "1. Open the front cover and take the cartridge out.\n2. Pull the orange tape off the new cartridge.\n"
     "3. Print a test page from the printer's menu."),
    ("Access", "Resetting your customer-area password", "public", ["password", "sign-in"],
     "Use “Forgot password?” on the sign-in page. The link in the e-mail works for three days and only once.\n\n"
     "If no e-mail arrives within ten minutes, check the spam folder, then call the hotline."),
    ("Billing", "Why is the VAT number on my invoice wrong?", "public", ["invoice", "VAT"],
     "Invoices use the VAT number stored on your account when the invoice is issued. Send us the new number; "
     "we correct the account and re-issue open invoices."),
    ("Оборудование", "Терминал на складе не включается", "internal", ["терминал", "склад"],
     "Проверьте блок питания и зарядную станцию. Если индикатор не горит, замените блок питания из "
     "подменного фонда и оформите заявку на ремонт."),
    ("Оплата", "Счёт на оплату не пришёл на почту", "public", ["счёт", "почта"],
     "Счета отправляются с адреса billing@demo.crm. Попросите клиента проверить папку «Спам» и добавить "
     "адрес в контакты. При необходимости перешлите счёт из карточки клиента."),
    ("Delivery", "What to do when a delivery arrives damaged", "internal", ["delivery", "complaint"],
     "Ask for photos of the packaging and the goods, log a complaint ticket, and arrange a replacement "
     "through the order. Offer a goodwill credit for VIP customers."),
]


def load(rng: random.Random) -> None:
    users = {user.email: user for user in User.objects.all()}
    lead, agent = users["support.lead@demo.crm"], users["support@demo.crm"]
    now = timezone.now()

    london = BusinessCalendar.objects.create(name="London office", time_zone="Europe/London",
                                             work_days=[0, 1, 2, 3, 4], opens_at=time(9), closes_at=time(18))
    for day, name in ((date(2026, 12, 25), "Christmas Day"), (date(2026, 12, 28), "Boxing Day (substitute)"),
                      (date(2027, 1, 1), "New Year's Day")):
        Holiday.objects.create(calendar=london, date=day, name=name)
    moscow = BusinessCalendar.objects.create(name="Москва", time_zone="Europe/Moscow", work_days=[0, 1, 2, 3, 4],
                                             opens_at=time(9), closes_at=time(18))
    for offset in range(8):
        Holiday.objects.create(calendar=moscow, date=date(2027, 1, 1) + timedelta(days=offset),
                               name="Новогодние каникулы")
    always = BusinessCalendar.objects.create(name="24 × 7", time_zone="UTC", around_the_clock=True)

    policies = [
        SlaPolicy(name="Urgent", priority=Priority.URGENT, first_response_minutes=30, resolution_minutes=240,
                  calendar=always),
        SlaPolicy(name="Urgent, strategic customers", priority=Priority.URGENT, account_tier="strategic",
                  first_response_minutes=15, resolution_minutes=120, calendar=always),
        SlaPolicy(name="High", priority=Priority.HIGH, first_response_minutes=60, resolution_minutes=480,
                  calendar=london),
        SlaPolicy(name="Normal", priority=Priority.NORMAL, first_response_minutes=240, resolution_minutes=1080,
                  calendar=london),
        SlaPolicy(name="Low", priority=Priority.LOW, first_response_minutes=480, resolution_minutes=2700,
                  calendar=london),
    ]
    SlaPolicy.objects.bulk_create(policies)
    EscalationRule.objects.create(event=EscalationEvent.BREACHED, notify=EscalationTarget.QUEUE_LEAD)
    EscalationRule.objects.create(policy=policies[0], event=EscalationEvent.AT_RISK,
                                  notify=EscalationTarget.QUEUE_LEAD)

    first_line = Queue.objects.create(name="First line", description="Every call and e-mail lands here first.",
                                      lead=lead, assignment=AssignmentMode.MANUAL, is_default=True)
    first_line.members.set([agent, lead])
    billing = Queue.objects.create(name="Billing and complaints", lead=lead, assignment=AssignmentMode.ROUND_ROBIN,
                                   categories=[Category.BILLING, Category.COMPLAINT])
    billing.members.set([agent, lead])
    for title, body in CANNED:
        CannedResponse.objects.create(title=title, body=body, created_by=lead)

    _contracts(rng, lead, policies)
    contacts = list(Contact.objects.filter(deleted_at__isnull=True).exclude(emails=[])
                    .select_related("account").order_by("id"))
    russian = [c for c in contacts if any("\u0400" <= ch <= "\u04ff" for ch in c.full_name)] or contacts
    for index, (subject, category, priority, channel, hours_ago, story) in enumerate(TICKETS):
        pool = russian if any("\u0400" <= ch <= "\u04ff" for ch in subject) else contacts
        contact = pool[index % len(pool)]
        opened = now - timedelta(hours=hours_ago, minutes=0 if story == "risk" else rng.randint(0, 50))
        owner = None if story in ("new", "breach", "risk") else agent
        ticket = services.ticket_create(actor=agent, subject=subject, category=category, priority=priority,
                                        channel=channel, contact=contact, owner=owner, now=opened,
                                        description=f"{subject}. Reported by {contact.full_name}.",
                                        call_note="Caller was polite but in a hurry." if channel == Channel.PHONE
                                        else "")
        if story in ("open", "pending", "resolved", "closed"):
            services.ticket_reply(ticket=ticket, actor=agent, now=opened + timedelta(minutes=25),
                                  body=f"Hello {contact.first_name}, we are looking into it.", status=Status.OPEN)
        if story == "pending":
            services.ticket_reply(ticket=ticket, actor=agent, now=opened + timedelta(hours=2),
                                  body="Could you send a photo of the damage?", status=Status.PENDING)
        if story in ("resolved", "closed"):
            services.ticket_customer_message(ticket=ticket, body="Thanks, that worked.",
                                             now=opened + timedelta(hours=20))
            services.ticket_set_status(ticket=ticket, actor=agent, status=Status.RESOLVED,
                                       now=opened + timedelta(hours=21))
        if story == "closed":
            services.ticket_set_status(ticket=ticket, actor=agent, status=Status.CLOSED,
                                       now=opened + timedelta(hours=60))
        if story == "open":
            services.ticket_reply(ticket=ticket, actor=lead, internal=True, now=opened + timedelta(hours=1),
                                  body="Checked with accounts: the VAT number on file is the old one.")
    categories = {}
    for category, title, audience, tags, body in ARTICLES:
        if category not in categories:
            categories[category] = ArticleCategory.objects.create(name=category)
        article = kb_services.article_create(actor=lead, title=title, body=body, tags=tags, audience=audience,
                                             category=categories[category], status=ArticleStatus.PUBLISHED)
        Article.objects.filter(pk=article.pk).update(views=rng.randint(5, 120))
    sla_clock.check_sla(now)
    contract_services.notify_expiring_contracts(now)
    _field_service(lead, agent)


def _contracts(rng: random.Random, lead, policies) -> None:
    """A support contract per key customer, a warranty about to end, one that ended, one in hours."""
    today = timezone.localdate()
    accounts = list(Account.objects.filter(deleted_at__isnull=True).order_by("id"))
    products = list(Product.objects.filter(active=True).order_by("id")[:3])
    for index, account in enumerate(accounts[:8]):
        kind = (ContractKind.SUPPORT, ContractKind.WARRANTY, ContractKind.MAINTENANCE)[index % 3]
        ends = today + timedelta(days=(12, 200, -20, 45, 330, 25, 90, 160)[index])
        product = products[index % len(products)] if products and kind == ContractKind.WARRANTY else None
        contract_services.contract_create(
            actor=lead, name=f"{kind.label} {today.year}" if kind != ContractKind.WARRANTY else f"Warranty: {product}",
            kind=kind, account=account, product=product, serial_number=f"SN-{rng.randint(100000, 999999)}"
            if product else "", starts_on=ends - timedelta(days=365), ends_on=ends,
            entitlement=(Entitlement.TICKETS, Entitlement.UNLIMITED, Entitlement.HOURS)[index % 3],
            entitled_amount=(Decimal(20), None, Decimal(40))[index % 3],
            sla_policy=policies[1] if account.tier == "strategic" else None)


ENGINEERS = [
    # e-mail, first name, last name, territories, skills
    ("field.uk@demo.crm", "Tom", "Hughes", ["Europe"], ["Printers and copiers", "Network and Wi-Fi"]),
    ("field.de@demo.crm", "Lena", "Vogel", ["Germany", "France"], ["Printers and copiers"]),
    ("field.ru@demo.crm", "Иван", "Петров", ["Россия и СНГ"], ["Складские терминалы", "Printers and copiers"]),
]

ADDRESSES = ["221B Baker Street, London NW1 6XE", "10 Downing Street, London SW1A 2AA",
             "1 Canada Square, London E14 5AB", "Unter den Linden 77, 10117 Berlin", "30 St Mary Axe, London EC3A 8BF"]


def _field_service(lead, agent) -> None:
    """Field skills, three engineers and the support agent as specialists, and visits for today: the
    agent's day list (support@demo.crm) has three, one in progress with work logged; a visit of
    yesterday is done and billed."""
    labour = Product.objects.create(sku="SRV-FIELD-HOUR", name="Field engineer, per hour", family="Services",
                                    unit="h", default_price=Decimal("95.00"), currency="EUR",
                                    tax_rate=Decimal("20.00"))
    skills = {name: Skill.objects.create(name=name, labour_product=labour)
              for name in ("Printers and copiers", "Network and Wi-Fi", "Складские терминалы")}
    regions = {territory.name: territory for territory in Territory.objects.all()}
    for email, first, last, territories, skill_names in ENGINEERS:
        engineer = User.objects.create_user(email=email, password=None, first_name=first, last_name=last,
                                            role="support_agent", team_id=agent.team_id,
                                            language="ru" if email.endswith(".ru@demo.crm") else "en")
        engineer.territories.set([regions[name] for name in territories if name in regions])
        for name in skill_names:
            skills[name].specialists.add(engineer)
    agent.territories.add(*[regions[name] for name in ("Europe", "Россия и СНГ") if name in regions])
    for skill in skills.values():
        skill.specialists.add(agent)

    tickets, seen = [], set()
    for ticket in (Ticket.objects.filter(account__isnull=False, status__in=["new", "open", "pending"])
                   .select_related("account").order_by("id")):
        if ticket.account_id not in seen:  # one customer per visit, as a real day goes
            seen.add(ticket.account_id)
            tickets.append(ticket)
    if len(tickets) < 5:
        tickets += list(Ticket.objects.filter(account__isnull=False).exclude(pk__in=[t.pk for t in tickets])
                        .order_by("id")[:5 - len(tickets)])
    cable = Product.objects.filter(active=True, deleted_at__isnull=True, currency="EUR").order_by("id").first()
    today = timezone.localdate()
    zone = timezone.get_current_timezone()

    def slot(day, hour, minute=0, hours=2):
        starts = datetime.combine(day, time(hour, minute), tzinfo=zone)
        return starts, starts + timedelta(hours=hours)

    plan = [(agent, today, 9, 0), (agent, today, 11, 30), (agent, today, 14, 0),
            (User.objects.get(email="field.uk@demo.crm"), today, 10, 0),
            (agent, today - timedelta(days=1), 13, 0)]
    for ticket, (specialist, day, hour, minute), address in zip(tickets, plan, ADDRESSES, strict=False):
        work_order = field_services.work_order_create(ticket=ticket, actor=lead, skill=skills["Printers and copiers"])
        if not work_order.address:  # demo accounts carry no street address
            work_order.address = address
            work_order.save(update_fields=["address"])
        starts, ends = slot(day, hour, minute)
        field_services.work_order_dispatch(work_order=work_order, actor=lead, specialist=specialist, starts=starts,
                                           ends=ends)
        if (day, hour) == (today, 9) or day < today:
            field_services.work_order_start(work_order=work_order, actor=specialist, now=starts)
            field_services.work_order_log(work_order=work_order, actor=specialist, kind=WorkKind.TIME, minutes=75,
                                          note="Replaced the fuser unit", worked_on=day)
            field_services.work_order_log(work_order=work_order, actor=specialist, kind=WorkKind.EXPENSE,
                                          amount=Decimal("12.50"), currency="EUR", note="Parking", worked_on=day)
            if cable is not None:
                field_services.work_order_log(work_order=work_order, actor=specialist, kind=WorkKind.MATERIAL,
                                              product=cable, quantity=Decimal(1), worked_on=day)
        if day < today:
            field_services.work_order_finish(work_order=work_order, actor=specialist, now=ends)
            field_services.work_order_bill(work_order=work_order, actor=lead)
