"""Field service: a ticket becomes a work order, dispatch by skill and territory with the day's load,
the specialist's day list and calendar, work logged on the visit rolling up per ticket, contract and
account, billing through orders and invoices exactly once, visibility and the pages' query budgets."""

import csv
import io
import threading
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Notification, Role
from crm.tests.factories import TerritoryFactory, UserFactory
from exports.models import ExportJob
from sales.models import Invoice, Order
from sales.tests.factories import ProductFactory
from service import contract_services, field_services, services
from service.models import (
    BusinessCalendar,
    Skill,
    SpecialistHours,
    WorkKind,
    WorkLog,
    WorkOrder,
    WorkOrderStatus,
)
from service.tests.factories import agent
from webhooks import events

TODAY = timezone.localdate()


def at(hour: int, day=None) -> datetime:
    return datetime.combine(day or TODAY, time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def field(db, owner):
    europe = TerritoryFactory(name="Europe")
    germany = TerritoryFactory(name="Germany", parent=europe)
    asia = TerritoryFactory(name="Asia")
    lead = UserFactory(email="lead@example.com", first_name="Лидия", role=Role.SUPPORT_LEAD)
    dispatcher = agent(email="dispatcher@example.com", first_name="Дина")
    anna = agent(email="anna@example.com", first_name="Анна")
    boris = agent(email="boris@example.com", first_name="Борис")
    chen = agent(email="chen@example.com", first_name="Chen")
    anna.territories.set([germany])
    boris.territories.set([europe])  # covers Germany through its parent region
    chen.territories.set([asia])
    labour = ProductFactory(name="Выезд инженера, час", default_price=Decimal("3000.00"), tax_rate=Decimal(20),
                            currency="RUB", unit="h")
    printers = Skill.objects.create(name="Принтеры", labour_product=labour)
    printers.specialists.set([anna, boris, chen])
    network = Skill.objects.create(name="Сети")
    network.specialists.set([boris])
    account = AccountFactory(owner=owner, name="ООО «Вектор»", territory=germany,
                             shipping_address="Berlin, Unter den Linden 1")
    contact = ContactFactory(owner=owner, account=account, first_name="Пётр", last_name="Смирнов",
                             phones=["+79166383811"])
    ticket = services.ticket_create(actor=dispatcher, subject="Принтер жуёт бумагу", contact=contact,
                                    owner=dispatcher)
    cable = ProductFactory(name="Кабель USB", default_price=Decimal("250.00"), tax_rate=Decimal(20),
                           currency="RUB")
    return {"lead": lead, "dispatcher": dispatcher, "anna": anna, "boris": boris, "chen": chen, "printers": printers,
            "network": network, "account": account, "contact": contact, "ticket": ticket, "labour": labour,
            "cable": cable}


def dispatched(field, specialist=None, hour=10, day=None):
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"],
                                                  skill=field["printers"])
    return field_services.work_order_dispatch(work_order=work_order, actor=field["dispatcher"],
                                              specialist=specialist or field["anna"], starts=at(hour, day),
                                              ends=at(hour + 2, day))


def test_a_ticket_becomes_a_numbered_work_order_with_the_customers_address(field):
    first = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    second = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    assert (first.number, second.number) == (f"WO-{TODAY.year}-0001", f"WO-{TODAY.year}-0002")
    assert first.account == field["account"] and first.contact == field["contact"]
    assert first.address == "Berlin, Unter den Linden 1" and first.status == WorkOrderStatus.NEW
    assert first.owner is None


def test_dispatch_proposes_the_skilled_specialists_of_the_territory_least_loaded_first(field):
    busy = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    field_services.work_order_dispatch(work_order=busy, actor=field["dispatcher"], specialist=field["anna"],
                                       starts=at(9), ends=at(12), skill=field["printers"])
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    candidates = field_services.dispatch_candidates(work_order=work_order, skill=field["printers"], day=TODAY)
    # Chen has the skill but works in Asia; Boris covers Europe, so Germany too, and is free today.
    assert [c.user for c in candidates] == [field["boris"], field["anna"]]
    assert (candidates[1].visits, candidates[1].booked_minutes) == (1, 180)
    assert candidates[0].visits == 0
    # Tomorrow Anna is free; a cancelled visit is no load.
    tomorrow = field_services.dispatch_candidates(work_order=work_order, skill=field["printers"],
                                                  day=TODAY + timedelta(days=1))
    assert all(c.visits == 0 for c in tomorrow)
    wider = field_services.dispatch_candidates(work_order=work_order, skill=field["printers"], day=TODAY,
                                               any_territory=True)
    assert [c.user for c in wider][-1] == field["chen"] and not wider[-1].covers_territory
    networks = field_services.dispatch_candidates(work_order=work_order, skill=field["network"], day=TODAY)
    assert [c.user for c in networks] == [field["boris"]]


def test_dispatch_schedules_the_visit_and_tells_the_specialist(field):
    work_order = dispatched(field)
    assert work_order.status == WorkOrderStatus.SCHEDULED and work_order.owner == field["anna"]
    assert work_order.team_id == field["anna"].team_id
    note = Notification.objects.get(user=field["anna"])
    assert work_order.number in note.text and note.url == work_order.get_absolute_url()


def test_dispatch_refuses_a_specialist_without_the_skill_and_a_backwards_slot(field):
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"],
                                                  skill=field["network"])
    with pytest.raises(ValidationError):
        field_services.work_order_dispatch(work_order=work_order, actor=field["dispatcher"],
                                           specialist=field["anna"], starts=at(10), ends=at(11))
    with pytest.raises(ValidationError):
        field_services.work_order_dispatch(work_order=work_order, actor=field["dispatcher"],
                                           specialist=field["boris"], starts=at(11), ends=at(10))
    assert WorkOrder.objects.get(pk=work_order.pk).status == WorkOrderStatus.NEW


def test_start_and_finish_follow_the_visit(field):
    work_order = dispatched(field)
    with pytest.raises(ValidationError):
        field_services.work_order_cancel(work_order=field_services.work_order_finish(
            work_order=field_services.work_order_start(work_order=work_order, actor=field["anna"]),
            actor=field["anna"]), actor=field["dispatcher"])
    work_order.refresh_from_db()
    assert work_order.status == WorkOrderStatus.DONE and work_order.started_at <= work_order.finished_at
    with pytest.raises(ValidationError):
        field_services.work_order_start(work_order=work_order, actor=field["anna"])


def log_visit(field, work_order):
    field_services.work_order_log(work_order=work_order, actor=field["anna"], kind=WorkKind.TIME, minutes=90,
                                  note="Замена ролика")
    field_services.work_order_log(work_order=work_order, actor=field["anna"], kind=WorkKind.MATERIAL,
                                  product=field["cable"], quantity=Decimal(2))
    field_services.work_order_log(work_order=work_order, actor=field["anna"], kind=WorkKind.EXPENSE,
                                  amount=Decimal("400.00"), currency="RUB", note="Парковка")


def test_work_logged_on_a_visit_rolls_up_per_ticket_contract_and_account(field, client):
    contract = contract_services.contract_create(actor=field["lead"], name="Сервис", account=field["account"],
                                                 starts_on=TODAY - timedelta(days=10),
                                                 ends_on=TODAY + timedelta(days=300))
    ticket = services.ticket_create(actor=field["dispatcher"], subject="Второй принтер", contact=field["contact"])
    assert ticket.contract == contract
    work_order = field_services.work_order_create(ticket=ticket, actor=field["dispatcher"])
    log_visit(field, work_order)
    logs = WorkLog.objects.filter(work_order=work_order)
    assert set(logs.values_list("ticket_id", flat=True)) == {ticket.pk}
    for rollup in (field_services.work_rollup(WorkLog.objects.filter(ticket=ticket)),
                   field_services.work_rollup(WorkLog.objects.filter(ticket__contract=contract)),
                   field_services.work_rollup(WorkLog.objects.filter(ticket__account=field["account"]))):
        assert rollup["minutes"] == 90 and rollup["money"] == {"RUB": Decimal("900.00")}
        assert rollup["unbilled_minutes"] == 90 and rollup["unbilled"] == {"RUB": Decimal("900.00")}
    assert contract_services.usage([contract])[contract.pk] == 1  # a ticket entitlement counts tickets
    client.force_login(field["lead"])
    ticket_page = client.get(ticket.get_absolute_url()).content.decode()
    assert "900" in ticket_page and 'id="ticket-unbilled"' in ticket_page and work_order.number in ticket_page
    assert "900" in client.get(contract.get_absolute_url()).content.decode()
    page = client.get(field["account"].get_absolute_url()).content.decode()
    assert 'id="account-field-work"' in page and work_order.number in page


def test_billing_makes_an_order_and_invoice_of_the_unbilled_work_once(field):
    work_order = dispatched(field)
    log_visit(field, work_order)
    order, invoice = field_services.work_order_bill(work_order=work_order, actor=field["lead"])
    lines = list(order.lines.order_by("position"))
    assert [(line.name, line.quantity, line.unit_price) for line in lines] == [
        ("Выезд инженера, час", Decimal("1.50"), Decimal("3000.00")),
        ("Кабель USB", Decimal("2.00"), Decimal("250.00")),
        ("Парковка", Decimal("1.00"), Decimal("400.00")),
    ]
    # 4500 + 500 net of tax, 20 % on both, and the expense as spent.
    assert order.total == Decimal("6400.00") and invoice.total == order.total
    assert order.owner == field["account"].owner and invoice.order == order and order.account == field["account"]
    assert set(WorkLog.objects.filter(work_order=work_order).values_list("billed_order", flat=True)) == {order.pk}
    with pytest.raises(ValidationError, match="billed already"):
        field_services.work_order_bill(work_order=work_order, actor=field["lead"])
    # New work after billing goes on a new order, alone.
    field_services.work_order_log(work_order=work_order, actor=field["anna"], kind=WorkKind.TIME, minutes=30)
    second, _ = field_services.work_order_bill(work_order=work_order, actor=field["lead"])
    assert second.lines.count() == 1 and Order.objects.count() == 2


def test_billing_refuses_mixed_currencies_and_time_without_a_labour_price(field):
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    field_services.work_order_log(work_order=work_order, actor=field["anna"], kind=WorkKind.TIME, minutes=60)
    with pytest.raises(ValidationError):
        field_services.work_order_bill(work_order=work_order, actor=field["lead"])  # no skill, no labour item
    field_services.work_order_log(work_order=work_order, actor=field["anna"], kind=WorkKind.EXPENSE,
                                  amount=Decimal(10), currency="EUR")
    with pytest.raises(ValidationError, match="currencies"):
        field_services.work_order_bill(work_order=work_order, actor=field["lead"], labour=field["labour"])
    assert not Order.objects.exists() and not WorkLog.objects.filter(billed_order__isnull=False).exists()


def test_dispatch_leaves_the_specialist_time_to_travel_between_visits(field, settings):
    settings.SERVICE_TRAVEL_MINUTES = 30
    first = dispatched(field, hour=10)  # Anna 10:00-12:00
    tight = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"],
                                             skill=field["printers"])
    for starts, ends in ((at(11), at(13)), (at(8) + timedelta(minutes=30), at(9) + timedelta(minutes=45)),
                         (at(12) + timedelta(minutes=15), at(14))):
        with pytest.raises(ValidationError, match=rf"{first.number} from 10:00 to 12:00; visits need 30 minutes"):
            field_services.work_order_dispatch(work_order=tight, actor=field["dispatcher"], specialist=field["anna"],
                                               starts=starts, ends=ends)
    assert WorkOrder.objects.get(pk=tight.pk).status == WorkOrderStatus.NEW
    # Exactly the travel time after, another specialist, or the same visit moved: all fine.
    field_services.work_order_dispatch(work_order=tight, actor=field["dispatcher"], specialist=field["anna"],
                                       starts=at(12) + timedelta(minutes=30), ends=at(14))
    field_services.work_order_dispatch(work_order=first, actor=field["dispatcher"], specialist=field["anna"],
                                       starts=at(9), ends=at(11) + timedelta(minutes=30))
    third = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    field_services.work_order_dispatch(work_order=third, actor=field["dispatcher"], specialist=field["boris"],
                                       starts=at(10), ends=at(12))
    # A cancelled visit frees its time.
    field_services.work_order_cancel(work_order=tight, actor=field["dispatcher"])
    fourth = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    field_services.work_order_dispatch(work_order=fourth, actor=field["dispatcher"], specialist=field["anna"],
                                       starts=at(13), ends=at(14))


def test_dispatch_keeps_visits_within_the_specialists_working_hours(client, field):
    calendar = BusinessCalendar.objects.create(name="Смена 9–17", time_zone=timezone.get_current_timezone_name(),
                                               work_days=[0, 1, 2, 3, 4, 5, 6], opens_at=time(9), closes_at=time(17))
    client.force_login(field["lead"])
    response = client.post(reverse("service:setup_new", args=["field-hours"]),
                           {"specialist": field["anna"].pk, "calendar": calendar.pk})
    assert response.status_code == 302 and SpecialistHours.objects.get().specialist == field["anna"]
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"],
                                                  skill=field["printers"])
    for starts, ends in ((at(8), at(10)), (at(16), at(18))):
        with pytest.raises(ValidationError, match="works Смена 9–17: the visit is outside those hours"):
            field_services.work_order_dispatch(work_order=work_order, actor=field["dispatcher"],
                                               specialist=field["anna"], starts=starts, ends=ends)
    # Boris has no working hours set: any time. Anna within hours: fine.
    field_services.work_order_dispatch(work_order=work_order, actor=field["dispatcher"], specialist=field["boris"],
                                       starts=at(7), ends=at(8))
    field_services.work_order_dispatch(work_order=work_order, actor=field["dispatcher"], specialist=field["anna"],
                                       starts=at(9), ends=at(17))
    # A holiday of her calendar is a day off.
    calendar.holidays.create(date=TODAY + timedelta(days=1), name="Праздник")
    other = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"],
                                             skill=field["printers"])
    with pytest.raises(ValidationError, match="outside those hours"):
        field_services.work_order_dispatch(work_order=other, actor=field["dispatcher"], specialist=field["anna"],
                                           starts=at(10, TODAY + timedelta(days=1)),
                                           ends=at(11, TODAY + timedelta(days=1)))


def test_the_dispatch_page_says_why_a_slot_is_refused(client, field):
    first = dispatched(field, hour=10)
    work_order = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"],
                                                  skill=field["printers"])
    client.force_login(field["dispatcher"])
    response = client.post(reverse("service:work_order_dispatch", args=[work_order.pk]), {
        "skill": field["printers"].pk, "day": TODAY.isoformat(), "specialist": field["anna"].pk,
        "starts": "11:00", "ends": "12:30", "dispatch": "1"}, follow=True)
    assert f"{first.number} from 10:00 to 12:00" in response.content.decode()
    assert WorkOrder.objects.get(pk=work_order.pk).owner is None


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_booking_one_specialist_at_once_cannot_double_book(field, monkeypatch):
    """Both dispatch Anna for 10:00 at the same moment. The specialist's row is locked before the check, so
    the second waits for the first and is refused; without the lock both pass the check and both book."""
    orders = [field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"],
                                               skill=field["printers"]) for _ in range(2)]
    both_checked = threading.Barrier(2, timeout=3)
    notify = field_services._notify

    def notify_after_both_checked(*args, **kwargs):
        try:
            both_checked.wait()  # with the lock the other one never gets here before this one commits
        except threading.BrokenBarrierError:
            pass
        return notify(*args, **kwargs)

    monkeypatch.setattr(field_services, "_notify", notify_after_both_checked)
    outcomes = []

    def book(work_order):
        try:
            field_services.work_order_dispatch(work_order=work_order, actor=field["dispatcher"],
                                               specialist=field["anna"], starts=at(10), ends=at(12))
            outcomes.append("booked")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(work_order,)) for work_order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "refused"]
    assert WorkOrder.objects.filter(owner=field["anna"], status=WorkOrderStatus.SCHEDULED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_billing_twice_at_once_bills_once(field, monkeypatch):
    """Two billers read the same unbilled logs before either claims them: one order wins, the other
    rolls back whole. Without the compare-and-set claim (billed_order IS NULL) both orders survive."""
    work_order = dispatched(field)
    log_visit(field, work_order)
    both_read = threading.Barrier(2, timeout=10)
    priced = field_services._priced_lines

    def priced_after_both_read(logs, labour):
        both_read.wait()
        return priced(logs, labour)

    monkeypatch.setattr(field_services, "_priced_lines", priced_after_both_read)
    outcomes = []

    def bill():
        try:
            field_services.work_order_bill(work_order=work_order, actor=field["lead"])
            outcomes.append("billed")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=bill) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["billed", "refused"]
    assert Order.objects.count() == 1 and Invoice.objects.count() == 1
    assert WorkLog.objects.filter(billed_order=Order.objects.get()).count() == 3


def test_the_webhook_events_are_registered():
    for name in ("created", "scheduled", "started", "completed", "cancelled", "billed"):
        assert events.is_registered(f"work_order.{name}")


# --- Pages ---------------------------------------------------------------------------------------


def test_one_click_from_the_ticket_then_dispatch_from_the_proposals(client, field):
    client.force_login(field["dispatcher"])
    response = client.post(reverse("service:work_order_create", args=[field["ticket"].pk]))
    work_order = WorkOrder.objects.get()
    assert response.url == reverse("service:work_order_dispatch", args=[work_order.pk])
    page = client.get(response.url, {"skill": field["printers"].pk, "day": TODAY.isoformat()}).content.decode()
    assert "Борис" in page and "Анна" in page and "Chen" not in page
    # Somebody not proposed cannot be sent, even by a hand-made request.
    refused = client.post(response.url, {"dispatch": "1", "skill": field["printers"].pk, "day": TODAY.isoformat(),
                                         "specialist": field["chen"].pk, "starts": "10:00", "ends": "12:00"})
    assert refused.status_code == 200 and WorkOrder.objects.get().owner is None
    sent = client.post(response.url, {"dispatch": "1", "skill": field["printers"].pk, "day": TODAY.isoformat(),
                                      "specialist": field["anna"].pk, "starts": "10:00", "ends": "12:00"})
    assert sent.url == work_order.get_absolute_url()
    work_order.refresh_from_db()
    assert work_order.owner == field["anna"] and timezone.localtime(work_order.scheduled_start).hour == 10


def test_the_day_list_shows_the_specialists_visits_in_order_with_buttons(client, field):
    late = dispatched(field, hour=14)
    early = dispatched(field, hour=9)
    dispatched(field, specialist=field["boris"], hour=11)  # not Anna's
    dispatched(field, hour=9, day=TODAY + timedelta(days=1))  # not today
    client.force_login(field["anna"])
    page = client.get(reverse("service:my_day")).content.decode()
    assert page.index(early.number) < page.index(late.number)
    assert page.count('<li class="card mb-3" id="visit-') == 2
    assert "+79166383811" in page and field["ticket"].number in page and "Unter den Linden" in page
    here = reverse("service:my_day")
    client.post(reverse("service:work_order_action", args=[early.pk, "start"]), {"next": here})
    response = client.post(reverse("service:work_order_log", args=[early.pk]),
                           {"kind": "time", "minutes": "45", "next": here})
    assert response.url == here
    client.post(reverse("service:work_order_action", args=[early.pk, "finish"]), {"next": here})
    early.refresh_from_db()
    assert early.status == WorkOrderStatus.DONE and early.work_logs.get().minutes == 45


def test_a_specialist_outside_the_desk_works_their_own_visit_only(client, field, outsider):
    """A rep sent on a visit (say, a sales engineer) sees and works it, and nothing else of the desk."""
    skill = field["printers"]
    skill.specialists.add(outsider)
    mine = field_services.work_order_create(ticket=field["ticket"], actor=field["dispatcher"])
    field_services.work_order_dispatch(work_order=mine, actor=field["dispatcher"], specialist=outsider,
                                       starts=at(10), ends=at(11), skill=skill)
    other = dispatched(field)
    client.force_login(outsider)
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.post(reverse("service:work_order_log", args=[other.pk]), {"kind": "time", "minutes": 5}
                       ).status_code == 404
    client.post(reverse("service:work_order_log", args=[mine.pk]), {"kind": "time", "minutes": 5})
    assert mine.work_logs.count() == 1
    assert client.get(reverse("service:work_order_dispatch", args=[mine.pk])).status_code == 403
    assert client.post(reverse("service:work_order_bill", args=[mine.pk])).status_code == 403


@pytest.mark.parametrize("name", ["service:work_order_detail", "service:work_order_dispatch"])
def test_an_outsider_gets_404(client, field, outsider, name):
    work_order = dispatched(field)
    client.force_login(outsider)
    assert client.get(reverse(name, args=[work_order.pk])).status_code == 404
    for action in ("start", "finish", "cancel"):
        assert client.post(reverse("service:work_order_action", args=[work_order.pk, action])).status_code == 404
    assert client.post(reverse("service:work_order_bill", args=[work_order.pk])).status_code == 404
    assert client.post(reverse("service:work_order_create", args=[field["ticket"].pk])).status_code == 404
    assert work_order.number not in client.get(reverse("service:work_order_list"), {"view": ""}).content.decode()


def test_the_customers_rep_reads_the_visit_but_cannot_change_or_bill_it(client, field, owner):
    work_order = dispatched(field)
    client.force_login(owner)
    assert client.get(work_order.get_absolute_url()).status_code == 200
    assert work_order.number in client.get(reverse("service:work_order_list")).content.decode()
    assert client.post(reverse("service:work_order_action", args=[work_order.pk, "cancel"])).status_code == 403
    assert client.post(reverse("service:work_order_bill", args=[work_order.pk])).status_code == 403


def test_billing_from_the_page_by_the_lead_only(client, field):
    work_order = dispatched(field)
    log_visit(field, work_order)
    client.force_login(field["anna"])
    assert client.post(reverse("service:work_order_bill", args=[work_order.pk])).status_code == 403
    client.force_login(field["lead"])
    page = client.get(work_order.get_absolute_url()).content.decode()
    assert 'id="bill-form"' in page
    client.post(reverse("service:work_order_bill", args=[work_order.pk]), {"labour": field["labour"].pk})
    order = Order.objects.get()
    page = client.get(work_order.get_absolute_url()).content.decode()
    assert order.number in page and 'id="bill-form"' not in page


def test_the_visit_is_on_the_specialists_calendar_and_feed(client, field):
    work_order = dispatched(field)
    client.force_login(field["anna"])
    page = client.get(reverse("calendar"), {"view": "day", "date": TODAY.isoformat()}).content.decode()
    assert work_order.number in page and "cal-kind-work-order" in page
    feed = client.get(reverse("calendar_feed", args=[field["anna"].calendar_token])).content.decode()
    assert f"work-order-{work_order.pk}@crm" in feed and "Unter den Linden" in feed
    client.force_login(field["boris"])
    page = client.get(reverse("calendar"), {"view": "day", "date": TODAY.isoformat()}).content.decode()
    assert work_order.number not in page


def test_skills_are_kept_on_the_desk_set_up_pages(client, field):
    client.force_login(field["lead"])
    assert "Принтеры" in client.get(reverse("service:setup", args=["skills"])).content.decode()
    response = client.post(reverse("service:setup_new", args=["skills"]),
                           {"name": "Кассы", "specialists": [field["anna"].pk]})
    assert response.status_code == 302
    assert list(Skill.objects.get(name="Кассы").specialists.all()) == [field["anna"]]
    client.force_login(field["anna"])
    assert client.get(reverse("service:setup_new", args=["skills"])).status_code == 403  # agents read set-up only


@pytest.mark.parametrize("rows", [1, 50])
def test_query_counts_do_not_grow_with_rows(client, field, rows, django_assert_max_num_queries):
    # Three visits a day (with the travel time between them), over as many days as it takes.
    work_orders = [dispatched(field, hour=8 + 3 * (n % 3), day=TODAY + timedelta(days=n // 3)) for n in range(rows)]
    for work_order in work_orders[:3]:
        log_visit(field, work_order)
    client.force_login(field["lead"])
    # Measured: list 8 (11 on the session's first request, which renews the session), work order 8,
    # dispatch 10, week calendar 6, day list 7, whatever the rows.
    with django_assert_max_num_queries(12):
        assert client.get(reverse("service:work_order_list")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(work_orders[0].get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("service:work_order_dispatch", args=[work_orders[0].pk])).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("calendar"), {"view": "week"}).status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(field["ticket"].get_absolute_url()).status_code == 200
    client.force_login(field["anna"])
    with django_assert_max_num_queries(11):  # the session's first request again
        assert client.get(reverse("service:my_day")).status_code == 200


def test_the_api_lists_visible_work_orders_with_their_logs(client, field, outsider):
    work_order = dispatched(field)
    log_visit(field, work_order)
    client.force_login(field["anna"])
    body = client.get("/api/work-orders/").json()
    assert [row["number"] for row in body["results"]] == [work_order.number]
    assert len(body["results"][0]["work_logs"]) == 3
    client.force_login(outsider)
    assert client.get("/api/work-orders/").json()["results"] == []
    assert client.get(f"/api/work-orders/{work_order.pk}/").status_code == 404


def test_the_export_has_the_rows_the_user_sees_with_the_lists_filters(client, field, outsider, settings, tmp_path,
                                                                      django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    annas, boris = dispatched(field), dispatched(field, specialist=field["boris"])
    hidden_ticket = services.ticket_create(actor=field["dispatcher"], subject="Чужой клиент",
                                           account=AccountFactory(owner=outsider))
    field_services.work_order_create(ticket=hidden_ticket, actor=field["dispatcher"])
    client.force_login(field["account"].owner)  # the customer's rep reads its visits
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:start"), {"target": "service.workorder", "query": "",
                                                          "format": "csv"})
    job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    body = b"".join(client.get(reverse("exports:download", args=[job.pk])).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["ID", "Number", "Ticket"]
    assert sorted(row[1] for row in rows[1:]) == sorted([annas.number, boris.number])  # not the outsider's
    client.force_login(field["lead"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:start"), {"target": "service.workorder",
                                                          "query": f"q={boris.number}", "format": "csv"})
    job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    body = b"".join(client.get(reverse("exports:download", args=[job.pk])).streaming_content).decode("utf-8-sig")
    assert [row[1] for row in list(csv.reader(io.StringIO(body)))[1:]] == [boris.number]
