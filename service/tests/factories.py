from datetime import time

import factory

from crm.models import Role
from crm.tests.factories import UserFactory
from service.models import BusinessCalendar, Priority, Queue, SlaPolicy


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"Office {n}")
    time_zone = "Europe/London"
    work_days = [0, 1, 2, 3, 4]
    opens_at = time(9)
    closes_at = time(17)


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    priority = Priority.NORMAL
    first_response_minutes = 60
    resolution_minutes = 480
    calendar = factory.SubFactory(CalendarFactory)


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")


def agent(**fields):
    return UserFactory(role=Role.SUPPORT_AGENT, **fields)
