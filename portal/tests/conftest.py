import pytest
from django.utils import translation

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from portal.tests.factories import PortalUserFactory
from service import services
from service.tests.factories import PolicyFactory, QueueFactory, agent


@pytest.fixture
def desk(db, owner):
    """A queue with an agent and a lead; two customer companies, each with a contact and a ticket."""
    lead = UserFactory(email="lead@example.com", role=Role.SUPPORT_LEAD)
    worker = agent(email="worker@example.com", first_name="Анна")
    queue = QueueFactory(lead=lead, is_default=True, name="Первая линия")
    queue.members.set([worker])
    PolicyFactory(calendar__around_the_clock=True)
    account = AccountFactory(owner=owner, name="ООО «Вектор»")
    contact = ContactFactory(owner=owner, account=account, first_name="Пётр", last_name="Смирнов",
                             emails=["petr@vector.ru"])
    colleague = ContactFactory(owner=owner, account=account, first_name="Ольга", last_name="Иванова",
                               emails=["olga@vector.ru"])
    other_account = AccountFactory(owner=owner, name="ТОВ «Світанок»")
    stranger = ContactFactory(owner=owner, account=other_account, first_name="Тарас", last_name="Коваль",
                              emails=["taras@svitanok.ua"])
    ticket = services.ticket_create(actor=worker, subject="Не печатает принтер", contact=contact, owner=worker)
    colleague_ticket = services.ticket_create(actor=worker, subject="Счёт на оплату", contact=colleague, owner=worker)
    foreign = services.ticket_create(actor=worker, subject="Чужая заявка Світанку", contact=stranger, owner=worker)
    return {"lead": lead, "agent": worker, "queue": queue, "account": account, "contact": contact,
            "colleague": colleague, "stranger": stranger, "ticket": ticket, "colleague_ticket": colleague_ticket,
            "foreign": foreign}


@pytest.fixture
def customer(desk):
    return PortalUserFactory(contact=desk["contact"], email="petr@vector.ru")


@pytest.fixture(autouse=True)
def _language_back_to_english(settings):
    """A request with Accept-Language (the survey page in Russian) leaves its language active in the
    thread; later tests in this worker must start in English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
