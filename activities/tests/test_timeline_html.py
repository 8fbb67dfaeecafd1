"""The timeline's lines written in Python (activities/timeline_html.py) are the markup the template loop
wrote, byte for byte: the old loop is kept here and both render the same lines."""

import datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from accounts.tests.factories import AccountFactory
from activities import archive
from activities.models import Activity, ActivityKind, CallOutcome, Direction, TaskStatus
from activities.timeline import FieldChange, TimelineEntry, timeline_page
from activities.timeline_html import render_items
from contacts.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

OLD_LOOP = """{% load i18n %}{% for item in timeline.items %}
    {% if item.is_change %}
    <li class="list-group-item timeline-item timeline-change">
      <div class="d-flex gap-2">
        <i class="bi bi-pencil-square timeline-icon" aria-hidden="true"></i>
        <div class="flex-grow-1 small">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            <span>{% for label, old, new in item.changes %}<strong>{{ label|capfirst }}</strong>: {{ old|default_if_none:"—" }} → {{ new|default_if_none:"—" }}{% if not forloop.last %}; {% endif %}{% endfor %}</span>
            <small class="text-body-secondary text-nowrap"><time datetime="{{ item.occurred_at|date:'c' }}">{{ item.occurred_at|date:"SHORT_DATETIME_FORMAT" }}</time></small>
          </div>
          <div class="text-body-secondary">{{ item.user|default:_("system") }}{% if item.reason %} · {{ item.reason }}{% endif %}</div>
        </div>
      </div>
    </li>
    {% elif item.is_entry %}
    <li class="list-group-item timeline-item timeline-entry">
      <div class="d-flex gap-2">
        <i class="bi bi-{{ item.icon }} timeline-icon" aria-hidden="true"></i>
        <div class="flex-grow-1">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            {% if item.url %}<a href="{{ item.url }}" class="fw-semibold">{{ item.title }}</a>{% else %}<span class="fw-semibold">{{ item.title }}</span>{% endif %}
            <small class="text-body-secondary text-nowrap"><time datetime="{{ item.occurred_at|date:'c' }}">{{ item.occurred_at|date:"SHORT_DATETIME_FORMAT" }}</time></small>
          </div>
          {% if item.detail %}<div class="small text-body-secondary">{{ item.detail }}</div>{% endif %}
        </div>
      </div>
    </li>
    {% else %}
    <li class="list-group-item timeline-item">
      <div class="d-flex gap-2">
        <i class="bi bi-{{ item.icon }} timeline-icon" aria-hidden="true"></i>
        <div class="flex-grow-1">
          <div class="d-flex flex-wrap justify-content-between gap-2">
            <span><a href="{{ item.get_absolute_url }}" class="fw-semibold">{{ item.subject }}</a>{% if item.is_archived %} <span class="badge text-bg-light border">{% trans "Archived" %}</span>{% endif %}</span>
            <small class="text-body-secondary text-nowrap"><time datetime="{{ item.occurred_at|date:'c' }}">{{ item.occurred_at|date:"SHORT_DATETIME_FORMAT" }}</time></small>
          </div>
          <div class="small text-body-secondary">
            {{ item.get_kind_display }}{% if item.direction %} · {{ item.get_direction_display }}{% endif %}{% if item.outcome %} · {{ item.get_outcome_display }}{% endif %}{% if item.status %} · {{ item.get_status_display }}{% endif %}
            · {{ item.owner }}{% if item.contact and item.contact_visible and not hide_contact %} · {{ item.contact }}{% endif %}
          </div>
          {% if item.body %}<div class="small mt-1 text-break">{{ item.body|truncatechars:300|linebreaksbr }}</div>{% endif %}
        </div>
      </div>
    </li>
    {% endif %}
    {% endfor %}"""  # noqa: E501 - the template as it was


@pytest.fixture(autouse=True)
def empty_archive(django_db_blocker):
    from django.db import connection

    def empty():
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_activity_archive")

    empty()
    yield
    empty()


@pytest.fixture
def items(owner, outsider):
    now = timezone.now()
    account = AccountFactory(owner=owner, team=owner.team, name="ООО «<Вектор>»")
    mine = ContactFactory(owner=owner, account=account, first_name="Иван", last_name="<b>Петров</b>")
    hidden = ContactFactory(owner=outsider, account=account, first_name="Скрытый", last_name="Контакт")

    def log(kind, hours, subject, **fields):
        return Activity.objects.create(kind=kind, subject=subject, owner=owner, team=owner.team, account=account,
                                       occurred_at=now - datetime.timedelta(hours=hours), **fields)

    log(ActivityKind.CALL, 1, "Звонок <script>alert(1)</script>", contact=mine, direction=Direction.OUTBOUND,
        outcome=CallOutcome.CONNECTED, body="Первая строка\nвторая & «третья» " + "х" * 400)
    log(ActivityKind.TASK, 2, "Задача", contact=hidden, status=TaskStatus.OPEN)
    log(ActivityKind.NOTE, 3, "Note & more", body="<i>курсив</i>")
    log(ActivityKind.MEETING, 24 * 800, "Старая встреча", contact=mine)
    archive.archive_due()
    found = list(timeline_page(user=owner, account=account).items)
    assert any(getattr(item, "is_archived", False) for item in found)
    found += [
        FieldChange(occurred_at=now - datetime.timedelta(days=1), user=owner,
                    changes=[("owner", "Анна <A>", None), ("type", None, "customer & partner")], reason="Передача"),
        FieldChange(occurred_at=now - datetime.timedelta(days=2), user=None, changes=[("tier", "gold", "silver")]),
        TimelineEntry(occurred_at=now - datetime.timedelta(days=3), icon="envelope-open", title="Открыл «<письмо>»",
                      detail="Marketing & co", url="/marketing/mailings/1/?a=1&b=2"),
        TimelineEntry(occurred_at=now - datetime.timedelta(days=4), icon="cursor", title="Без ссылки"),
    ]
    return found


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
@pytest.mark.parametrize("hide_contact", [False, True])
def test_the_lines_are_the_old_loops_byte_for_byte(items, language, hide_contact):
    with translation.override(language), timezone.override("Europe/Kyiv"):
        old = Template(OLD_LOOP).render(Context({"timeline": {"items": items}, "hide_contact": hide_contact}))
        new = render_items(items, hide_contact=hide_contact)
    assert new == old
    assert "<script>alert" not in new and "Звонок &lt;script&gt;" in new and "Скрытый" not in new
    assert ("&lt;b&gt;Петров&lt;/b&gt;" in new) is not hide_contact


def test_the_panel_and_the_fragment_use_the_python_lines(client, owner, items):
    account = items[0].account
    client.force_login(owner)
    page = client.get(account.get_absolute_url()).content.decode()
    fragment = client.get(reverse("timeline"), {"account": account.pk}, headers={"HX-Request": "true"}).content.decode()
    for body in (page, fragment):
        assert "Звонок &lt;script&gt;alert(1)&lt;/script&gt;" in body and "Старая встреча" in body
