"""Synthetic data at scale for benchmarks: `manage.py seed --contacts 1000000`.

Rows are generated in Python in bounded chunks and streamed into PostgreSQL with
COPY (psycopg2's `copy_expert`), one table after another inside one transaction:
accounts, contacts, activities. The ORM is used only for the few users, teams and
territories. Each run adds rows on top of what is there; ids are reserved from the
tables' sequences first, so rows written by the app meanwhile never collide.

The values mirror what the models' save() would store: `Contact.full_name` is
`compose_full_name()`, `Account.phone_e164` is `normalize_phone(phone)`, contact
phones are E.164, `team_id` is the owner's team. Phone numbers come from ranges that
are valid per `phonenumbers` (checked on a sample before every load).
"""

import json
import math
import random
import re
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from activities.models import Activity
from contacts.models import Contact
from crm.models import Role, Team, Territory, User
from crm.phones import normalize_phone

SEED_PASSWORD = "demo-crm-2026"  # noqa: S105 - the published demo password, only for synthetic data
EMAIL_DOMAIN = "seed.crm"
CHUNK_ROWS = 5_000  # rows per COPY buffer: a few MB, so memory stays flat whatever the row count
HOT_ACTIVITIES = 1_000  # the one account whose 360 page the benchmark opens
REBUILD_MIN_ROWS = 50_000  # below this, keep the indexes and let COPY maintain them
REPLICA = "session_replication_role = replica"
YEAR = 365 * 86_400

# --- Vocabulary ------------------------------------------------------------------
# English, German and French people; Russian people with patronymics and gendered surnames.

EN_MALE = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Daniel", "Matthew",
           "Andrew", "Mark", "Paul", "Steven", "George", "Edward", "Oliver", "Harry", "Jack", "Charlie",
           "Samuel", "Joseph", "Benjamin", "Christopher", "Peter", "Simon", "Jonathan", "Adam", "Ryan", "Liam"]
EN_FEMALE = ["Mary", "Elizabeth", "Sarah", "Emma", "Olivia", "Sophie", "Charlotte", "Emily", "Jessica", "Laura",
             "Rachel", "Hannah", "Amelia", "Grace", "Lucy", "Chloe", "Rebecca", "Katherine", "Victoria", "Anna",
             "Helen", "Claire", "Megan", "Natalie", "Isabella", "Jennifer", "Susan", "Karen", "Linda", "Amy"]
# Ordered roughly by frequency: the first names are drawn far more often (Smith is the common one).
EN_LAST = ["Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
           "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
           "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
           "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
           "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths",
           "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy",
           "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh",
           "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali",
           "Hunt", "Hussain", "Campbell", "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
           "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
           "O'Brien", "O'Connor", "Fitzgerald", "Ashworth", "Pemberton", "Whitfield", "Featherstone", "Hargreaves"]
DE_MALE = ["Lukas", "Felix", "Jonas", "Maximilian", "Leon", "Paul", "Stefan", "Michael", "Thomas", "Andreas",
           "Jürgen", "Klaus", "Wolfgang", "Matthias", "Sebastian", "Tobias"]
DE_FEMALE = ["Anna", "Lena", "Lea", "Sophie", "Katharina", "Julia", "Sabine", "Petra", "Monika", "Claudia",
             "Ursula", "Birgit", "Franziska", "Johanna", "Marie", "Hannah"]
DE_LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
           "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
           "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann"]
FR_MALE = ["Jean", "Pierre", "Michel", "Philippe", "Nicolas", "Julien", "Antoine", "Thomas", "Louis", "Hugo",
           "François", "Laurent", "Olivier", "Mathieu", "Sébastien", "Guillaume"]
FR_FEMALE = ["Marie", "Nathalie", "Isabelle", "Sylvie", "Camille", "Manon", "Chloé", "Léa", "Julie", "Sophie",
             "Céline", "Aurélie", "Émilie", "Claire", "Pauline", "Inès"]
FR_LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
           "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
           "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez"]
# Male first name -> (patronymic of his son, patronymic of his daughter).
RU_MALE = {
    "Александр": ("Александрович", "Александровна"), "Алексей": ("Алексеевич", "Алексеевна"),
    "Андрей": ("Андреевич", "Андреевна"), "Анатолий": ("Анатольевич", "Анатольевна"),
    "Артём": ("Артёмович", "Артёмовна"), "Борис": ("Борисович", "Борисовна"),
    "Василий": ("Васильевич", "Васильевна"), "Виктор": ("Викторович", "Викторовна"),
    "Владимир": ("Владимирович", "Владимировна"), "Геннадий": ("Геннадьевич", "Геннадьевна"),
    "Григорий": ("Григорьевич", "Григорьевна"), "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"), "Игорь": ("Игоревич", "Игоревна"),
    "Илья": ("Ильич", "Ильинична"), "Константин": ("Константинович", "Константиновна"),
    "Леонид": ("Леонидович", "Леонидовна"), "Максим": ("Максимович", "Максимовна"),
    "Михаил": ("Михайлович", "Михайловна"), "Николай": ("Николаевич", "Николаевна"),
    "Олег": ("Олегович", "Олеговна"), "Павел": ("Павлович", "Павловна"),
    "Пётр": ("Петрович", "Петровна"), "Роман": ("Романович", "Романовна"),
    "Сергей": ("Сергеевич", "Сергеевна"), "Станислав": ("Станиславович", "Станиславовна"),
    "Валерий": ("Валерьевич", "Валерьевна"), "Юрий": ("Юрьевич", "Юрьевна"),
    "Фёдор": ("Фёдорович", "Фёдоровна"), "Иван": ("Иванович", "Ивановна"),
}
RU_FEMALE = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина", "Светлана", "Юлия",
             "Анастасия", "Марина", "Дарья", "Ксения", "Людмила", "Галина", "Вера", "Надежда", "Алина", "Полина",
             "Виктория", "Евгения", "Софья", "Александра", "Валентина"]
# Male forms, most frequent first; female forms follow the Russian rules in `_ru_female_surname`.
RU_LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
           "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
           "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
           "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров",
           "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов",
           "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров",
           "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков",
           "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
           "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов", "Мартынов",
           "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков", "Маслов",
           "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев",
           "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов",
           "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов",
           "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев",
           "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Еремин", "Тихомиров", "Галкин",
           "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев",
           "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов",
           "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков",
           "Сафонов", "Плотников", "Демин", "Хохлов", "Жданов", "Островский", "Вишневский", "Покровский",
           "Шевченко", "Бондаренко", "Черных", "Седых", "Толстой", "Трубецкой"]

EN_TITLES = ["Chief Executive Officer", "Chief Financial Officer", "Head of Procurement", "Purchasing Manager",
             "Sales Director", "IT Manager", "Operations Director", "Office Manager", "Marketing Manager",
             "Logistics Coordinator", "Finance Controller", "Engineering Lead", "Product Manager",
             "Managing Director", "Account Manager", "Buyer", "HR Business Partner", "Project Manager"]
RU_TITLES = ["Генеральный директор", "Финансовый директор", "Главный бухгалтер", "Коммерческий директор",
             "Руководитель отдела закупок", "Менеджер по закупкам", "IT-директор", "Начальник отдела логистики",
             "Офис-менеджер", "Директор по маркетингу", "Главный инженер", "Руководитель проекта",
             "Специалист по снабжению", "Заместитель директора", "Юрист"]
EN_DEPARTMENTS = ["Procurement", "Finance", "IT", "Operations", "Sales", "Marketing", "Logistics", "Management",
                  "Engineering", "Legal", "HR"]
RU_DEPARTMENTS = ["Закупки", "Бухгалтерия", "ИТ", "Логистика", "Продажи", "Маркетинг", "Руководство",
                  "Производство", "Юридический отдел", "Снабжение"]

# Industry -> words for company names in English/Dutch, German, French and Russian companies.
INDUSTRIES = [
    ("Logistics", ["Logistics", "Freight", "Transport"], ["Logistik", "Spedition"], ["Transports", "Logistique"],
     ["Логистик", "Транс", "Экспедиция"]),
    ("Manufacturing", ["Manufacturing", "Industries", "Components"], ["Maschinenbau", "Fertigung", "Werke"],
     ["Industrie", "Mécanique"], ["Завод", "Пром", "Механика"]),
    ("Software", ["Software", "Systems", "Digital"], ["Software", "Systemhaus", "IT-Service"],
     ["Informatique", "Numérique"], ["Софт", "Системс", "Диджитал"]),
    ("Wholesale", ["Trading", "Supplies", "Wholesale"], ["Handel", "Großhandel"], ["Distribution", "Négoce"],
     ["Торг", "Снаб", "Опт"]),
    ("Retail", ["Retail", "Stores", "Home"], ["Handel", "Warenhaus"], ["Commerce", "Boutiques"],
     ["Маркет", "Ритейл"]),
    ("Healthcare", ["Healthcare", "Medical", "Pharma"], ["Medizintechnik", "Pharma"], ["Santé", "Pharma"],
     ["Мед", "Фарм", "Медтехника"]),
    ("Energy", ["Energy", "Power", "Renewables"], ["Energie", "Solartechnik"], ["Énergie", "Solaire"],
     ["Энерго", "Нефтегаз", "Энергосбыт"]),
    ("Construction", ["Construction", "Builders", "Developments"], ["Bau", "Bauunternehmen"],
     ["Construction", "Bâtiment"], ["Строй", "Монтаж", "Девелопмент"]),
    ("Financial services", ["Capital", "Finance", "Partners"], ["Finanz", "Kapital"], ["Finance", "Capital"],
     ["Инвест", "Капитал", "Финанс"]),
    ("Consulting", ["Consulting", "Advisory", "Associates"], ["Beratung", "Consulting"], ["Conseil", "Expertise"],
     ["Консалт", "Эксперт"]),
    ("Food & Beverage", ["Foods", "Beverages", "Bakeries"], ["Lebensmittel", "Getränke"],
     ["Alimentaire", "Boissons"], ["Продукт", "Агро", "Молоко"]),
    ("Telecom", ["Telecom", "Networks", "Communications"], ["Telekom", "Netze"], ["Télécom", "Réseaux"],
     ["Телеком", "Связь"]),
    ("Media", ["Media", "Publishing", "Studios"], ["Medien", "Verlag"], ["Médias", "Éditions"],
     ["Медиа", "Издательство"]),
    ("Education", ["Learning", "Academy", "Education"], ["Bildung", "Akademie"], ["Formation", "Académie"],
     ["Обучение", "Академия"]),
    ("Automotive", ["Motors", "Automotive", "Parts"], ["Automobil", "Fahrzeugteile"], ["Automobile", "Pièces"],
     ["Авто", "Автокомплект"]),
]
EN_ROOT_A = ["North", "Blue", "Silver", "Red", "Green", "Oak", "Stone", "Bright", "Iron", "Clear", "High", "West",
             "East", "Sun", "River", "Lake", "Cedar", "Maple", "Swift", "Golden", "Black", "White", "Crown", "Star"]
EN_ROOT_B = ["wind", "bridge", "field", "water", "gate", "stone", "wood", "ford", "brook", "light", "point", "crest",
             "vale", "haven", "worth", "line", "peak", "spring", "ridge", "way", "hill", "mark", "well", "side"]
RU_ROOT = ["Север", "Юг", "Урал", "Сибирь", "Волга", "Балтик", "Альфа", "Вектор", "Гранит", "Меридиан", "Стандарт",
           "Прогресс", "Технология", "Ресурс", "Альянс", "Партнёр", "Восток", "Кристалл", "Импульс", "Феникс",
           "Регион", "Центр", "Интер", "Гарант"]

TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True,
))
TRANSLIT.update({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ê": "e", "ç": "c", "â": "a",
                 "î": "i", "ï": "i", "ô": "o", "û": "u", "à": "a", "ë": "e"})

# --- Places -----------------------------------------------------------------------
# Phone generators return (as typed, E.164). Every range was checked against `phonenumbers`.


def _d(rng_random: Callable[[], float], digits: int) -> str:
    return f"{int(rng_random() * 10**digits):0{digits}d}"


def _uk_landline(r):
    area, first = ("20", "3") if r() < 0.5 else ("20", "7")
    local = first + _d(r, 3)
    tail = _d(r, 4)
    return f"+44 {area} {local} {tail}", f"+44{area}{local}{tail}"


def _uk_manchester(r):
    local = str(2 + int(r() * 8)) + _d(r, 2)
    tail = _d(r, 4)
    return f"+44 161 {local} {tail}", f"+44161{local}{tail}"


def _uk_mobile(r):
    prefix = "7" + "4578"[int(r() * 4)] + _d(r, 2)
    if prefix == "7700":  # 07700 is reserved (only 07700 900xxx exists, for drama)
        prefix = "7701"
    tail = _d(r, 6)
    return f"+44 {prefix} {tail}", f"+44{prefix}{tail}"


def _ru(area: str) -> Callable:
    def make(r):
        a, b, c = str(2 + int(r() * 8)) + _d(r, 2), _d(r, 2), _d(r, 2)
        return f"+7 ({area}) {a}-{b}-{c}", f"+7{area}{a}{b}{c}"
    return make


def _ru_mobile(r):
    area = ("916", "903", "905", "915", "925", "926", "929", "977", "985", "999", "910", "921")[int(r() * 12)]
    a, b, c = _d(r, 3), _d(r, 2), _d(r, 2)
    return f"+7 {area} {a}-{b}-{c}", f"+7{area}{a}{b}{c}"


def _kz(area: str) -> Callable:
    def make(r):
        a, b, c = str(2 + int(r() * 2)) + _d(r, 2), _d(r, 2), _d(r, 2)
        return f"+7 {area} {a} {b} {c}", f"+7{area}{a}{b}{c}"
    return make


def _kz_mobile(r):
    area = "70" + "12578"[int(r() * 5)]
    a, b = _d(r, 3), _d(r, 4)
    return f"+7 {area} {a} {b}", f"+7{area}{a}{b}"


def _de(area: str) -> Callable:
    def make(r):
        local = str(1 + int(r() * 9)) + _d(r, 7)
        return f"+49 {area} {local}", f"+49{area}{local}"
    return make


def _de_mobile(r):
    area = ("151", "152", "157", "159", "170", "171", "176")[int(r() * 7)]
    local = _d(r, 8) if area.startswith("15") else _d(r, 7)
    return f"+49 {area} {local}", f"+49{area}{local}"


def _fr(zone: str) -> Callable:
    def make(r):
        pairs = [str(1 + int(r() * 9)) + str(int(r() * 10)), _d(r, 2), _d(r, 2), _d(r, 2)]
        return f"+33 {zone} {' '.join(pairs)}", f"+33{zone}{''.join(pairs)}"
    return make


def _fr_mobile(r):
    first = "01245678"[int(r() * 8)] + str(int(r() * 10))
    rest = [_d(r, 2), _d(r, 2), _d(r, 2)]
    return f"+33 6 {first} {' '.join(rest)}", f"+336{first}{''.join(rest)}"


def _nanp(areas: tuple[str, ...]) -> Callable:
    def make(r):
        area = areas[int(r() * len(areas))]
        exchange = str(2 + int(r() * 8)) + _d(r, 2)
        line = _d(r, 4)
        return f"+1 ({area}) {exchange}-{line}", f"+1{area}{exchange}{line}"
    return make


def _nl(r):
    local, tail = str(1 + int(r() * 9)) + _d(r, 2), _d(r, 4)
    return f"+31 20 {local} {tail}", f"+3120{local}{tail}"


def _nl_mobile(r):
    local = "12345"[int(r() * 5)] + _d(r, 7)
    return f"+31 6 {local}", f"+316{local}"


# (city, landline generator, address format, postcode generator)
def _uk_postcode(outward: tuple[str, ...]) -> Callable:
    def make(r):
        return f"{outward[int(r() * len(outward))]} {int(r() * 10)}{'ABDEFGHJLNPQRSTUWXYZ'[int(r() * 20)]}" \
               f"{'ABDEFGHJLNPQRSTUWXYZ'[int(r() * 20)]}"
    return make


def _digits_postcode(lo: int, hi: int, width: int = 5) -> Callable:
    def make(r):
        return f"{lo + int(r() * (hi - lo)):0{width}d}"
    return make


EN_STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane",
              "King Street", "Queen's Road", "London Road", "Bridge Street", "Market Square", "Albert Embankment"]
DE_STREETS = ["Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Lindenallee", "Industriestraße",
              "Friedrichstraße", "Marktplatz", "Am Hafen", "Gartenweg"]
FR_STREETS = ["rue de la République", "avenue des Champs-Élysées", "rue Victor Hugo", "boulevard Haussmann",
              "rue de la Paix", "avenue Jean Jaurès", "rue Pasteur", "quai des Chartrons"]
NL_STREETS = ["Keizersgracht", "Damrak", "Herengracht", "Stationsplein", "Kalverstraat"]
US_STREETS = ["Main St", "Broadway", "Market St", "Oak Ave", "Pine St", "Madison Ave", "Mission St", "Elm St"]
RU_STREETS = ["ул. Ленина", "ул. Тверская", "Невский пр-т", "ул. Гагарина", "ул. Мира", "пр-т Победы",
              "ул. Садовая", "ул. Советская", "Ленинградский пр-т", "ул. Профсоюзная", "ул. Абая", "пр-т Достык"]

# Address templates use {n} (house number), {street}, {city}, {postcode}; "\\n" is a COPY-escaped line break.
COUNTRIES = {
    "United Kingdom": dict(
        tld="co.uk", forms=["Ltd", "Ltd", "Ltd", "PLC", "LLP"], lang="en", streets=EN_STREETS,
        address="{n} {street}\\n{city} {postcode}", mobile=_uk_mobile,
        cities=[("London", _uk_landline, _uk_postcode(("EC1A", "EC2M", "SW1A", "W1T", "N1", "E14", "SE1"))),
                ("Manchester", _uk_manchester, _uk_postcode(("M1", "M2", "M3", "M4", "M15")))],
    ),
    "Germany": dict(
        tld="de", forms=["GmbH", "GmbH", "GmbH", "AG", "GmbH & Co. KG"], lang="de", streets=DE_STREETS,
        address="{street} {n}\\n{postcode} {city}", mobile=_de_mobile,
        cities=[("Berlin", _de("30"), _digits_postcode(10115, 14199)),
                ("München", _de("89"), _digits_postcode(80331, 81929)),
                ("Hamburg", _de("40"), _digits_postcode(20095, 22769))],
    ),
    "France": dict(
        tld="fr", forms=["SAS", "SARL", "SA"], lang="fr", streets=FR_STREETS,
        address="{n} {street}\\n{postcode} {city}", mobile=_fr_mobile,
        cities=[("Paris", _fr("1"), _digits_postcode(75001, 75020)),
                ("Lyon", _fr("4"), _digits_postcode(69001, 69009))],
    ),
    "Netherlands": dict(
        tld="nl", forms=["B.V.", "B.V.", "N.V."], lang="en", streets=NL_STREETS,
        address="{street} {n}\\n{postcode} {city}", mobile=_nl_mobile,
        cities=[("Amsterdam", _nl, lambda r: f"10{int(r() * 100):02d} {'ABCEGHJKLMNPRSTVWXZ'[int(r() * 19)]}"
                                             f"{'ABCEGHJKLMNPRSTVWXZ'[int(r() * 19)]}")],
    ),
    "USA": dict(
        tld="com", forms=["Inc.", "Inc.", "LLC", "Corp."], lang="en", streets=US_STREETS,
        address="{n} {street}\\n{city}, {postcode}", mobile=_nanp(("917", "646", "415", "312")),
        cities=[("New York", _nanp(("212", "646")), lambda r: f"NY {10001 + int(r() * 280)}"),
                ("San Francisco", _nanp(("415",)), lambda r: f"CA {94102 + int(r() * 30)}"),
                ("Chicago", _nanp(("312",)), lambda r: f"IL {60601 + int(r() * 60)}")],
    ),
    "Canada": dict(
        tld="ca", forms=["Inc.", "Ltd."], lang="en", streets=US_STREETS,
        address="{n} {street}\\n{city}, {postcode}", mobile=_nanp(("416", "647")),
        cities=[("Toronto", _nanp(("416", "647")), lambda r: f"ON M5V {int(r() * 10)}A{int(r() * 10)}"),
                ("Vancouver", _nanp(("604",)), lambda r: f"BC V6B {int(r() * 10)}C{int(r() * 10)}")],
    ),
    "Россия": dict(
        tld="ru", forms=["ООО", "ООО", "ООО", "АО", "ПАО", "ЗАО"], lang="ru", streets=RU_STREETS,
        address="{postcode}, г. {city}, {street}, д. {n}", mobile=_ru_mobile,
        cities=[("Москва", _ru("495"), _digits_postcode(101000, 129999, 6)),
                ("Санкт-Петербург", _ru("812"), _digits_postcode(190000, 199999, 6)),
                ("Екатеринбург", _ru("343"), _digits_postcode(620000, 620999, 6))],
    ),
    "Казахстан": dict(
        tld="kz", forms=["ТОО", "ТОО", "АО"], lang="ru", streets=RU_STREETS,
        address="{postcode}, г. {city}, {street}, д. {n}", mobile=_kz_mobile,
        cities=[("Алматы", _kz("727"), _digits_postcode(50000, 50999, 6))],
    ),
}
LEGAL_FORMS_RU = {"ООО": "Общество с ограниченной ответственностью", "АО": "Акционерное общество",
                  "ПАО": "Публичное акционерное общество", "ЗАО": "Закрытое акционерное общество",
                  "ТОО": "Товарищество с ограниченной ответственностью"}

# Sales regions: each team covers one; accounts of a country are owned by that region's reps.
# (team name stem, countries, share of accounts, territory parent)
REGIONS = [
    ("Sales UK & Ireland", ["United Kingdom"], 0.20, "Europe"),
    ("Vertrieb DACH", ["Germany"], 0.14, "Europe"),
    ("Ventes France & Benelux", ["France", "Netherlands"], 0.12, "Europe"),
    ("Sales North America", ["USA", "Canada"], 0.17, "North America"),
    ("Продажи Россия", ["Россия"], 0.30, "Россия и СНГ"),
    ("Продажи СНГ", ["Казахстан"], 0.07, "Россия и СНГ"),
]

ACCOUNT_TYPES = ["customer"] * 45 + ["prospect"] * 35 + ["partner"] * 8 + ["reseller"] * 6 + ["supplier"] * 4 + \
    ["competitor"] * 2
LEAD_SOURCES = ["web", "campaign", "call", "referral", "event", "partner", "import", "other"]
CHANNELS = ["email", "email", "phone", "phone", "sms", "messenger", "meeting"]
TAGS = ["decision-maker", "influencer", "newsletter", "webinar", "event-2025", "trial", "renewal", "upsell",
        "churn-risk", "champion", "budget-holder", "technical"]
PERSONAL_EN = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com"]
PERSONAL_RU = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru"]

EN_SUBJECTS = {
    "call": ["Discovery call", "Follow-up call about the proposal", "Renewal call", "Call about the invoice",
             "Intro call with procurement", "Check-in call", "Pricing questions"],
    "meeting": ["Quarterly business review", "Product demo", "On-site visit", "Contract negotiation",
                "Kick-off meeting", "Lunch with the buying team"],
    "task": ["Send the updated quote", "Prepare the contract draft", "Chase the purchase order",
             "Book the demo", "Update the account plan", "Send case studies"],
    "note": ["Budget approved for Q3", "Decision postponed to next quarter", "New stakeholder in IT",
             "Competitor offered a 10% discount", "Happy with the support team"],
    "email": ["Re: Proposal", "Pricing for 2026", "Meeting follow-up", "Your quote", "Re: Contract renewal",
              "Introduction"],
}
RU_SUBJECTS = {
    "call": ["Первичный звонок", "Звонок по коммерческому предложению", "Звонок по продлению договора",
             "Уточнение по счёту", "Звонок в отдел закупок", "Плановый звонок"],
    "meeting": ["Квартальная встреча", "Демонстрация продукта", "Выезд к клиенту", "Переговоры по договору",
                "Стартовая встреча проекта"],
    "task": ["Отправить обновлённое КП", "Подготовить проект договора", "Проверить оплату счёта",
             "Назначить демонстрацию", "Обновить план по клиенту"],
    "note": ["Бюджет согласован на III квартал", "Решение перенесено на следующий квартал",
             "Конкурент предложил скидку 10%", "Новый контакт в ИТ-отделе", "Клиент доволен поддержкой"],
    "email": ["Re: Коммерческое предложение", "Цены на 2026 год", "Итоги встречи", "Счёт на оплату",
              "Re: Продление договора"],
}
EN_BODIES = ["", "", "Spoke about volumes for next year.", "They need the quote by Friday.",
             "Agreed next steps: demo for the IT team.\\nSend the security questionnaire.",
             "Asked for references in their industry.", "Budget is tight; decision in two weeks."]
RU_BODIES = ["", "", "Обсудили объёмы на следующий год.", "Нужно КП до пятницы.",
             "Договорились о демонстрации для ИТ.\\nОтправить опросник по безопасности.",
             "Просили рекомендации из их отрасли.", "Бюджет ограничен, решение через две недели."]
MEETING_PLACES = ["Their office", "Our office", "Video call", "Conference room 2", "Trade fair booth"]
CALL_OUTCOMES = ["connected", "connected", "connected", "no_answer", "voicemail", "busy", "wrong_number"]
ACTIVITY_KINDS = ["call"] * 35 + ["email"] * 25 + ["note"] * 15 + ["task"] * 15 + ["meeting"] * 10


def translit(text: str) -> str:
    out = "".join(TRANSLIT.get(ch, ch) for ch in text.lower())
    return re.sub(r"[^a-z0-9]+", "", out)


def slug(text: str) -> str:
    out = "".join(TRANSLIT.get(ch, ch) for ch in text.lower())
    return re.sub(r"[^a-z0-9]+", "-", out).strip("-")


def _ru_female_surname(male: str) -> str:
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    if male.endswith(("ский", "цкий")):
        return male[:-2] + "ая"
    if male.endswith("ой"):
        return male[:-2] + "ая"
    return male  # Шевченко, Черных: the same for both


def _zipf_weights(count: int, exponent: float = 0.9) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


def inn_check_digit(digits: str) -> str:
    """The check digit of a 10-digit Russian company INN (ИНН юрлица)."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


class Picker:
    """Weighted choice from a list without the per-call cost of random.choices: a lookup table."""

    def __init__(self, items: list, weights: list[float] | None = None, resolution: int = 4096):
        if weights is None:
            self.table = list(items)
        else:
            total = sum(weights)
            self.table = []
            for item, weight in zip(items, weights, strict=True):
                self.table.extend([item] * max(1, round(weight / total * resolution)))
        self.size = len(self.table)

    def __call__(self, r: Callable[[], float]):
        return self.table[int(r() * self.size)]


# --- Text-format COPY helpers -----------------------------------------------------
# Every generated value comes from the vocabularies above, which contain no tab, newline
# or backslash; the only escape we emit is the literal "\n" for multi-line addresses.

NULL = "\\N"


class ChunkReader:
    """A file-like object for copy_expert: each read() returns the next generated chunk."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks

    def read(self, size: int = -1) -> bytes:  # psycopg2 accepts chunks of any length
        return next(self._chunks, b"")

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


class Timestamps:
    """Fast 'YYYY-MM-DD HH:MM:SS+00' from epoch seconds: dates are looked up, not formatted."""

    def __init__(self, now: datetime, years_back: int = 6, days_ahead: int = 60):
        self.first_day = (now - timedelta(days=365 * years_back)).date()
        self.epoch0 = int(datetime(self.first_day.year, self.first_day.month, self.first_day.day,
                                   tzinfo=UTC).timestamp())
        days = 365 * years_back + days_ahead + 2
        self.days = [(self.first_day + timedelta(days=i)).isoformat() for i in range(days)]

    def __call__(self, epoch: float) -> str:
        day, second = divmod(int(epoch) - self.epoch0, 86_400)
        hour, rest = divmod(second, 3600)
        return f"{self.days[day]} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}+00"


def copy_text(value) -> str:
    """One value in COPY's text format (for the few defaults we do not generate ourselves)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, tuple)):
        items = ('"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"' for item in value)
        text = "{" + ",".join(items) + "}"
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (date, datetime)):
        text = value.isoformat()
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def other_columns(model, generated: list[str]) -> tuple[list[str], str]:
    """Columns of `model` we do not generate (fields added since this command was written), with
    their model defaults, so COPY does not put NULL into a NOT NULL column. Only columns that
    exist in the database count: the code may be ahead of the migrations."""
    with connection.cursor() as cursor:
        existing = {column.name for column in connection.introspection.get_table_description(
            cursor, model._meta.db_table)}
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in generated or field.column not in existing:
            continue
        default = field.get_default()
        if default is None or field.primary_key:
            continue
        columns.append(field.column)
        values.append(copy_text(default))
    return columns, "\t".join(values)


def copy_rows(model, columns: list[str], rows: Iterator[str]) -> None:
    extra_columns, extra_values = other_columns(model, columns)
    if extra_columns:
        suffix = "\t" + extra_values
        rows = (row + suffix for row in rows)
    table = model._meta.db_table
    sql = f"COPY {table} ({', '.join(columns + extra_columns)}) FROM STDIN"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, ChunkReader(chunked(rows)), size=1 << 20)


def chunked(rows: Iterator[str], rows_per_chunk: int = CHUNK_ROWS) -> Iterator[bytes]:
    buffer: list[str] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= rows_per_chunk:
            buffer.append("")
            yield "\n".join(buffer).encode()
            buffer = []
    if buffer:
        buffer.append("")
        yield "\n".join(buffer).encode()


# --- The command ------------------------------------------------------------------


class Owner:
    __slots__ = ("id", "team_id", "region")

    def __init__(self, user_id: int, team_id: int | None, region: int):
        self.id, self.team_id, self.region = user_id, team_id, region


class Command(BaseCommand):
    help = "Adds synthetic accounts, contacts and activities at scale with COPY (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=10_000, help="Contacts to add (default 10,000).")
        parser.add_argument("--accounts", type=int, default=None, help="Accounts to add (default contacts/5).")
        parser.add_argument("--activities", type=int, default=None,
                            help="Activities to add (default 2 x contacts); one account gets exactly 1,000.")
        parser.add_argument("--users", type=int, default=50,
                            help="Sales users to spread ownership over; missing ones are created (default 50).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument("--no-vacuum", action="store_true",
                            help="Only ANALYZE after the load (VACUUM sets the visibility map for index-only scans).")
        parser.add_argument("--keep-indexes", action="store_true",
                            help="Maintain indexes row by row instead of rebuilding them after a big load.")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed writes large amounts of synthetic data and refuses to run with DEBUG off "
                               "(is this production?). Pass --force if you mean it.")
        n_contacts = options["contacts"]
        n_accounts = options["accounts"] if options["accounts"] is not None else max(1, n_contacts // 5)
        n_activities = options["activities"] if options["activities"] is not None else 2 * n_contacts
        if min(n_contacts, n_accounts, n_activities) < 0 or n_accounts < 1:
            raise CommandError("Counts must be positive (and at least one account).")

        started = time.perf_counter()
        self.now = timezone.now().replace(microsecond=0)
        self.ts = Timestamps(self.now)
        self.check_phone_generators(random.Random(options["seed"]))  # noqa: S311 - synthetic data

        owners = self.ensure_sales_force(options["users"])
        executive = self.ensure_executive()
        territories = self.ensure_territories()
        acc_start = self.reserve_ids("accounts_account", n_accounts)
        con_start = self.reserve_ids("contacts_contact", n_contacts)
        act_start = self.reserve_ids("crm_activity", n_activities)
        # Same seed on the same database gives the same data; a second run adds different rows.
        self.rng = random.Random(f"{options['seed']}:{acc_start}:{con_start}")  # noqa: S311 - not security
        self.stdout.write(f"Loading {n_accounts:,} accounts, {n_contacts:,} contacts, {n_activities:,} activities "
                          f"for {len({o.id for o in owners})} sales users ...")

        timings = []
        loads = {"accounts_account": n_accounts, "contacts_contact": n_contacts, "crm_activity": n_activities}
        with transaction.atomic():
            saved = self.session_settings()
            self.disable_triggers()
            with connection.cursor() as cursor:
                # For the index rebuilds below; LOCAL ends with the transaction.
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            rebuild = {} if options["keep_indexes"] else {
                table: self.drop_secondary_indexes(table) for table, rows in loads.items() if self.worth_rebuilding(
                    table, rows)}
            timings.append(self.timed("accounts_account", n_accounts, lambda: self.load_accounts(
                acc_start, n_accounts, owners, territories)))
            timings.append(self.timed("contacts_contact", n_contacts, lambda: self.load_contacts(
                con_start, n_contacts, acc_start, n_accounts, owners)))
            timings.append(self.timed("crm_activity", n_activities, lambda: self.load_activities(
                act_start, n_activities, acc_start, n_accounts, con_start, n_contacts)))
            for table, definitions in rebuild.items():
                t0 = time.perf_counter()
                with connection.cursor() as cursor:
                    for definition in definitions:
                        cursor.execute(definition)
                timings.append((f"indexes {table}", None, time.perf_counter() - t0))
                self.stdout.write(f"  rebuilt {len(definitions)} indexes on {table} in {timings[-1][2]:.1f} s")
            for table in loads:
                self.reset_sequence(table)
            # Called inside an outer transaction (a test, a script), SET LOCAL would outlive this
            # block and keep history triggers off for whatever runs next in that transaction.
            self.restore_session_settings(saved)

        t0 = time.perf_counter()
        tables = ["accounts_account", "contacts_contact", "crm_activity"]
        vacuum = not options["no_vacuum"] and not connection.in_atomic_block  # VACUUM cannot run in a transaction
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {table}")
        timings.append(("VACUUM ANALYZE" if vacuum else "ANALYZE", None, time.perf_counter() - t0))

        self.report(timings, time.perf_counter() - started)
        self.stdout.write(f"Account with {self.hot_count:,} activities (for the benchmark): id={self.hot_account_id}")
        self.stdout.write(f"Sign in as a sales manager: {self.manager_email}, an executive: {executive.email} "
                          f"(password {SEED_PASSWORD} for users this command created).")

    # --- Setup through the ORM (a few rows) --------------------------------------

    def check_phone_generators(self, rng: random.Random) -> None:
        """Guard against a range typo: a sample of every generator must be valid and already E.164."""
        generators = []
        for country in COUNTRIES.values():
            generators.append(country["mobile"])
            generators.extend(city[1] for city in country["cities"])
        for generator in generators:
            for _ in range(200):
                typed, e164 = generator(rng.random)
                if normalize_phone(typed) != e164 or normalize_phone(e164) != e164:
                    raise CommandError(f"Phone generator {generator.__name__} made an invalid number: {typed}")

    def ensure_sales_force(self, wanted: int) -> list[Owner]:
        sales_roles = [Role.SALES_REP, Role.SALES_MANAGER]
        existing = User.objects.filter(is_active=True, role__in=sales_roles).count()
        missing = max(0, wanted - existing)
        password = make_password(SEED_PASSWORD)  # hashed once: hashing per user would take a second each
        if missing:
            # About ten people per team, and at least one team per sales region when there are enough people.
            n_teams = max(1, min(missing // 2, max(len(REGIONS), math.ceil(missing / 10))))
            taken = set(Team.objects.values_list("name", flat=True))
            emails = set(User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).values_list("email", flat=True))
            names = random.Random(len(emails))  # noqa: S311 - synthetic names
            number = len(emails)

            def next_email(kind: str) -> str:
                nonlocal number
                while True:
                    number += 1
                    email = f"{kind}{number}@{EMAIL_DOMAIN}"
                    if email not in emails:
                        return email

            for index in range(n_teams):
                stem = REGIONS[index % len(REGIONS)][0]
                suffix = 1
                while f"{stem} {suffix}" in taken:
                    suffix += 1
                team = Team.objects.create(name=f"{stem} {suffix}")
                taken.add(team.name)
                size = missing // n_teams + (1 if index < missing % n_teams else 0)
                russian = stem.startswith("Продажи")
                people = []
                for member in range(size):
                    female = names.random() < 0.5
                    if russian:
                        first = names.choice(RU_FEMALE) if female else names.choice(list(RU_MALE))
                        last = names.choice(RU_LAST[:60])
                        last = _ru_female_surname(last) if female else last
                    else:
                        first = names.choice(EN_FEMALE if female else EN_MALE)
                        last = names.choice(EN_LAST[:60])
                    role = Role.SALES_MANAGER if member == 0 else Role.SALES_REP
                    people.append(User(
                        email=next_email("manager" if member == 0 else "rep"), first_name=first, last_name=last,
                        role=role, team=team, password=password, language="ru" if russian else "en",
                        time_zone="Europe/Moscow" if russian else "Europe/London",
                    ))
                created = User.objects.bulk_create(people)
                team.manager = created[0]
                team.save(update_fields=["manager"])
            self.stdout.write(f"Created {n_teams} teams and {missing} sales users (one manager per team).")

        region_of_team = {}
        stems = [region[0] for region in REGIONS]
        for team_id, name in Team.objects.values_list("id", "name"):
            matches = [i for i, stem in enumerate(stems) if name.startswith(stem)]
            if matches:
                region_of_team[team_id] = matches[0]
            elif re.search("[а-яА-Я]", name):
                region_of_team[team_id] = 4
            else:
                region_of_team[team_id] = team_id % 4
        owners = []
        for user_id, team_id, role in User.objects.filter(is_active=True, role__in=sales_roles).order_by("id") \
                .values_list("id", "team_id", "role"):
            region = region_of_team.get(team_id, user_id % len(REGIONS))
            # Reps own most of the book; managers keep a few key accounts.
            owners.extend([Owner(user_id, team_id, region)] * (1 if role == Role.SALES_MANAGER else 3))
        if not owners:
            raise CommandError("No sales users to own the data (use --users N with N > 0).")
        manager = User.objects.filter(role=Role.SALES_MANAGER, is_active=True, managed_teams__isnull=False) \
            .order_by("id").first()
        self.manager_email = manager.email if manager else "(none)"
        return owners

    def ensure_executive(self) -> User:
        executive = User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id").first()
        if executive is None:
            executive = User.objects.create(
                email=f"executive@{EMAIL_DOMAIN}", first_name="Eleanor", last_name="Whitfield", role=Role.EXECUTIVE,
                password=make_password(SEED_PASSWORD),
            )
        return executive

    def ensure_territories(self) -> dict[str, int]:
        """Territory id per country, under the region's parent (reusing the demo data's tree when present)."""
        ids = {}
        for _stem, countries, _share, parent_name in REGIONS:
            parent, _ = Territory.objects.get_or_create(name=parent_name, parent=None)
            for country in countries:
                territory, _ = Territory.objects.get_or_create(name=country, parent=parent)
                ids[country] = territory.pk
        return ids

    def reserve_ids(self, table: str, count: int) -> int:
        """Moves the table's sequence past `count` ids and returns the first reserved id.

        Sequences are not transactional: the block stays reserved even if the load fails,
        and the app's own inserts meanwhile get ids above it, so nothing collides."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 - constant table name  # nosec B608
                f"GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table})) + %s - 1)",
                [table, table, max(count, 1)],
            )
            last = cursor.fetchone()[0]
        return last - max(count, 1) + 1

    def reset_sequence(self, table: str) -> None:
        """Sequence >= MAX(id), never backwards: the ORM's next insert gets a fresh id."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(seq, GREATEST(COALESCE(pg_sequence_last_value(seq::regclass), 1), "  # noqa: S608 - constant table name  # nosec B608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))) "
                "FROM pg_get_serial_sequence(%s, 'id') AS seq",
                [table],
            )

    SESSION_SETTINGS = ("session_replication_role", "pgtrigger.ignore", "synchronous_commit",
                        "maintenance_work_mem")

    def session_settings(self) -> dict[str, str | None]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["current_setting(%s, true)"] * len(self.SESSION_SETTINGS)),
                           list(self.SESSION_SETTINGS))
            return dict(zip(self.SESSION_SETTINGS, cursor.fetchone(), strict=True))

    def restore_session_settings(self, saved: dict[str, str | None]) -> None:
        with connection.cursor() as cursor:
            for name, value in saved.items():
                if name == "session_replication_role" and self.trigger_mode != REPLICA:
                    continue  # we did not change it (and may not be allowed to)
                if name == "pgtrigger.ignore":
                    if self.trigger_mode == REPLICA:
                        continue
                    value = value or "{}"  # an empty list: ignore nothing
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])

    def worth_rebuilding(self, table: str, rows: int) -> bool:
        """Rebuilding an index sorts once; inserting row by row into 8-11 indexes (three of them GIN on
        contacts) costs far more for a big load. A small load on a big table keeps its indexes."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT GREATEST(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table])
            existing = cursor.fetchone()[0]
        return rows >= REBUILD_MIN_ROWS and rows >= existing / 4

    def drop_secondary_indexes(self, table: str) -> list[str]:
        """Drops the table's plain indexes (not the primary key or unique ones) and returns their
        exact definitions. DDL is transactional: if the load fails, the indexes come back untouched.
        Holding the table's lock until commit is fine for a seeding tool."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT indisunique ORDER BY indexrelid",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [definition for _name, definition in indexes]

    def disable_triggers(self) -> None:
        """No history events for synthetic rows, and no per-row trigger cost during COPY.

        Chosen: `SET LOCAL session_replication_role = replica`. Ordinary triggers (the
        pghistory/pgtrigger insert triggers are ENABLE ORIGIN) do not fire in replica mode,
        and neither do the foreign-key check triggers, which would otherwise cost one
        index probe per FK per row (four per activity). Our rows are consistent by
        construction: every id they name was loaded earlier in this transaction or read
        from the database. LOCAL ends with the transaction, so nothing leaks into later
        work on this connection, and other sessions keep their triggers.

        Not chosen: `pgtrigger.ignore()` works by prefixing each statement Django executes
        with set_config('pgtrigger.ignore', ...); COPY through copy_expert bypasses Django's
        execute wrappers, and each row would still call the trigger function (with its
        exception block) only for it to return early. `ALTER TABLE ... DISABLE TRIGGER`
        would switch history off for every session until re-enabled.

        Changing session_replication_role needs superuser (or, on PostgreSQL 15+,
        GRANT SET ON PARAMETER). Without it we fall back to pgtrigger's own ignore setting,
        set for this transaction: still no events, but FK checks and trigger calls remain."""
        with connection.cursor() as cursor:
            if self.may_set_replication_role():
                cursor.execute("SET LOCAL session_replication_role = replica")
                self.trigger_mode = REPLICA
            else:
                cursor.execute(
                    "SELECT array_agg(tgname::text) FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid IN ('accounts_account'::regclass, 'contacts_contact'::regclass, "
                    "'crm_activity'::regclass)"
                )
                names = cursor.fetchone()[0] or []
                cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"])
                self.trigger_mode = "pgtrigger.ignore (no superuser: FK checks stay on)"
            cursor.execute("SET LOCAL synchronous_commit = off")
        self.stdout.write(f"History triggers off for the load via {self.trigger_mode}.")

    def may_set_replication_role(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            return cursor.fetchone()[0]

    def timed(self, table: str, rows: int, load: Callable[[], None]) -> tuple[str, int, float]:
        t0 = time.perf_counter()
        load()
        elapsed = time.perf_counter() - t0
        rate = rows / elapsed if elapsed else 0
        self.stdout.write(f"  {table:<24} {rows:>12,} rows {elapsed:8.1f} s {rate:>12,.0f} rows/s")
        return table, rows, elapsed

    def report(self, timings, total: float) -> None:
        self.stdout.write("")
        self.stdout.write(f"{'step':<26} {'rows':>12} {'seconds':>9} {'rows/s':>12}")
        for step, rows, elapsed in timings:
            if rows is None:
                self.stdout.write(f"{step:<26} {'':>12} {elapsed:9.1f}")
            else:
                rate = rows / elapsed if elapsed else 0
                self.stdout.write(f"{step:<26} {rows:>12,} {elapsed:9.1f} {rate:>12,.0f}")
        self.stdout.write(self.style.SUCCESS(f"{'total':<26} {'':>12} {total:9.1f}"))

    # --- Accounts --------------------------------------------------------------------

    ACCOUNT_COLUMNS = [
        "id", "name", "legal_name", "tax_number", "type", "industry", "is_vip", "territory_id", "parent_id",
        "phone", "phone_e164", "email", "website", "country", "city", "address", "annual_revenue", "employees",
        "description", "owner_id", "team_id", "shared_with_team", "created_at", "updated_at", "deleted_at",
    ]

    def load_accounts(self, start: int, count: int, owners: list[Owner], territories: dict[str, int]) -> None:
        r = self.rng.random
        region_picker = Picker(list(range(len(REGIONS))), [region[2] for region in REGIONS])
        owners_by_region = [[o for o in owners if o.region == i] or owners for i in range(len(REGIONS))]
        # Per-account facts the contacts and activities need later, in compact arrays.
        self.acc_owner = array("l", [0]) * count
        self.acc_team = array("l", [0]) * count
        self.acc_country = bytearray(count)
        self.acc_domain: list[str] = [""] * count
        self.hot_account_id = start
        manager_teams = set(Team.objects.filter(manager__isnull=False).values_list("id", flat=True))
        hot_owner = next((o for o in owners if o.team_id in manager_teams), owners[0])
        country_names = list(COUNTRIES)
        self.country_names = country_names
        self.copy_ts_range = (self.now.timestamp() - 5 * YEAR, self.now.timestamp() - 30 * 86_400)
        copy_rows(Account, self.ACCOUNT_COLUMNS,
                  self._account_rows(start, count, r, region_picker, owners_by_region, territories, hot_owner))

    def _account_rows(self, start, count, r, region_picker, owners_by_region, territories, hot_owner):
        ts = self.ts
        now = self.now.timestamp()
        created_lo, created_hi = self.copy_ts_range
        industries = INDUSTRIES
        n_ind = len(industries)
        for i in range(count):
            region = region_picker(r)
            countries = REGIONS[region][1]
            country_name = countries[int(r() * len(countries))]
            country = COUNTRIES[country_name]
            city, landline, postcode = country["cities"][int(r() * len(country["cities"]))]
            owner = hot_owner if i == 0 else owners_by_region[region][int(r() * len(owners_by_region[region]))]
            industry, en_words, de_words, fr_words, ru_words = industries[int(r() * n_ind)]
            lang = country["lang"]
            form = country["forms"][int(r() * len(country["forms"]))]
            if lang == "ru":
                core = RU_ROOT[int(r() * len(RU_ROOT))] + ru_words[int(r() * len(ru_words))].lower()
                name = f"{form} «{core}»"
                legal_name = f"{LEGAL_FORMS_RU.get(form, form)} «{core}»"
                domain_core = translit(core)
            else:
                if lang == "de":
                    root = DE_LAST[int(r() * len(DE_LAST))]
                    word = de_words[int(r() * len(de_words))]
                elif lang == "fr":
                    root = FR_LAST[int(r() * len(FR_LAST))]
                    word = fr_words[int(r() * len(fr_words))]
                else:
                    root = EN_ROOT_A[int(r() * len(EN_ROOT_A))] + EN_ROOT_B[int(r() * len(EN_ROOT_B))]
                    word = en_words[int(r() * len(en_words))]
                core = f"{root} {word}"
                name = f"{core} {form}"
                legal_name = f"{core} Limited" if form == "Ltd" else name
                domain_core = slug(core)
            domain = f"{domain_core}.{country['tld']}"
            typed, e164 = landline(r) if r() < 0.9 else ("", "")
            tax = self._tax_number(country_name, r) if r() < 0.75 else ""
            street = country["streets"][int(r() * len(country["streets"]))]
            address = country["address"].format(n=1 + int(r() * 180), street=street, city=city, postcode=postcode(r))
            revenue = f"{round(10 ** (5 + r() * 4), -3):.2f}" if r() < 0.8 else NULL
            employees = str(int(10 ** (r() * 4.3)) + 1) if r() < 0.85 else NULL
            created = created_lo + r() * (created_hi - created_lo)
            updated = created + r() * (now - created)
            hot = i == 0
            deleted = ts(updated) if (not hot and r() < 0.003) else NULL
            parent = str(start + int(r() * i)) if (i > 10 and r() < 0.02) else NULL
            team_id = owner.team_id
            self.acc_owner[i] = owner.id
            self.acc_team[i] = team_id or 0
            self.acc_country[i] = self.country_names.index(country_name)
            self.acc_domain[i] = domain
            yield "\t".join((
                str(start + i), name, legal_name, tax, "customer" if hot else ACCOUNT_TYPES[int(r() * 100)],
                industry, "t" if (hot or i % 50 == 1) else "f", str(territories[country_name]),
                parent, typed, e164, ("info@", "sales@", "office@", "hello@")[int(r() * 4)] + domain,
                f"https://www.{domain}", country_name, city, address, revenue, employees,
                "" if r() < 0.85 else "Key account: framework agreement, annual review in Q4.",
                str(owner.id), str(team_id) if team_id else NULL, "t" if r() < 0.15 else "f",
                ts(created), ts(updated), deleted,
            ))

    @staticmethod
    def _tax_number(country: str, r) -> str:
        if country == "Россия":
            digits = _d(r, 9)
            return digits + inn_check_digit(digits)
        if country == "Казахстан":
            return _d(r, 12)
        if country == "USA":
            return f"{10 + int(r() * 89)}-{_d(r, 7)}"
        if country == "Canada":
            return f"{_d(r, 9)}RT0001"
        prefix = {"United Kingdom": "GB", "Germany": "DE", "France": "FR", "Netherlands": "NL"}[country]
        if country == "France":
            return f"FR{_d(r, 2)}{_d(r, 9)}"
        if country == "Netherlands":
            return f"NL{_d(r, 9)}B01"
        return prefix + _d(r, 9)

    # --- Contacts --------------------------------------------------------------------

    CONTACT_COLUMNS = [
        "id", "first_name", "middle_name", "last_name", "full_name", "title", "department", "account_id",
        "emails", "phones", "preferred_channel", "birthday", "address", "lead_source", "tags", "description",
        "email_opt_in", "email_opt_in_at", "email_opt_in_source", "email_opt_in_wording", "email_opted_out_at",
        "do_not_call", "owner_id", "team_id", "shared_with_team", "created_at", "updated_at", "deleted_at",
    ]

    def load_contacts(self, start: int, count: int, acc_start: int, n_accounts: int, owners: list[Owner]) -> None:
        self.con_account = array("l", [0]) * count  # account index + 1, 0 = no account
        self.con_owner = array("l", [0]) * count
        self.con_team = array("l", [0]) * count
        self.hot_contacts: list[int] = []
        copy_rows(Contact, self.CONTACT_COLUMNS, self._contact_rows(start, count, acc_start, n_accounts, owners))

    def _people(self):
        """Name pickers per language: (first male, first female, last) with frequency skew."""
        en_last = Picker(EN_LAST, _zipf_weights(len(EN_LAST)), 8192)
        ru_last = Picker(RU_LAST, _zipf_weights(len(RU_LAST)), 8192)
        return {
            "en": (Picker(EN_MALE, _zipf_weights(len(EN_MALE), 0.5)),
                   Picker(EN_FEMALE, _zipf_weights(len(EN_FEMALE), 0.5)), en_last),
            "de": (Picker(DE_MALE), Picker(DE_FEMALE), Picker(DE_LAST, _zipf_weights(len(DE_LAST)))),
            "fr": (Picker(FR_MALE), Picker(FR_FEMALE), Picker(FR_LAST, _zipf_weights(len(FR_LAST)))),
            "ru": (Picker(list(RU_MALE), _zipf_weights(len(RU_MALE), 0.5)),
                   Picker(RU_FEMALE, _zipf_weights(len(RU_FEMALE), 0.5)), ru_last),
        }

    def _contact_rows(self, start, count, acc_start, n_accounts, owners):
        r = self.rng.random
        ts = self.ts
        now = self.now.timestamp()
        people = self._people()
        ru_fathers = list(RU_MALE)
        translit_cache: dict[str, str] = {}

        def lat(text: str) -> str:
            value = translit_cache.get(text)
            if value is None:
                value = translit_cache[text] = translit(text)
            return value

        country_of = [COUNTRIES[name] for name in self.country_names]
        created_lo = now - 4 * YEAR
        birthday_lo = date(1960, 1, 1).toordinal()
        for i in range(count):
            # The first contacts go one per account so every company has someone; then at random.
            if i < n_accounts:
                account = i
            elif r() < 0.95:
                account = int(r() * n_accounts)
            else:
                account = -1
            if account >= 0:
                country = country_of[self.acc_country[account]]
                owner_id = self.acc_owner[account] if r() < 0.9 else 0
                team_id = self.acc_team[account]
                if owner_id == 0:  # a colleague from another team works this person
                    owner = owners[int(r() * len(owners))]
                    owner_id, team_id = owner.id, owner.team_id or 0
                domain = self.acc_domain[account]
            else:
                owner = owners[int(r() * len(owners))]
                owner_id, team_id = owner.id, owner.team_id or 0
                country = country_of[int(r() * len(country_of))]
                domain = ""
            lang = country["lang"]
            male_p, female_p, last_p = people[lang]
            female = r() < 0.45
            first = female_p(r) if female else male_p(r)
            last = last_p(r)
            if lang == "ru":
                if female:
                    last = _ru_female_surname(last)
                father = ru_fathers[int(r() * len(ru_fathers))]
                middle = RU_MALE[father][1 if female else 0] if r() < 0.9 else ""
            elif lang == "en" and r() < 0.2:
                middle = male_p(r) if not female else female_p(r)
            else:
                middle = ""
            full_name = " ".join(part for part in (first, middle, last) if part)
            f_lat, l_lat = lat(first), lat(last)
            emails = []
            if domain:
                style = r()
                local = f"{f_lat}.{l_lat}" if style < 0.6 else f"{f_lat[0]}.{l_lat}" if style < 0.85 \
                    else f"{f_lat[0]}{l_lat}"
                emails.append(f"{local}@{domain}")
            if not domain or r() < 0.2:
                personal = PERSONAL_RU if lang == "ru" else PERSONAL_EN
                emails.append(f"{f_lat}.{l_lat}{int(r() * 1000)}@{personal[int(r() * len(personal))]}")
            phones = []
            if r() < 0.85:
                phones.append(country["mobile"](r)[1])
            if domain and r() < 0.4:
                city = country["cities"][int(r() * len(country["cities"]))]
                phones.append(city[1](r)[1])
            titles = RU_TITLES if lang == "ru" else EN_TITLES
            departments = RU_DEPARTMENTS if lang == "ru" else EN_DEPARTMENTS
            created = created_lo + r() * (4 * YEAR - 86_400)
            updated = created + r() * (now - created)
            opt_in = r() < 0.4
            opted_out = opt_in and r() < 0.05
            n_tags = int(r() * r() * 4)
            tags = {TAGS[int(r() * len(TAGS))] for _ in range(n_tags)}
            if account >= 0:
                self.con_account[i] = account + 1
                if account == 0:
                    self.hot_contacts.append(start + i)
            self.con_owner[i] = owner_id
            self.con_team[i] = team_id
            yield "\t".join((
                str(start + i), first, middle, last, full_name,
                titles[int(r() * len(titles))] if r() < 0.8 else "",
                departments[int(r() * len(departments))] if r() < 0.5 else "",
                str(acc_start + account) if account >= 0 else NULL,
                "{" + ",".join(emails) + "}", "{" + ",".join(phones) + "}",
                CHANNELS[int(r() * len(CHANNELS))] if r() < 0.6 else "",
                date.fromordinal(birthday_lo + int(r() * 14_600)).isoformat() if r() < 0.25 else NULL,
                "" if r() < 0.8 or account < 0 else self._address(country, r),
                LEAD_SOURCES[int(r() * len(LEAD_SOURCES))] if r() < 0.7 else "",
                "{" + ",".join(sorted(tags)) + "}",
                "" if r() < 0.9 else ("Prefers calls after 3 pm." if lang != "ru" else "Звонить после 15:00."),
                "t" if opt_in else "f",
                ts(created + r() * (updated - created)) if opt_in else NULL,
                ("Web form: newsletter" if r() < 0.6 else "Trade fair sign-up sheet") if opt_in else "",
                "I agree to receive product news and offers by e-mail." if opt_in else "",
                ts(updated) if opted_out else NULL,
                "t" if r() < 0.04 else "f",
                str(owner_id), str(team_id) if team_id else NULL, "t" if r() < 0.15 else "f",
                ts(created), ts(updated), ts(updated) if r() < 0.005 else NULL,
            ))

    @staticmethod
    def _address(country: dict, r) -> str:
        city, _phone, postcode = country["cities"][int(r() * len(country["cities"]))]
        street = country["streets"][int(r() * len(country["streets"]))]
        return country["address"].format(n=1 + int(r() * 180), street=street, city=city, postcode=postcode(r))

    # --- Activities ------------------------------------------------------------------

    ACTIVITY_COLUMNS = [
        "id", "kind", "subject", "body", "account_id", "contact_id", "occurred_at", "ends_at", "location",
        "direction", "outcome", "duration_minutes", "priority", "status", "completed_at", "remind_minutes_before",
        "owner_id", "team_id", "shared_with_team", "created_at", "updated_at", "deleted_at",
    ]

    def load_activities(self, start, count, acc_start, n_accounts, con_start, n_contacts) -> None:
        self.hot_count = min(HOT_ACTIVITIES, count)
        copy_rows(Activity, self.ACTIVITY_COLUMNS,
                  self._activity_rows(start, count, acc_start, n_accounts, con_start, n_contacts))
        # The arrays are only needed during the load.
        del self.con_account, self.con_owner, self.con_team, self.acc_owner, self.acc_team, self.acc_domain

    def _activity_rows(self, start, count, acc_start, n_accounts, con_start, n_contacts):
        r = self.rng.random
        ts = self.ts
        now = self.now.timestamp()
        today = now - now % 86_400
        days = 2 * 365
        vip_count = max(0, (n_accounts - 2) // 50)
        ru_country = {self.country_names.index("Россия"), self.country_names.index("Казахстан")}
        hot_contacts = self.hot_contacts
        for i in range(count):
            if i < self.hot_count:  # the benchmark's account: exactly HOT_ACTIVITIES rows
                account = 0
                contact = hot_contacts[int(r() * len(hot_contacts))] - con_start if hot_contacts and r() < 0.7 \
                    else -1
            else:
                account, contact = -1, -1
                if n_contacts and r() < 0.65:
                    for _attempt in range(5):  # about a person (and their company, if any)
                        contact = int(r() * n_contacts)
                        account = self.con_account[contact] - 1
                        if account != 0:
                            break
                    else:
                        contact, account = -1, -1
                if account < 0 and contact < 0 and n_accounts > 1:
                    # About a company; key accounts (every 50th) get several times more.
                    if vip_count and r() < 0.2:
                        account = 1 + 50 * int(r() * vip_count)
                    else:
                        account = 1 + int(r() * (n_accounts - 1))
                if account < 0 and contact < 0:  # a one-account load: everything goes to it
                    account = 0
            if contact >= 0:
                owner_id, team_id = self.con_owner[contact], self.con_team[contact]
            else:
                owner_id, team_id = self.acc_owner[account], self.acc_team[account]
            russian = account >= 0 and self.acc_country[account] in ru_country
            subjects = RU_SUBJECTS if russian else EN_SUBJECTS
            bodies = RU_BODIES if russian else EN_BODIES
            kind = ACTIVITY_KINDS[int(r() * 100)]
            # Working hours (07:00-18:00 UTC) on a day of the last two years, on the 5 minutes like people log them.
            occurred = today - int(r() * days) * 86_400 + 25_200 + int(r() * 132) * 300
            location = direction = outcome = status = ""
            ends = duration = completed = remind = NULL
            priority = "normal"
            if kind == "call":
                direction = "out" if r() < 0.7 else "in"
                outcome = CALL_OUTCOMES[int(r() * len(CALL_OUTCOMES))]
                duration = str(1 + int(r() * 40)) if outcome == "connected" else "0"
            elif kind == "meeting":
                ends = ts(occurred + (30, 60, 60, 90, 120)[int(r() * 5)] * 60)
                location = MEETING_PLACES[int(r() * len(MEETING_PLACES))]
                remind = "15" if r() < 0.5 else NULL
            elif kind == "task":
                age = now - occurred
                status = "done" if age > 14 * 86_400 and r() < 0.9 else ("open" if r() < 0.85 else "cancelled")
                completed = ts(occurred + r() * min(age, 3 * 86_400)) if status == "done" else NULL
                priority = ("low", "normal", "normal", "high")[int(r() * 4)]
            elif kind == "email":
                direction = "out" if r() < 0.6 else "in"
            created = occurred - (r() * 7 * 86_400 if kind == "task" else 0)
            updated = created + (r() * 86_400 if r() < 0.3 else 0)
            kind_subjects = subjects[kind]
            yield "\t".join((
                str(start + i), kind, kind_subjects[int(r() * len(kind_subjects))], bodies[int(r() * len(bodies))],
                str(acc_start + account) if account >= 0 else NULL,
                str(con_start + contact) if contact >= 0 else NULL,
                ts(occurred), ends, location, direction, outcome, duration, priority, status, completed, remind,
                str(owner_id), str(team_id) if team_id else NULL, "t" if r() < 0.1 else "f",
                ts(created), ts(min(updated, now)), NULL if r() >= 0.002 else ts(min(updated, now)),
            ))
