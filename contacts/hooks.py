"""What contacts answer when other modules ask (crm/hooks.py)."""

from django.utils.translation import ngettext

from contacts.models import Contact
from crm import hooks


@hooks.subscribe(hooks.ACCOUNT_GROUP_FIGURES)
def group_contacts(*, account_ids, user, **_kwargs) -> list[str]:
    count = Contact.objects.visible_to(user).filter(account_id__in=account_ids).count()
    return [ngettext("%(count)s contact", "%(count)s contacts", count) % {"count": count}]
