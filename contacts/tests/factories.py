import factory

from contacts.models import Contact, Lead
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


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    email = factory.LazyAttribute(lambda lead: f"{lead.first_name}.{lead.last_name}@example.org".lower())
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda lead: lead.owner.team if lead.owner else None)
