import factory

from accounts.models import Account, AccountType
from crm.tests.factories import UserFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")
    type = AccountType.CUSTOMER
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda account: account.owner.team)
    phone = factory.Faker("phone_number")
