import factory

from contacts.models import Contact
from crm.tests.factories import UserFactory


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda contact: contact.owner.team)
    emails = factory.LazyAttribute(lambda c: [f"{c.first_name}.{c.last_name}@example.com".lower()])
    phones = factory.Sequence(lambda n: [f"+44207946{n % 10000:04d}"])
