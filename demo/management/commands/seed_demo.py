"""Demo data that makes the product look alive. Runs once: a second run changes nothing."""

import random
from datetime import timedelta
from pathlib import Path

import pghistory
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, AccountType
from activities import services as activity_services
from contacts import services as contact_services
from crm import scheduler
from crm.models import CustomField, Role, RoleSecurity, Team, Territory, User
from crm.phones import normalize_phone
from demo import marketing_history, pipeline_history
from marketing import demo as marketing_demo
from marketing.models import Campaign
from portal import demo as portal_demo
from portal.models import PortalUser
from sales import demo as sales_demo
from sales.models import Pipeline
from service import demo as service_demo
from service.models import Queue

DEMO_PASSWORD = "demo-crm-2026"  # noqa: S105 - a published demo password, only for demo data

TERRITORIES = {
    "Europe": {"United Kingdom": {}, "Germany": {"Bavaria": {}, "Berlin": {}}, "France": {}},
    "Россия и СНГ": {"Москва": {}, "Санкт-Петербург": {}, "Казахстан": {}},
    "North America": {"USA": {"California": {}, "New York": {}}, "Canada": {}},
}
# Each territory in the other languages (crm/translated.py): typed in English, or in Russian by the Russian team.
TERRITORY_NAMES = {
    "Europe": ("Европа", "Європа"), "United Kingdom": ("Великобритания", "Велика Британія"),
    "Germany": ("Германия", "Німеччина"), "Bavaria": ("Бавария", "Баварія"), "Berlin": ("Берлин", "Берлін"),
    "France": ("Франция", "Франція"), "North America": ("Северная Америка", "Північна Америка"),
    "USA": ("США", "США"), "California": ("Калифорния", "Каліфорнія"), "New York": ("Нью-Йорк", "Нью-Йорк"),
    "Canada": ("Канада", "Канада"),
    "Россия и СНГ": ("Russia and CIS", "Росія та СНД"), "Москва": ("Moscow", "Москва"),
    "Санкт-Петербург": ("Saint Petersburg", "Санкт-Петербург"), "Казахстан": ("Kazakhstan", "Казахстан"),
}


def _territory_translations(name: str) -> dict[str, str]:
    other, ukrainian = TERRITORY_NAMES[name]
    typed_in_russian = any("а" <= letter.lower() <= "я" for letter in name)
    return {"en" if typed_in_russian else "ru": other, "uk": ukrainian}

# (e-mail, first, last, role, team)
PEOPLE = [
    ("admin@demo.crm", "Alex", "Admin", Role.ADMIN, None),
    ("ceo@demo.crm", "Eleanor", "Whitfield", Role.EXECUTIVE, None),
    ("manager@demo.crm", "Marta", "Klein", Role.SALES_MANAGER, "Europe Sales"),
    ("rep@demo.crm", "Ryan", "Porter", Role.SALES_REP, "Europe Sales"),
    ("rep2@demo.crm", "Sophie", "Laurent", Role.SALES_REP, "Europe Sales"),
    ("manager.ru@demo.crm", "Ольга", "Смирнова", Role.SALES_MANAGER, "Продажи Россия"),
    ("rep.ru@demo.crm", "Дмитрий", "Иванов", Role.SALES_REP, "Продажи Россия"),
    ("support.lead@demo.crm", "Samuel", "Okafor", Role.SUPPORT_LEAD, "Customer Care"),
    ("support@demo.crm", "Priya", "Natarajan", Role.SUPPORT_AGENT, "Customer Care"),
    ("marketing@demo.crm", "Mia", "Jensen", Role.MARKETER, None),
]
MANAGERS = {"Europe Sales": "manager@demo.crm", "Продажи Россия": "manager.ru@demo.crm",
            "Customer Care": "support.lead@demo.crm"}
# Phone numbers a team types without a country code are read as this country's.
TEAM_COUNTRIES = {"Europe Sales": "GB", "Продажи Россия": "RU", "Customer Care": "GB"}

ACCOUNTS_EN = [
    ("Northwind Traders", "Wholesale", "United Kingdom", "London"),
    ("Contoso Pharmaceuticals", "Healthcare", "Germany", "Munich"),
    ("Fabrikam Logistics", "Transport", "Germany", "Hamburg"),
    ("Blue Yonder Airlines", "Aviation", "France", "Paris"),
    ("Tailspin Toys", "Retail", "United Kingdom", "Manchester"),
    ("Adventure Works Cycles", "Manufacturing", "Germany", "Stuttgart"),
    ("Litware Software", "Software", "United Kingdom", "Cambridge"),
    ("Proseware Energy", "Energy", "France", "Lyon"),
    ("Wide World Importers", "Wholesale", "United Kingdom", "Bristol"),
    ("Coho Winery", "Food & Beverage", "France", "Bordeaux"),
    ("Lucerne Publishing", "Media", "Germany", "Berlin"),
    ("Margie's Travel", "Travel", "United Kingdom", "Edinburgh"),
    ("Trey Research", "Consulting", "France", "Toulouse"),
    ("Alpine Ski House", "Hospitality", "Germany", "Garmisch"),
]
ACCOUNTS_RU = [
    ("ООО «Северсталь-Сервис»", "Металлургия", "Россия", "Череповец"),
    ("АО «ТрансЛогистик»", "Транспорт", "Россия", "Москва"),
    ("ООО «Вкусвилл Опт»", "Розница", "Россия", "Москва"),
    ("ПАО «ЭнергоСбыт Урал»", "Энергетика", "Россия", "Екатеринбург"),
    ("ООО «СофтЛайн Интеграция»", "Программное обеспечение", "Россия", "Санкт-Петербург"),
    ("ТОО «Казахтелеком Сервис»", "Телеком", "Казахстан", "Алматы"),
    ("ООО «Агрокомплекс Кубань»", "Сельское хозяйство", "Россия", "Краснодар"),
    ("АО «МедТехника»", "Здравоохранение", "Россия", "Новосибирск"),
    ("ООО «Балтийская верфь»", "Судостроение", "Россия", "Санкт-Петербург"),
    ("ООО «Уральские самоцветы»", "Производство", "Россия", "Екатеринбург"),
]


TAGS = ["key-account", "renewal-2027", "trade-fair", "upsell", "at-risk"]
TIERS = ["strategic", "key", "standard", "standard", "small"]
PEOPLE_EN = [
    ("Emma", "", "Clarke", "Head of Purchasing"), ("James", "", "Whitaker", "CFO"),
    ("Olivia", "", "Hughes", "Operations Manager"), ("Lukas", "", "Becker", "IT Director"),
    ("Camille", "", "Dubois", "Procurement Lead"), ("Daniel", "", "Foster", "CEO"),
    ("Sophie", "", "Martin", "Office Manager"), ("Henry", "", "Walsh", "Head of Logistics"),
]
PEOPLE_RU = [
    ("Анна", "Сергеевна", "Кузнецова", "Директор по закупкам"), ("Игорь", "Викторович", "Орлов", "Финансовый директор"),
    ("Мария", "Андреевна", "Соколова", "Руководитель отдела снабжения"),
    ("Алексей", "Петрович", "Волков", "Генеральный директор"), ("Елена", "Игоревна", "Морозова", "Главный бухгалтер"),
    ("Сергей", "Николаевич", "Лебедев", "ИТ-директор"),
]
CALL_SUBJECTS_EN = ["Intro call", "Follow-up on the quote", "Renewal discussion", "Delivery question",
                    "Price negotiation", "Sent product sheet", "Quarterly check-in"]
CALL_SUBJECTS_RU = ["Первичный звонок", "Обсуждение КП", "Продление договора", "Вопрос по поставке",
                    "Согласование цены", "Отправлен прайс-лист"]
CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                     "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


def translit(text: str) -> str:
    return "".join(CYRILLIC.get(ch, ch) for ch in text.lower())


class Command(BaseCommand):
    help = "Loads the demo data (teams, territories, one user per role, accounts, sales) unless already loaded."

    def add_arguments(self, parser):
        parser.add_argument("--logins-file", default="", help="Also write the demo logins to this file.")

    def handle(self, *args, logins_file: str, **options):
        if User.objects.filter(email="admin@demo.crm").exists():
            self.stdout.write("Demo data already loaded.")
        else:
            with transaction.atomic(), pghistory.context(source="seed_demo"):
                self._load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        # The sales demo came later: a demo database from before it gets it on its next start.
        if not Pipeline.objects.exists() and User.objects.filter(email="rep@demo.crm").exists():
            with transaction.atomic(), pghistory.context(source="seed_demo"):
                sales_demo.load(random.Random(2027))  # noqa: S311 - demo data, not security
            self.stdout.write(self.style.SUCCESS("Sales demo data loaded."))
        if pipeline_history.needed():  # a year of closed deals for the pipeline dashboard
            with transaction.atomic(), pghistory.context(source="seed_demo"):
                made = pipeline_history.load(random.Random(2028))  # noqa: S311 - demo data, not security
            self.stdout.write(self.style.SUCCESS(f"A year of deal history loaded ({made} closed deals)."))
        if not Queue.objects.exists() and User.objects.filter(email="support@demo.crm").exists():
            with transaction.atomic(), pghistory.context(source="seed_demo"):
                service_demo.load(random.Random(2028))  # noqa: S311 - demo data, not security
            self.stdout.write(self.style.SUCCESS("Service demo data loaded."))
        # So did marketing: campaigns with their costs, members, leads and deals.
        if not Campaign.objects.exists() and User.objects.filter(email="marketing@demo.crm").exists():
            with transaction.atomic(), pghistory.context(source="seed_demo"):
                marketing_demo.load(random.Random(2028))  # noqa: S311 - demo data, not security
            self.stdout.write(self.style.SUCCESS("Marketing demo data loaded."))
        if marketing_history.needed():  # a year of costs, attributed deals and newsletters for the dashboard
            with transaction.atomic(), pghistory.context(source="seed_demo"):
                made = marketing_history.load(random.Random(2029))  # noqa: S311 - demo data, not security
            self.stdout.write(self.style.SUCCESS(f"A year of marketing history loaded ({made} e-mails)."))
        if not PortalUser.objects.exists() and Queue.objects.exists():
            with transaction.atomic(), pghistory.context(source="seed_demo"):
                portal_demo.load(DEMO_PASSWORD)
            self.stdout.write(self.style.SUCCESS("Portal demo data loaded."))
        # The customer ranking (reports registers it with the scheduler) runs nightly; the demo ranks once as of a
        # month ago and once now, so the customers dashboard has last month's classes and the movement to read.
        ranking = scheduler.SOURCES.get("customer_ranking")
        if ranking and not Account.objects.exclude(rfm_class="").exists() and Pipeline.objects.exists():
            now = timezone.now()
            ranking(now - timedelta(days=31))
            ranking(now)
            self.stdout.write(self.style.SUCCESS("Customer ranking computed."))
        # Two-factor sign-in is required for admins by default; the demo admin may try the CRM without
        # an authenticator app (an admin turns the rule back on under Administration → Security).
        RoleSecurity.objects.get_or_create(role=Role.ADMIN, defaults={"two_factor_required": False})
        logins = "\n".join(
            f"  {email:<26} {role.label}" for email, _first, _last, role, _team in PEOPLE
        )
        if portal_login := portal_demo.login_line():
            logins += "\n" + portal_login
        if logins_file:
            path = Path(logins_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(logins + "\n", encoding="utf-8")
        self.stdout.write(logins)

    def _load(self):
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        territories = {}

        def add(tree, parent):
            for name, children in tree.items():
                territories[name] = Territory.objects.create(name=name, parent=parent,
                                                             translations=_territory_translations(name))
                add(children, territories[name])

        add(TERRITORIES, None)
        teams = {name: Team.objects.create(name=name, country=TEAM_COUNTRIES.get(name, "")) for name in MANAGERS}
        users = {}
        for email, first, last, role, team in PEOPLE:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, first_name=first, last_name=last, role=role,
                team=teams.get(team), is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN,
                time_zone="Europe/Moscow" if email.endswith(".ru@demo.crm") else "Europe/London",
                language="ru" if email.endswith(".ru@demo.crm") else "en",
            )
            users[email] = user
        for team_name, manager_email in MANAGERS.items():
            teams[team_name].manager = users[manager_email]
            teams[team_name].save(update_fields=["manager"])
        users["rep.ru@demo.crm"].territories.set([territories["Москва"], territories["Санкт-Петербург"]])
        users["rep@demo.crm"].territories.set([territories["United Kingdom"]])
        users["rep2@demo.crm"].territories.set([territories["Germany"], territories["France"]])

        en_owners = [users["rep@demo.crm"], users["rep2@demo.crm"], users["manager@demo.crm"]]
        ru_owners = [users["rep.ru@demo.crm"], users["manager.ru@demo.crm"]]
        types = [AccountType.CUSTOMER] * 4 + [AccountType.PROSPECT] * 3 + [AccountType.PARTNER, AccountType.RESELLER]
        for rows, owners, phone_prefix in ((ACCOUNTS_EN, en_owners, "+44 20 7946 "), (ACCOUNTS_RU, ru_owners,
                                                                                     "+7 495 123-")):
            for index, (name, industry, country, city) in enumerate(rows):
                owner = owners[index % len(owners)]
                territory = territories.get(city) or territories.get(country)
                account = Account.objects.create(
                    name=name, industry=industry, country=country, city=city, owner=owner, team=owner.team,
                    type=rng.choice(types), is_vip=index % 5 == 0, territory=territory,
                    shared_with_team=index % 3 == 0,
                    phone=f"{phone_prefix}{rng.randint(1000, 9999)}" if phone_prefix.startswith("+44")
                    else f"{phone_prefix}{rng.randint(10, 99)}-{rng.randint(10, 99)}",
                    annual_revenue=rng.randint(1, 500) * 100_000, employees=rng.randint(10, 5000),
                    tags=rng.sample(TAGS, k=rng.randint(0, 2)), tier=rng.choice(TIERS),
                )
                self._people_and_work(account, rng, russian=phone_prefix.startswith("+7"))
        accounts = {a.name: a for a in Account.objects.all()}
        accounts["Contoso Pharmaceuticals"].parent = accounts["Northwind Traders"]
        accounts["Contoso Pharmaceuticals"].save(update_fields=["parent"])
        accounts["Lucerne Publishing"].parent = accounts["Northwind Traders"]
        accounts["Lucerne Publishing"].save(update_fields=["parent"])
        CustomField.objects.create(target="accounts.account", key="contract_no", label="Contract number",
                                   kind="text", position=1,
                                   translations={"ru": "Номер договора", "uk": "Номер договору"})
        CustomField.objects.create(target="contacts.contact", key="newsletter_segment", label="Newsletter segment",
                                   kind="choice", choices="Executives\nEngineers\nPurchasing", position=1,
                                   translations={"ru": "Сегмент рассылки", "uk": "Сегмент розсилки"},
                                   choice_translations={"ru": ["Руководители", "Инженеры", "Закупки"],
                                                        "uk": ["Керівники", "Інженери", "Закупівлі"]})

    def _people_and_work(self, account, rng, *, russian: bool):
        """Two or three contacts per account, and the calls, notes, tasks and meetings of a live book."""
        names = PEOPLE_RU if russian else PEOPLE_EN
        owner = account.owner
        now = timezone.now()
        contacts = []
        for number in range(rng.randint(2, 3)):
            first, middle, last, title = rng.choice(names)
            domain = "example.ru" if russian else "example.com"
            phone = (f"+7 916 {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}" if russian
                     else f"+44 20 7946 {rng.randint(1000, 9999)}")
            contacts.append(contact_services.contact_create(
                actor=owner, first_name=first, middle_name=middle, last_name=last, title=title, account=account,
                emails=[f"{translit(first)}.{translit(last)}{number}@{domain}".lower()],
                phones=[normalize_phone(phone)], email_opt_in=rng.random() < 0.4,
                email_opt_in_source="Web form" if russian else "Trade fair sign-up",
                lead_source=rng.choice(["web", "referral", "event", "partner"]),
            ))
        for days_ago in rng.sample(range(1, 120), k=rng.randint(2, 5)):
            contact = rng.choice(contacts)
            kind = rng.choice(["call", "call", "note", "email"])
            activity_services.activity_create(
                actor=owner, kind=kind, account=account, contact=contact,
                subject=rng.choice(CALL_SUBJECTS_RU if russian else CALL_SUBJECTS_EN),
                occurred_at=now - timedelta(days=days_ago, hours=rng.randint(0, 8)),
                direction=rng.choice(["in", "out"]) if kind != "note" else "",
                outcome=rng.choice(["connected", "connected", "no_answer", "voicemail"]) if kind == "call" else "",
                duration_minutes=rng.randint(2, 40) if kind == "call" else None)
        when = (now + timedelta(days=rng.randint(-3, 3))).replace(hour=rng.choice([9, 11, 14, 16]), minute=0, second=0,
                                                                   microsecond=0)
        activity_services.activity_create(
            actor=owner, kind="task", account=account, subject=("Отправить КП: " if russian else "Send proposal: ")
            + account.name, occurred_at=when, priority=rng.choice(["normal", "high"]),
            remind_minutes_before=30 if when > now else None)  # no flood of late reminders on first start
        if rng.random() < 0.5:
            starts = (now + timedelta(days=rng.randint(0, 5))).replace(hour=rng.choice([10, 12, 15]), minute=0,
                                                                        second=0, microsecond=0)
            activity_services.activity_create(
                actor=owner, kind="meeting", account=account, contact=contacts[0], remind_minutes_before=15,
                subject=("Встреча: " if russian else "Meeting: ") + account.name, occurred_at=starts,
                ends_at=starts + timedelta(hours=1), location=account.city)
