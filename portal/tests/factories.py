import factory
from django.contrib.auth.hashers import make_password

from contacts.tests.factories import ContactFactory
from portal.models import PortalUser

PORTAL_PASSWORD = "портал-пароль-2026"


class PortalUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalUser

    contact = factory.SubFactory(ContactFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.ru")
    password = factory.LazyFunction(lambda: make_password(PORTAL_PASSWORD))
