"""Every dashboard by e-mail (reports/subscribable.py): one e-mail per period for each kind, its tables in the
body and attached (CSV, or XLSX), as the subscriber may see them when it is sent; who may subscribe to what."""

import csv
import datetime
import io

import pytest
from django.core import mail
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from crm import scheduler
from reports import scheduling, subscribable
from reports.models import ReportDelivery, ReportSubscription
from reports.tests.data import at, deal
from sales.tests.factories import PipelineFactory
from service.models import Category, Channel, Status, Ticket

pytestmark = pytest.mark.django_db


def subscribe(user, dashboard, query="period=quarter", attachment="csv"):
    return scheduling.report_subscribe(user=user, query=query, frequency="daily", base_url="https://crm.example/",
                                       dashboard=dashboard, attachment=attachment)


def due(subscription):
    now = timezone.now()
    ReportSubscription.objects.filter(pk=subscription.pk).update(next_run_at=now - datetime.timedelta(minutes=1))
    return now


def rows(message):
    [(name, content, mimetype)] = message.attachments
    assert name.endswith(".csv") and mimetype == "text/csv"
    return list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))


def tickets(owner, outsider):
    mine, theirs = AccountFactory(owner=owner, name="Своя"), AccountFactory(owner=outsider, name="Чужая")
    for number, (account, category) in enumerate([(mine, Category.COMPLAINT), (mine, Category.INCIDENT),
                                                  (theirs, Category.COMPLAINT), (theirs, Category.COMPLAINT)]):
        Ticket.objects.create(number=f"T-{number}", subject="Сломалось", account=account, category=category,
                              channel=Channel.EMAIL, status=Status.OPEN)


def send_once(subscription):
    now = due(subscription)
    assert scheduler.tick(now=now)["report_subscriptions"] == 1
    assert scheduler.tick(now=now)["report_subscriptions"] == 0  # the same slot: nothing more
    [message] = mail.outbox
    assert ReportDelivery.objects.filter(subscription=subscription).count() == 1
    return message


def test_the_service_dashboard_goes_once_with_what_the_subscriber_may_see(owner, outsider, executive):
    tickets(owner, outsider)
    message = send_once(subscribe(owner, "service", "period=month&by=category&start=2020-01-01"))
    table = rows(message)
    assert table[0][:3] == ["Category", "Opened", f"Opened {scheduling_period('month').previous().label}"]
    total = next(row for row in table if row[0] == "Total")
    assert total[1:3] == ["2", "0"] and total[7] == "1"  # the rep's customer: two tickets, one complaint
    assert "Своя" in message.body and "Чужая" not in message.body
    assert "https://crm.example/reports/service/?period=month&by=category" in message.body
    assert message.subject.startswith("Service, ")
    assert not any(row and row[0] == "Satisfaction (CSAT)" for row in table)  # the desk's figures only

    mail.outbox.clear()
    total = next(row for row in rows(send_once(subscribe(executive, "service"))) if row[0] == "Total")
    assert total[1] == "4" and total[7] == "3"


def scheduling_period(kind):
    from reports.pipeline import Period

    return Period.containing(kind, timezone.localdate())


def test_the_sales_analysis_goes_once(owner):
    pipeline = PipelineFactory()
    deal(pipeline, owner, "Won", "1500.00", closed_at=at(timezone.localdate()))
    message = send_once(subscribe(owner, "analysis", "period=quarter&by=owner"))
    table = rows(message)
    assert table[0][0] == "Owner"
    assert [row for row in table if row[:3] == [str(owner), "1", "1500.00"]]
    assert "1,500.00" in message.body


def test_the_lead_sources_go_once(owner):
    from sales.tests.factories import LeadFactory

    LeadFactory(owner=owner, source="web")
    message = send_once(subscribe(owner, "sources", "period=month"))
    table = rows(message)
    assert table[0][:2] == ["Lead source", "Leads"]
    assert next(row for row in table if row[0] == "Total")[1] == "1"


def test_the_customers_dashboard_goes_once_as_xlsx(owner):
    from openpyxl import load_workbook

    AccountFactory(owner=owner)
    subscription = subscribe(owner, "customers", "owner=&period=year&start=2020-01-01&pipeline=3", attachment="xlsx")
    assert subscription.query == "period=year"  # its own filters that are set; never start, nor another page's
    message = send_once(subscription)
    [(name, content, _mimetype)] = message.attachments
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert [cell.value for cell in next(sheet.iter_rows())][:2] == ["ABC class", "Accounts"]
    assert "ABC class" in message.body
    assert "Purchases: Product family" in message.body and "Purchases: Region" in message.body


def test_every_registered_dashboard_renders(executive):
    for key, dashboard in subscribable.REGISTRY.items():
        snapshot = dashboard.figures(executive, dashboard_query(key), timezone.localdate())
        assert snapshot.title and snapshot.tables, key
        assert subscribable.to_csv(snapshot).startswith("\ufeff".encode())


def dashboard_query(key):
    from django.http import QueryDict

    return QueryDict("period=month")


def test_a_support_agent_may_have_the_service_dashboard_but_not_the_pipeline(client, support_agent):
    client.force_login(support_agent)
    response = client.post(reverse("report_subscriptions"), {"frequency": "weekly", "dashboard": "service",
                                                             "query": "period=year&by=queue&start=2026-01-01"})
    assert response.status_code == 302
    subscription = ReportSubscription.objects.get()
    assert (subscription.dashboard, subscription.query) == ("service", "period=year&by=queue")
    assert client.post(reverse("report_subscriptions"), {"frequency": "weekly", "dashboard": "pipeline"}
                       ).status_code == 404
    assert client.post(reverse("report_subscriptions"), {"frequency": "weekly", "dashboard": "../admin"}
                       ).status_code == 404
    assert ReportSubscription.objects.count() == 1
    page = client.get(reverse("report_subscriptions")).content.decode()
    assert "Service" in page and "Year" in page and "By: Queue" in page


def test_a_subscriber_who_may_no_longer_read_tickets_gets_nothing(support_agent):
    from crm.models import Role

    subscription = subscribe(support_agent, "service")
    support_agent.role = Role.MARKETER
    support_agent.save(update_fields=["role"])
    assert scheduler.tick(now=due(subscription))["report_subscriptions"] == 0
    assert mail.outbox == []


def test_the_same_filters_on_two_dashboards_are_two_subscriptions(executive):
    subscribe(executive, "service", "period=month")
    subscribe(executive, "sources", "period=month")
    subscribe(executive, "service", "period=month", attachment="xlsx")
    assert sorted(ReportSubscription.objects.values_list("dashboard", "attachment")) == [
        ("service", "xlsx"), ("sources", "csv")]


def test_the_sales_team_dashboard_goes_once_with_the_reps_the_subscriber_may_see(manager, owner, outsider):
    pipeline = PipelineFactory()
    deal(pipeline, owner, "Won", "2500.00", closed_at=at(timezone.localdate()))
    deal(pipeline, outsider, "Won", "9900.00", closed_at=at(timezone.localdate()))
    subscription = subscribe(manager, "team", f"period=quarter&owner={outsider.pk}&idle_days=30&start=2020-01-01")
    assert subscription.query == "period=quarter&idle_days=30"  # another team's rep is dropped, start never kept
    message = send_once(subscription)
    table = rows(message)
    assert table[0][:4] == ["Rep", "Open pipeline", "Weighted", "Won"]
    assert [row for row in table if row[:1] == [str(owner)] and row[3] == "2500.00"]
    assert not [row for row in table if row[:1] == [str(outsider)]]
    assert "9900" not in message.body and "9,900" not in message.body
    assert message.subject.startswith("Sales team, ")


def test_the_marketing_dashboard_goes_once_to_a_marketer_and_not_to_support(marketer, support_agent):
    from marketing.models import Campaign, CampaignCost

    campaign = Campaign.objects.create(name="Весенняя рассылка", owner=marketer)
    CampaignCost.objects.create(campaign=campaign, description="Печать", amount="150.00", created_by=marketer)
    message = send_once(subscribe(marketer, "marketing", "period=month"))
    table = rows(message)
    assert table[0][0] == "Campaign" and table[0][2] == "Leads"
    assert "Весенняя рассылка" in message.body
    assert message.subject.startswith("Marketing, ")
    with pytest.raises(Http404):
        subscribe(support_agent, "marketing")
    assert not ReportSubscription.objects.filter(user=support_agent).exists()
