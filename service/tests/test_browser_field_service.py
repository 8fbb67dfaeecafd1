"""Field service driven as a person would, in the system Chromium: the desk sends a specialist from the
ticket page (proposed by skill and territory, with their load that day), the specialist works the visit
from their day list (start, log time and a material, finish) and sees it on their calendar, and the
desk's lead bills the work as an order and an invoice; a slot without time to travel is refused."""

from datetime import datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import TerritoryFactory, UserFactory
from sales.models import Invoice, Order
from sales.tests.factories import ProductFactory
from service import field_services, services
from service.models import BusinessCalendar, Skill, WorkLog, WorkOrder, WorkOrderStatus
from service.tests.factories import agent

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.locator("#user-menu").click()
    page.locator("#sign-out").click()
    page.wait_for_url("**/auth/login/**")


@pytest.fixture
def field(db, owner):
    moscow = TerritoryFactory(name="Москва")
    lead = UserFactory(email="lead@example.com", first_name="Лидия", role=Role.SUPPORT_LEAD)
    anna = agent(email="anna@example.com", first_name="Анна", last_name="Инженер")
    elsewhere = agent(email="far@example.com", first_name="Фёдор", last_name="Далёкий")
    anna.territories.set([moscow])
    labour = ProductFactory(name="Работа инженера, час", default_price=Decimal("3000.00"), tax_rate=Decimal(0),
                            currency="RUB")
    roller = ProductFactory(name="Ролик подачи бумаги", default_price=Decimal("800.00"), tax_rate=Decimal(0),
                            currency="RUB")
    skill = Skill.objects.create(name="Принтеры", labour_product=labour)
    skill.specialists.set([anna, elsewhere])
    account = AccountFactory(owner=owner, name="ООО «Вектор»", territory=moscow,
                             shipping_address="Москва, ул. Тверская, 1")
    contact = ContactFactory(owner=owner, account=account, first_name="Пётр", last_name="Смирнов",
                             phones=["+79166383811"])
    ticket = services.ticket_create(actor=lead, subject="Принтер жуёт бумагу", contact=contact, owner=lead)
    return {"lead": lead, "anna": anna, "skill": skill, "ticket": ticket, "roller": roller}


def test_dispatch_from_the_ticket_work_the_day_list_and_bill(page, field):
    # The lead sends a specialist from the ticket page.
    sign_in(page, field["lead"])
    page.goto(field["ticket"].get_absolute_url())
    page.locator("#make-work-order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Send a specialist")
    page.get_by_label("Skill needed").select_option(label="Принтеры")
    page.locator("#find-specialists").click()
    candidates = page.locator("#candidates")
    expect(candidates).to_contain_text("Анна Инженер")
    expect(candidates).not_to_contain_text("Фёдор")  # has the skill, but not the customer's territory
    page.get_by_label("Анна Инженер").check()
    page.get_by_label("From").fill("10:00")
    page.get_by_label("Until").fill("12:00")
    page.locator("#send-specialist").click()
    expect(page.locator("#work-order-status")).to_have_text("Scheduled")
    expect(page.locator("#work-order-specialist")).to_have_text("Анна Инженер")
    work_order = WorkOrder.objects.get()
    sign_out(page)

    # The specialist finds the visit on the calendar and works it from the day list.
    sign_in(page, field["anna"])
    page.goto("/calendar/?view=day")
    expect(page.locator("#calendar")).to_contain_text(work_order.number)
    page.locator("#service-menu").click()
    page.get_by_role("link", name="My visits").click()
    visit = page.locator(f"#visit-{work_order.pk}")
    expect(visit).to_contain_text("Тверская")
    expect(visit).to_contain_text("+79166383811")
    visit.get_by_role("button", name="Start").click()
    expect(page.locator(f"#visit-{work_order.pk}-status")).to_have_text("In progress")
    form = page.locator(f"#log-{work_order.pk}")
    form.get_by_label("What").select_option("time")
    form.get_by_label("Minutes").fill("90")
    form.get_by_label("Note").fill("Замена ролика")
    form.get_by_role("button", name="Log").click()
    expect(page.locator("#toasts")).to_contain_text(f"Work logged on {work_order.number}")
    form = page.locator(f"#log-{work_order.pk}")
    form.get_by_label("What").select_option("material")
    form.get_by_label("Product").select_option(label=str(field["roller"]))
    form.get_by_label("Quantity").fill("1")
    form.get_by_role("button", name="Log").click()
    expect(page.locator("#toasts")).to_contain_text(f"Work logged on {work_order.number}")
    page.locator(f"#visit-{work_order.pk}").get_by_role("button", name="Finish").click()
    expect(page.locator(f"#visit-{work_order.pk}-status")).to_have_text("Done")
    assert WorkLog.objects.filter(work_order=work_order).count() == 2
    sign_out(page)

    # The lead bills the work: an order and an invoice for the customer's rep.
    sign_in(page, field["lead"])
    page.goto(work_order.get_absolute_url())
    expect(page.locator("#unbilled-count")).to_contain_text("2 entries not billed")
    page.locator("#bill-work").click()
    order = Order.objects.get()
    invoice = Invoice.objects.get()
    expect(page.locator("#toasts")).to_contain_text(order.number)
    expect(page.locator("#toasts")).to_contain_text(invoice.number)
    expect(page.locator("#billed-orders")).to_contain_text(order.number)
    expect(page.locator("#bill-form")).to_have_count(0)
    assert order.total == Decimal("5300.00")  # 1.5 h × 3000 + the roller, 800
    assert WorkOrder.objects.get().status == WorkOrderStatus.DONE
    assert page.console_errors == []


def test_dispatch_refuses_a_slot_without_time_to_travel(page, field, settings):
    """Anna is at another customer 10:00–12:00: a visit at 12:15 is refused with the reason; 12:30 goes."""
    settings.SERVICE_TRAVEL_MINUTES = 30
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    busy = field_services.work_order_create(ticket=field["ticket"], actor=field["lead"], skill=field["skill"])
    field_services.work_order_dispatch(work_order=busy, actor=field["lead"], specialist=field["anna"],
                                       starts=datetime.combine(today, time(10), tzinfo=zone),
                                       ends=datetime.combine(today, time(12), tzinfo=zone))
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["lead"], skill=field["skill"])
    sign_in(page, field["lead"])
    page.goto(f"/service/work-orders/{work_order.pk}/dispatch/")
    page.wait_for_load_state("load")
    page.get_by_label("Анна Инженер").check()
    page.get_by_label("From").fill("12:15")
    page.get_by_label("Until").fill("13:00")
    page.locator("#send-specialist").click()
    expect(page.locator("#toasts")).to_contain_text(f"{busy.number} from 10:00 to 12:00")
    assert WorkOrder.objects.get(pk=work_order.pk).status == WorkOrderStatus.NEW
    page.get_by_label("Анна Инженер").check()
    page.get_by_label("From").fill("12:30")
    page.get_by_label("Until").fill("13:30")
    page.locator("#send-specialist").click()
    expect(page.locator("#work-order-status")).to_have_text("Scheduled")
    assert page.console_errors == [], page.failed_requests


def test_the_lead_sets_working_hours_and_dispatch_keeps_to_them(page, field):
    BusinessCalendar.objects.create(name="Смена 9–17", time_zone=timezone.get_current_timezone_name(),
                                    work_days=[0, 1, 2, 3, 4, 5, 6], opens_at=time(9), closes_at=time(17))
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["lead"], skill=field["skill"])
    sign_in(page, field["lead"])
    page.goto("/service/setup/field-hours/new/")
    page.wait_for_load_state("load")
    page.get_by_label("Specialist").select_option(label="Анна Инженер")
    page.get_by_label("Working hours").select_option(label="Смена 9–17")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Смена 9–17")
    page.goto(f"/service/work-orders/{work_order.pk}/dispatch/")
    page.wait_for_load_state("load")
    page.get_by_label("Анна Инженер").check()
    page.get_by_label("From").fill("07:00")
    page.get_by_label("Until").fill("08:00")
    page.locator("#send-specialist").click()
    expect(page.locator("#toasts")).to_contain_text("the visit is outside those hours")
    page.get_by_label("Анна Инженер").check()
    page.get_by_label("From").fill("09:00")
    page.get_by_label("Until").fill("10:00")
    page.locator("#send-specialist").click()
    expect(page.locator("#work-order-status")).to_have_text("Scheduled")
    assert page.console_errors == [], page.failed_requests
